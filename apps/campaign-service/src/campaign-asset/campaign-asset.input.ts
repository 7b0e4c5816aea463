import { GraphQLJSON } from 'graphql-scalars';
import { Field, ID, InputType } from 'type-graphql';
import { AssetKind } from '../assets/index.js';
import { CorrectionScope } from './campaign-asset.entity.js';

@InputType({ description: 'A correction of one asset. Every asset built on it becomes STALE.' })
export class CorrectAssetInput {
  @Field(() => ID)
  campaignId!: string;

  @Field(() => AssetKind)
  kind!: AssetKind;

  @Field(() => CorrectionScope, { defaultValue: CorrectionScope.FIELD })
  scope!: CorrectionScope;

  @Field(() => String, {
    nullable: true,
    description: 'FIELD and SECTION: the field, e.g. `keyFeatures[2]`, `firmographics.industries`, `emails[0].subject` (a list position equal to its length appends).',
  })
  fieldPath?: string | null;

  @Field(() => GraphQLJSON, { nullable: true, description: 'FIELD: the value to set, validated against the asset\'s schema; null clears a field that may be empty.' })
  value?: unknown;

  @Field(() => String, { nullable: true, description: 'SECTION and GLOBAL: what to change, at most 4000 characters. Needs a language model.' })
  instructions?: string | null;

  @Field(() => Boolean, { defaultValue: false, description: 'Regenerate the assets this correction makes STALE, in the same call.' })
  regenerateStale!: boolean;
}
