import { Field, Float, ObjectType } from 'type-graphql';
import { DataSourceType } from '../data-source/data-source.type.js';

@ObjectType('SourceRecommendation', { description: 'A data source an enrichment plan uses, and why.' })
export class SourceRecommendationType {
  @Field()
  name!: string;

  @Field({ description: 'The data source’s slug in the catalog.' })
  slug!: string;

  @Field({ description: 'The data source’s main category.' })
  category!: string;

  @Field(() => [String], { description: 'The needed attributes the plan uses it for, e.g. person.email.' })
  attributesCovered!: string[];

  @Field(() => Float, { description: 'List price of one lookup in USD (estimate).' })
  costPerRecordUsd!: number;

  @Field(() => Float, { description: 'What it costs per record of the list: it runs only on the records earlier sources missed, and some providers bill only results.' })
  expectedCostPerRecordUsd!: number;

  @Field(() => Float, { description: 'Share of records it runs on, 0..1.' })
  shareOfRecords!: number;

  @Field(() => Float, { description: 'Estimated accuracy of what it returns, 0..1.' })
  quality!: number;

  @Field({ description: 'Why the plan uses it, where in the waterfall, and what it costs.' })
  rationale!: string;

  @Field(() => DataSourceType)
  dataSource!: DataSourceType;
}

@ObjectType('EnrichmentPlanAttribute', { description: 'An attribute the targeting calls for, and how well the plan covers it.' })
export class EnrichmentPlanAttributeType {
  @Field({ description: 'e.g. person.email.' })
  attribute!: string;

  @Field({ description: 'e.g. work email.' })
  label!: string;

  @Field(() => Float, { description: 'How much it matters to the campaign, 0..1.' })
  importance!: number;

  @Field({ description: 'Why the targeting needs it.' })
  reason!: string;

  @Field(() => Float, { description: 'Expected share of records with a right value, 0..1 (from the catalog’s estimates).' })
  expectedCoverage!: number;

  @Field(() => [String], { description: 'The sources that look for it, in the order they run.' })
  sources!: string[];
}

@ObjectType('EnrichmentPlan', { description: 'Which data sources to run, in which order, to enrich records for a targeting within a per-record budget.' })
export class EnrichmentPlanType {
  @Field(() => [SourceRecommendationType], { description: 'In the order they run.' })
  recommendations!: SourceRecommendationType[];

  @Field(() => Float, { description: 'Expected cost per record in USD, never above the budget.' })
  estimatedCostPerRecordUsd!: number;

  @Field(() => [String], { description: 'Ordered, human-readable steps, waterfalls included; the last ones say what is not covered and why.' })
  workflow!: string[];

  @Field(() => [String], { description: 'Needed attributes no chosen source covers (no source, no API, or the budget ran out; the workflow says which).' })
  uncoveredAttributes!: string[];

  @Field(() => Float, { description: 'The budget the plan was made for, USD per record.' })
  budgetUsdPerRecord!: number;

  @Field(() => [EnrichmentPlanAttributeType], { description: 'Every attribute the targeting calls for.' })
  attributes!: EnrichmentPlanAttributeType[];
}
