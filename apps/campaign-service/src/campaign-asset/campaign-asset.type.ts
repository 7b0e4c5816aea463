import { GraphQLJSON } from 'graphql-scalars';
import { Field, Float, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { AssetKind } from '../assets/index.js';
import { AssetOrigin, AssetState, CorrectionScope } from './campaign-asset.entity.js';

registerEnumType(AssetKind, { name: 'AssetKind', description: 'The five assets of a campaign, in build order.' });
registerEnumType(AssetState, {
  name: 'AssetState',
  description: 'MISSING (never built), GENERATING, READY, STALE (built on an older version of an asset it depends on), FAILED (the last attempt failed; `error` says why).',
});
registerEnumType(AssetOrigin, { name: 'AssetOrigin', description: 'How a version came to be: generated, or a correction of the given scope.' });
registerEnumType(CorrectionScope, {
  name: 'CorrectionScope',
  description: 'FIELD sets one value; SECTION rewrites one section following instructions; GLOBAL regenerates the asset following instructions.',
});

@ObjectType('AssetSource', { description: 'A passage of the website an asset rests on.' })
export class AssetSourceType {
  @Field({ description: 'The page the quote is on.' })
  url!: string;

  @Field({ description: 'Copied word for word from the page.' })
  quote!: string;
}

@ObjectType('AssetVersionReference', { description: 'A version of an asset another one was built on.' })
export class AssetVersionReferenceType {
  @Field(() => AssetKind)
  kind!: AssetKind;

  @Field(() => Int)
  version!: number;
}

@ObjectType('AssetStatus', { description: 'Where one asset of a campaign stands, and what its current version was built from.' })
export class AssetStatusType {
  @Field(() => AssetKind)
  kind!: AssetKind;

  @Field(() => AssetState)
  state!: AssetState;

  @Field(() => Int, { nullable: true, description: 'The current version (1, 2 …); null while there is none.' })
  version!: number | null;

  @Field(() => Float, { nullable: true, description: '0..1: the provider\'s confidence (offline 0.3) lowered for quotes and claims the website does not support.' })
  confidence!: number | null;

  @Field({ description: 'Confidence below 0.5: worth a look, a correction or a model.' })
  weak!: boolean;

  @Field(() => String, { nullable: true, description: '`openai`, `anthropic`, `openai-compatible`, `offline` (extracted from the website, not AI), or `user`.' })
  provider!: string | null;

  @Field(() => String, { nullable: true })
  model!: string | null;

  @Field(() => String, { nullable: true, description: 'The version of the prompt (task) it was built with.' })
  promptVersion!: string | null;

  @Field(() => Date, { nullable: true, description: 'When the current version was made.' })
  generatedAt!: Date | null;

  @Field(() => AssetOrigin, { nullable: true })
  origin!: AssetOrigin | null;

  @Field(() => [AssetSourceType], { description: 'The website passages it cites; quotes the website does not contain were dropped.' })
  sources!: AssetSourceType[];

  @Field(() => [AssetVersionReferenceType], { description: 'The versions of the assets it was built on.' })
  basedOn!: AssetVersionReferenceType[];

  @Field(() => Date, { nullable: true, description: 'The website analysis its passages came from.' })
  websiteAnalyzedAt!: Date | null;

  @Field(() => Int, { description: 'How many website passages it was given.' })
  passageCount!: number;

  @Field(() => String, {
    nullable: true,
    description: 'The instructions it was generated with (generateAsset, a GLOBAL correction); a rebuild it did not ask for follows them again. A section rewrite\'s are on its correction.',
  })
  instructions!: string | null;

  @Field(() => [String], { description: 'What to know about this version: notes not applied, quotes dropped, claims the website does not support.' })
  warnings!: string[];

  @Field(() => String, { nullable: true, description: 'Why the last attempt failed (state FAILED).' })
  error!: string | null;

  @Field(() => String, { nullable: true, description: 'What made it STALE.' })
  staleReason!: string | null;
}

@ObjectType('Correction', { description: 'A correction you made to an asset.' })
export class CorrectionType {
  @Field(() => ID)
  id!: string;

  @Field(() => AssetKind)
  kind!: AssetKind;

  @Field(() => CorrectionScope)
  scope!: CorrectionScope;

  @Field(() => String, { nullable: true })
  fieldPath!: string | null;

  @Field(() => GraphQLJSON, { nullable: true, description: 'The value set (FIELD).' })
  value!: unknown;

  @Field(() => String, { nullable: true })
  instructions!: string | null;

  @Field(() => Int, { description: 'The version corrected.' })
  beforeVersion!: number;

  @Field(() => Int, { description: 'The version the correction made.' })
  afterVersion!: number;

  @Field(() => [AssetKind], { description: 'The assets it made STALE.' })
  staleKinds!: AssetKind[];

  @Field({ description: 'When it was made.' })
  createdAt!: Date;
}
