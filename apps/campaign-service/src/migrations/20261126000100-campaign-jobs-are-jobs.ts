import { Migration } from '@mikro-orm/migrations';

const interruptedMessage = 'The service stopped before this job finished. Run generateCampaign again: assets already built are kept.';

/**
 * generateCampaign jobs become libs/jobs jobs (decision 0018): their lifecycle and counts move to
 * the shared `job` table, with the campaign as subject, and `campaign_job` keeps what a worker
 * needs to build the assets, joined by id. Jobs made before keep their id, status and counts; one
 * still QUEUED or RUNNING ran in a process that no longer exists, so it reads FAILED, as it did.
 */
export class CampaignJobsAreJobs extends Migration {
  override async up(): Promise<void> {
    // The message holds no quote, so it can be spelled inline (addSql takes no parameters).
    this.addSql(`
      insert into job (id, tenant_id, kind, status, total, completed, failed, message, error, subject_type, subject_id, started_at, finished_at, created_at, updated_at)
      select id, tenant_id, 'campaign-generation',
             case when status in ('QUEUED', 'RUNNING') then 'FAILED' else status end,
             greatest(total, completed + failed), completed, failed,
             case when status in ('QUEUED', 'RUNNING') then '${interruptedMessage}' else message end,
             error, 'Campaign', campaign_id::text, started_at,
             case when status in ('QUEUED', 'RUNNING') then updated_at else finished_at end,
             created_at, updated_at
        from campaign_job`);
    this.addSql(`
      alter table campaign_job
        drop column tenant_id, drop column status, drop column total, drop column completed, drop column failed,
        drop column message, drop column error, drop column started_at, drop column finished_at,
        drop column created_at, drop column updated_at,
        add column regenerate jsonb not null default '[]',
        add column steps jsonb not null default '[]',
        add column website jsonb,
        add column attribution jsonb not null default '{}',
        add constraint campaign_job_is_a_job foreign key (id) references job (id) on delete cascade`);
    this.addSql(`create index campaign_job_campaign on campaign_job (campaign_id)`);
  }
}
