import { Entity, Enum, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import type { EnrichmentAttribute } from './data-source.vocabulary.js';

/** How a provider charges. */
export enum DataSourcePricingModel {
  FREE = 'FREE',
  FREEMIUM = 'FREEMIUM',
  /** Prepaid or monthly credits spent per lookup. */
  CREDITS = 'CREDITS',
  /** A flat subscription with a lookup allowance. */
  SUBSCRIPTION = 'SUBSCRIPTION',
  /** Pay per call or per record, no commitment. */
  USAGE = 'USAGE',
  /** Annual contracts negotiated with sales. */
  ENTERPRISE = 'ENTERPRISE',
  UNKNOWN = 'UNKNOWN',
}

/** Where a source's coverage, cost and quality figures come from. */
export enum DataSourceEstimateBasis {
  /** Estimated for this provider from its public pricing, documentation and reviews. */
  PROVIDER_RESEARCH = 'PROVIDER_RESEARCH',
  /** Known only by its category in the GTM tools list: figures are that category's defaults. */
  CATEGORY_DEFAULTS = 'CATEGORY_DEFAULTS',
}

/** Which seed files describe a source. */
export enum DataSourceOrigin {
  /** seed/gtm-tools.csv, a copy of the shared GTM tools list. */
  GTM_TOOLS_LIST = 'GTM_TOOLS_LIST',
  /** data-source.providers.ts, the hand-curated provider estimates. */
  CURATED = 'CURATED',
}

/** What a source returns for one attribute. */
export interface DataSourceAttributeEstimate {
  attribute: EnrichmentAttribute;
  /** Share of records, 0..1, for which the source returns a value. */
  coverage: number;
  /** Share of returned values, 0..1, that are right. */
  quality: number;
}

/**
 * One provider or tool of the catalog. The catalog is shared by every tenant and belongs to the
 * code: it has no tenant_id, is written only by the seed step at start (decision 0015) and is
 * marked readonly so that no flush can ever change it.
 */
@Entity({ tableName: 'data_source', readonly: true })
export class DataSource {
  /** Stable identifier, e.g. `apollo-io`. */
  @PrimaryKey({ type: 'text' })
  slug!: string;

  @Property({ type: 'text' })
  name!: string;

  /** https URL of the provider's site; null where there is no single vendor (RSS). */
  @Property({ type: 'text', nullable: true })
  website!: string | null;

  /** The main category: the first of `categories`. */
  @Property({ type: 'text' })
  category!: string;

  @Property({ type: 'text[]' })
  categories!: string[];

  @Property({ type: 'text' })
  description!: string;

  /** Empty for tools that act on data rather than supply it (CRMs, outreach, orchestration). */
  @Property({ type: 'json' })
  attributes!: DataSourceAttributeEstimate[];

  /** Typical list price of one lookup; null for tools that do not sell records. */
  @Property({ type: 'double', runtimeType: 'number', nullable: true })
  costPerRecordUsd!: number | null;

  /** The provider bills a lookup only when it returns something. */
  @Property({ type: 'boolean' })
  chargedOnlyWhenFound!: boolean;

  /** Overall accuracy of what it returns, 0..1; null for tools that do not supply data. */
  @Property({ type: 'double', runtimeType: 'number', nullable: true })
  quality!: number | null;

  @Property({ type: 'boolean' })
  apiAvailable!: boolean;

  @Enum({ items: () => DataSourcePricingModel, nativeEnumName: undefined })
  pricingModel!: DataSourcePricingModel;

  /** EU-based processing or EU-first data with a documented GDPR basis. */
  @Property({ type: 'boolean' })
  gdprFriendly!: boolean;

  /** False for a provider that has shut down; kept so that a plan can say why it is not used. */
  @Property({ type: 'boolean' })
  available!: boolean;

  @Enum({ items: () => DataSourceEstimateBasis, nativeEnumName: undefined })
  estimateBasis!: DataSourceEstimateBasis;

  /** Marked recommended in the GTM tools list. */
  @Property({ type: 'boolean' })
  recommended!: boolean;

  @Property({ type: 'text[]' })
  origins!: DataSourceOrigin[];

  /** How `costPerRecordUsd` was worked out. */
  @Property({ type: 'text', nullable: true })
  costBasis!: string | null;

  @Property({ type: 'text', nullable: true })
  notes!: string | null;
}
