import { Migration } from '@mikro-orm/migrations';

/**
 * The data-source catalog. Shared by every tenant, hence no tenant_id (decision 0015); its rows are
 * written by the seed step at start, not here, so that a change to the seed files needs no migration.
 */
export class CreateDataSourceCatalog extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table data_source (
        slug text primary key check (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
        name text not null,
        website text,
        category text not null,
        categories text[] not null,
        description text not null,
        attributes jsonb not null default '[]',
        cost_per_record_usd double precision check (cost_per_record_usd >= 0),
        charged_only_when_found boolean not null default false,
        quality double precision check (quality between 0 and 1),
        api_available boolean not null,
        pricing_model text not null check (pricing_model in ('FREE', 'FREEMIUM', 'CREDITS', 'SUBSCRIPTION', 'USAGE', 'ENTERPRISE', 'UNKNOWN')),
        gdpr_friendly boolean not null default false,
        available boolean not null default true,
        estimate_basis text not null check (estimate_basis in ('PROVIDER_RESEARCH', 'CATEGORY_DEFAULTS')),
        recommended boolean not null default false,
        origins text[] not null,
        cost_basis text,
        notes text,
        constraint data_source_main_category_listed check (category = any (categories)),
        -- A source that returns attributes must have a price and a quality, or a plan cannot weigh it.
        constraint data_source_priced_when_supplying check (attributes = '[]'::jsonb or (cost_per_record_usd is not null and quality is not null))
      )`);
  }

  override async down(): Promise<void> {
    this.addSql('drop table if exists data_source');
  }
}
