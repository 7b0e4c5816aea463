import { Field, Float, ObjectType, registerEnumType } from 'type-graphql';
import { DataSourceEstimateBasis, DataSourceOrigin, DataSourcePricingModel } from './data-source.entity.js';

registerEnumType(DataSourcePricingModel, { name: 'DataSourcePricingModel', description: 'How a data provider charges.' });
registerEnumType(DataSourceEstimateBasis, {
  name: 'DataSourceEstimateBasis',
  description: 'Where a data source’s coverage, cost and quality figures come from. All of them are estimates.',
  valuesConfig: {
    PROVIDER_RESEARCH: { description: 'Estimated for this provider from its public pricing, documentation and reviews.' },
    CATEGORY_DEFAULTS: { description: 'Known only by its category in the GTM tools list: the category’s default figures.' },
  },
});
registerEnumType(DataSourceOrigin, { name: 'DataSourceOrigin', description: 'Which seed describes a data source: the GTM tools list, the curated provider estimates, or both.' });

@ObjectType('DataSourceAttribute', { description: 'What a data source returns for one attribute.' })
export class DataSourceAttributeType {
  @Field({ description: 'Dotted attribute name, e.g. person.email.' })
  attribute!: string;

  @Field(() => Float, { description: 'Share of records, 0..1, for which the source returns a value (estimate).' })
  coverage!: number;

  @Field(() => Float, { description: 'Share of returned values, 0..1, that are right (estimate).' })
  quality!: number;
}

// The entity's columns are all public; a separate class keeps the GraphQL shape (enums, nested
// attributes, descriptions) out of the persistence mapping.
@ObjectType('DataSource', { description: 'A data provider or GTM tool of the catalog shared by every tenant.' })
export class DataSourceType {
  @Field({ description: 'Stable identifier, e.g. apollo-io.' })
  slug!: string;

  @Field()
  name!: string;

  @Field(() => String, { nullable: true, description: 'https URL of the provider’s site.' })
  website!: string | null;

  @Field({ description: 'The main category, the first of categories.' })
  category!: string;

  @Field(() => [String])
  categories!: string[];

  @Field()
  description!: string;

  @Field(() => [DataSourceAttributeType], { description: 'Attributes it returns; empty for tools that act on data rather than supply it (CRM, outreach).' })
  attributes!: DataSourceAttributeType[];

  @Field(() => Float, { nullable: true, description: 'Typical list price of one lookup in USD (estimate); null for tools that do not sell records.' })
  costPerRecordUsd!: number | null;

  @Field({ description: 'The provider bills a lookup only when it returns something.' })
  chargedOnlyWhenFound!: boolean;

  @Field(() => Float, { nullable: true, description: 'Overall accuracy of what it returns, 0..1 (estimate); null for tools that do not supply data.' })
  quality!: number | null;

  @Field({ description: 'It can be called from code; false means manual work or use inside another product only.' })
  apiAvailable!: boolean;

  @Field(() => DataSourcePricingModel)
  pricingModel!: DataSourcePricingModel;

  @Field({ description: 'EU-based processing or EU-first data with a documented GDPR basis.' })
  gdprFriendly!: boolean;

  @Field({ description: 'False for a provider that has shut down.' })
  available!: boolean;

  @Field(() => DataSourceEstimateBasis)
  estimateBasis!: DataSourceEstimateBasis;

  @Field({ description: 'Marked recommended in the GTM tools list.' })
  recommended!: boolean;

  @Field(() => [DataSourceOrigin])
  origins!: DataSourceOrigin[];

  @Field(() => String, { nullable: true, description: 'How costPerRecordUsd was worked out.' })
  costBasis!: string | null;

  @Field(() => String, { nullable: true })
  notes!: string | null;
}
