import { Migration } from '@mikro-orm/migrations';

/**
 * A lead list is read by the job, a page at a time, instead of inside the mutation: how far it got
 * (leads read, crm-service's cursor after the last page) and when it was read to the end, so that a
 * resumed job goes on from there. Lists read at creation before this are read to the end.
 */
export class LeadListReading extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      alter table enrichment_job
        add column leads_read integer not null default 0,
        add column lead_list_cursor text,
        add column lead_list_read_at timestamptz`);
    this.addSql(`
      update enrichment_job e set leads_read = j.total, lead_list_read_at = j.created_at
        from job j where j.id = e.id and e.source = 'LEAD_LIST'`);
  }

  override async down(): Promise<void> {
    this.addSql('alter table enrichment_job drop column if exists leads_read, drop column if exists lead_list_cursor, drop column if exists lead_list_read_at');
  }
}
