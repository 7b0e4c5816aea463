import { Field, Float, ObjectType } from 'type-graphql';
import { BuyingSignalType, TargetPersonaType } from '../campaign-asset/asset-content.type.js';
import { AssetSourceType, AssetVersionReferenceType } from '../campaign-asset/campaign-asset.type.js';

@ObjectType('Icp', { description: 'The legacy consolidated ideal customer profile, assembled from a campaign\'s product overview, target company, target persona and positioning.' })
export class IcpType {
  @Field()
  websiteUrl!: string;

  /** Resolved by IcpResolver.campaign. */
  campaignId!: string;

  @Field()
  companyName!: string;

  @Field({ description: 'What the product does and for whom.' })
  productDescription!: string;

  @Field({ description: 'The target segment in a few words.' })
  segment!: string;

  @Field()
  segmentDescription!: string;

  @Field(() => [String])
  industries!: string[];

  @Field(() => String, { nullable: true })
  employeeRange!: string | null;

  @Field(() => String, { nullable: true })
  revenueRange!: string | null;

  @Field(() => [String])
  geographies!: string[];

  @Field(() => String, { nullable: true })
  businessModel!: string | null;

  @Field(() => String, { nullable: true })
  fundingStage!: string | null;

  @Field(() => [String])
  keywords!: string[];

  @Field(() => [BuyingSignalType])
  buyingSignals!: BuyingSignalType[];

  @Field(() => [String])
  disqualifiers!: string[];

  @Field(() => [String], { description: 'The product\'s pain points and the persona\'s, each once.' })
  painPoints!: string[];

  @Field(() => TargetPersonaType, { description: 'The buyer persona: the campaign\'s target persona.' })
  persona!: TargetPersonaType;

  @Field(() => [String], { description: 'The positioning\'s value propositions, strongest first, as "theme: description".' })
  valuePropositions!: string[];

  @Field(() => [String])
  differentiators!: string[];

  @Field()
  rationale!: string;

  @Field(() => Float, { description: 'The lowest confidence of the assets it is built from.' })
  confidence!: number;

  @Field(() => [AssetVersionReferenceType], { description: 'The asset versions it is assembled from.' })
  basedOn!: AssetVersionReferenceType[];

  @Field(() => [AssetSourceType], { description: 'The website passages those assets cite.' })
  sources!: AssetSourceType[];
}
