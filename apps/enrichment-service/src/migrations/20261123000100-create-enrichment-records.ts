import { Migration } from '@mikro-orm/migrations';

export class CreateEnrichmentRecords extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table enrichment_record (
        id uuid primary key,
        tenant_id uuid not null,
        job_id uuid not null references enrichment_job (id) on delete cascade,
        position integer not null check (position >= 0),
        email text,
        company_name text,
        website text,
        status text not null default 'PENDING' check (status in ('PENDING', 'ENRICHED', 'FAILED')),
        domain text,
        normalized_website text,
        failure_reason text,
        created_at timestamptz not null,
        updated_at timestamptz not null,
        unique (job_id, position)
      )`);
  }

  override async down(): Promise<void> {
    this.addSql('drop table if exists enrichment_record');
  }
}
