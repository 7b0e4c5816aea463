import { Migration } from '@mikro-orm/migrations';

/**
 * An enrichment job becomes a job of the shared `job` table (created by the migration before this
 * one): its lifecycle and counts move there, and `enrichment_job` keeps what only enrichment has,
 * joined by id. Existing jobs keep their id, status and counts.
 */
export class EnrichmentJobsAreJobs extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      insert into job (id, tenant_id, kind, status, total, completed, failed, message, error, subject_type, subject_id, started_at, finished_at, created_at, updated_at)
      select id, tenant_id, 'enrichment', status, total, completed, failed, message, error, 'EnrichmentJob', id::text, started_at, finished_at, created_at, updated_at
        from enrichment_job`);
    this.addSql(`
      alter table enrichment_job
        drop constraint enrichment_job_progress_within_total,
        drop column tenant_id, drop column status, drop column total, drop column completed, drop column failed,
        drop column message, drop column error, drop column started_at, drop column finished_at,
        drop column created_at, drop column updated_at,
        add constraint enrichment_job_is_a_job foreign key (id) references job (id) on delete cascade`);
  }
}
