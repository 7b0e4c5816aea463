import { Migration } from '@mikro-orm/migrations';

/**
 * The enrichment pipeline: a job knows its campaign, steps, budget and the delegated caller token
 * its background calls use; a record keeps the row as given and everything each step found, what
 * it cost and how each step went; web searches are cached per tenant.
 */
export class EnrichmentPipeline extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      alter table enrichment_job
        add column campaign_id uuid,
        add column campaign jsonb,
        add column steps text[] not null default '{WEBSITE,WEBSITE_ANALYSIS,CONTACTS,PERSONALIZATION,QUALIFICATION}',
        add column budget_usd_per_record double precision check (budget_usd_per_record >= 0),
        add column delegated_caller_token text,
        add column columns text[]`);
    this.addSql(`
      alter table enrichment_record
        add column input jsonb not null default '{}',
        add column phone text,
        add column address text,
        add column city text,
        add column region text,
        add column postal_code text,
        add column country text,
        add column website_source text check (website_source in ('INPUT', 'EMAIL', 'SEARCH')),
        add column website_confidence double precision check (website_confidence between 0 and 1),
        add column website_evidence jsonb,
        add column website_summary text,
        add column emails text[] not null default '{}',
        add column phones text[] not null default '{}',
        add column contacts jsonb not null default '[]',
        add column personalization jsonb,
        add column qualification jsonb,
        add column sources jsonb not null default '[]',
        add column step_outcomes jsonb not null default '[]',
        add column cost_usd double precision not null default 0 check (cost_usd >= 0),
        add column lead_id uuid,
        drop constraint enrichment_record_status_check,
        add constraint enrichment_record_status_check check (status in ('PENDING', 'ENRICHED', 'PARTIAL', 'FAILED'))`);
    // Rows written before the pipeline: what was given becomes their input.
    this.addSql(`update enrichment_record set input = jsonb_strip_nulls(jsonb_build_object('email', email, 'companyName', company_name, 'website', website))`);
    this.addSql(`create index enrichment_record_job_status on enrichment_record (job_id, status, position)`);
    this.addSql(`
      create table web_search_cache (
        tenant_id uuid not null,
        query_key text not null,
        provider text not null,
        results jsonb not null,
        created_at timestamptz not null,
        primary key (tenant_id, query_key)
      )`);
  }

  override async down(): Promise<void> {
    this.addSql('drop table if exists web_search_cache');
  }
}
