import { Migration } from '@mikro-orm/migrations';

const kinds = `('PRODUCT_OVERVIEW', 'TARGET_COMPANY', 'TARGET_PERSONA', 'POSITIONING', 'EMAIL_SEQUENCE')`;

export class CreateCampaignAssets extends Migration {
  override async up(): Promise<void> {
    // Why the website could not be analysed, as the user was told; cleared by the next good analysis.
    this.addSql(`alter table campaign add column website_error text check (char_length(website_error) <= 2000)`);

    // The current state of each asset of a campaign; its content lives in the version it points at.
    this.addSql(`
      create table campaign_asset (
        id uuid primary key,
        tenant_id uuid not null,
        campaign_id uuid not null references campaign (id) on delete cascade,
        kind text not null check (kind in ${kinds}),
        state text not null check (state in ('MISSING', 'GENERATING', 'READY', 'STALE', 'FAILED')),
        current_version integer check (current_version >= 1),
        error text,
        stale_reason text,
        state_changed_at timestamptz not null,
        created_at timestamptz not null,
        updated_at timestamptz not null,
        unique (tenant_id, campaign_id, kind)
      )`);

    // Every generation and every correction, never updated: what was produced, by whom, from what.
    this.addSql(`
      create table campaign_asset_version (
        id uuid primary key,
        tenant_id uuid not null,
        campaign_id uuid not null references campaign (id) on delete cascade,
        kind text not null check (kind in ${kinds}),
        version integer not null check (version >= 1),
        origin text not null check (origin in ('GENERATED', 'FIELD_CORRECTION', 'SECTION_CORRECTION', 'GLOBAL_CORRECTION')),
        content jsonb not null,
        confidence double precision not null check (confidence between 0 and 1),
        provider text not null,
        model text not null,
        prompt_version text not null,
        instructions text,
        based_on jsonb not null,
        website_analyzed_at timestamptz,
        passages jsonb not null,
        grounding jsonb not null,
        warnings jsonb not null,
        usage jsonb,
        created_at timestamptz not null,
        updated_at timestamptz not null,
        unique (tenant_id, campaign_id, kind, version)
      )`);

    this.addSql(`
      create table campaign_correction (
        id uuid primary key,
        tenant_id uuid not null,
        campaign_id uuid not null references campaign (id) on delete cascade,
        kind text not null check (kind in ${kinds}),
        scope text not null check (scope in ('FIELD', 'SECTION', 'GLOBAL')),
        field_path text check (char_length(field_path) <= 300),
        value jsonb,
        instructions text check (char_length(instructions) <= 4000),
        before_version integer not null,
        after_version integer not null,
        stale_kinds jsonb not null,
        created_at timestamptz not null,
        updated_at timestamptz not null
      )`);
    this.addSql(`create index campaign_correction_campaign on campaign_correction (tenant_id, campaign_id, created_at, id)`);

    // generateCampaign's runs until libs/jobs takes them over (decision 0017).
    this.addSql(`
      create table campaign_job (
        id uuid primary key,
        tenant_id uuid not null,
        campaign_id uuid not null references campaign (id) on delete cascade,
        kinds jsonb not null,
        status text not null check (status in ('QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED')),
        total integer not null check (total >= 0),
        completed integer not null check (completed >= 0),
        failed integer not null check (failed >= 0),
        message text,
        error text,
        started_at timestamptz,
        finished_at timestamptz,
        created_at timestamptz not null,
        updated_at timestamptz not null
      )`);
    this.addSql(`create index campaign_job_campaign on campaign_job (tenant_id, campaign_id, created_at desc)`);
  }

  override async down(): Promise<void> {
    this.addSql('drop table if exists campaign_job');
    this.addSql('drop table if exists campaign_correction');
    this.addSql('drop table if exists campaign_asset_version');
    this.addSql('drop table if exists campaign_asset');
    this.addSql('alter table campaign drop column if exists website_error');
  }
}
