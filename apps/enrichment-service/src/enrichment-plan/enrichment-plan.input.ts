import { Field, InputType } from 'type-graphql';

// Names carry "Targeting" so that they cannot collide with campaign-service's own inputs in the supergraph.
@InputType('TargetingBuyingSignalInput', { description: 'A buying signal the campaign watches for.' })
export class TargetingBuyingSignalInput {
  @Field({ description: 'Free text or enum-like: HIRING, funding round, new VP of Sales, website visits … Up to 200 characters.' })
  type!: string;

  @Field(() => String, { nullable: true, description: 'HIGH, MEDIUM or LOW; anything else counts as MEDIUM.' })
  priority?: string | null;
}

@InputType('CampaignTargetingInput', {
  description: 'Who a campaign targets, shaped like a Campaign’s targetCompany (firmographics, buying signals) and targetPersona. Every field is optional.',
})
export class CampaignTargetingInput {
  @Field(() => [String], { nullable: true, description: 'At most 50.' })
  industries?: string[] | null;

  @Field(() => String, { nullable: true, description: 'e.g. 51-200, 200+, 1,000–5,000 employees, or words (SMB); at most 10,000,000 employees.' })
  employeeRange?: string | null;

  @Field(() => String, { nullable: true, description: 'e.g. $10M-$50M, under $5M, 1B+; at most 10 trillion USD.' })
  revenueRange?: string | null;

  @Field(() => [String], { nullable: true, description: 'Countries or regions; European ones make the plan prefer GDPR-friendly sources for personal data. At most 100.' })
  geographies?: string[] | null;

  @Field(() => String, { nullable: true, description: 'e.g. B2B SaaS.' })
  businessModel?: string | null;

  @Field(() => String, { nullable: true, description: 'e.g. Series A-B.' })
  fundingStage?: string | null;

  @Field(() => [String], { nullable: true, description: 'At most 50.' })
  keywords?: string[] | null;

  @Field(() => [TargetingBuyingSignalInput], { nullable: true, description: 'At most 30.' })
  buyingSignals?: TargetingBuyingSignalInput[] | null;

  @Field(() => [String], { nullable: true, description: 'The persona’s job titles; at most 50.' })
  jobTitles?: string[] | null;

  @Field(() => [String], { nullable: true, description: 'At most 30.' })
  departments?: string[] | null;

  @Field(() => [String], { nullable: true, description: 'e.g. VP, Director, C-level; senior levels add a direct phone to the plan. At most 20.' })
  seniority?: string[] | null;
}
