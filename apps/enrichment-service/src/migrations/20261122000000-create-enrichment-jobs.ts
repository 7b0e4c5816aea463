import { Migration } from '@mikro-orm/migrations';

export class CreateEnrichmentJobs extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table enrichment_job (
        id uuid primary key,
        tenant_id uuid not null,
        name text not null,
        status text not null default 'QUEUED' check (status in ('QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED')),
        total integer not null default 0 check (total >= 0),
        completed integer not null default 0 check (completed >= 0),
        failed integer not null default 0 check (failed >= 0),
        message text,
        error text,
        started_at timestamptz,
        finished_at timestamptz,
        created_at timestamptz not null,
        updated_at timestamptz not null,
        -- A worker that counted a record twice is a bug; the database refuses it instead of showing 120 %.
        constraint enrichment_job_progress_within_total check (completed + failed <= total)
      )`);
    this.addSql(`create index enrichment_job_tenant_created on enrichment_job (tenant_id, created_at desc, id desc)`);
    this.addSql(`create index enrichment_job_tenant_status on enrichment_job (tenant_id, status)`);
  }

  override async down(): Promise<void> {
    this.addSql('drop table if exists enrichment_job');
  }
}
