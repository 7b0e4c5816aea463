import { Migration } from '@mikro-orm/migrations';

/**
 * The `job` and `job_item` tables, in the schema of the service that runs this migration. A
 * service puts it in its own migrations list (decision 0014), e.g.
 * `{ name: '20261123000000-create-job-tables', class: CreateJobTables }`.
 */
export class CreateJobTables extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table job (
        id uuid primary key,
        tenant_id uuid not null,
        kind text not null,
        status text not null default 'QUEUED' check (status in ('QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED')),
        total integer not null default 0 check (total >= 0),
        completed integer not null default 0 check (completed >= 0),
        failed integer not null default 0 check (failed >= 0),
        message text,
        error text,
        subject_type text,
        subject_id text,
        started_at timestamptz,
        finished_at timestamptz,
        created_at timestamptz not null,
        updated_at timestamptz not null,
        -- A worker that counted an item twice is a bug; the database refuses it instead of showing 120 %.
        constraint job_progress_within_total check (completed + failed <= total)
      )`);
    this.addSql(`create index job_tenant_created on job (tenant_id, created_at desc, id desc)`);
    this.addSql(`create index job_tenant_kind_status on job (tenant_id, kind, status)`);
    this.addSql(`
      create table job_item (
        job_id uuid not null references job (id) on delete cascade,
        item_key text not null,
        tenant_id uuid not null,
        outcome text not null check (outcome in ('completed', 'failed')),
        processed_at timestamptz not null,
        primary key (job_id, item_key)
      )`);
  }

  override async down(): Promise<void> {
    this.addSql('drop table if exists job_item');
    this.addSql('drop table if exists job');
  }
}
