import { Migration } from '@mikro-orm/migrations';

/**
 * Where a job's records come from (given inline, an uploaded file, a lead list), the file's column
 * mapping and when it arrived; a record keeps the person its row names apart from the row itself,
 * which stays verbatim.
 */
export class EnrichmentFiles extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      alter table enrichment_job
        add column source text not null default 'RECORDS' check (source in ('RECORDS', 'UPLOAD', 'LEAD_LIST')),
        add column column_mapping jsonb,
        add column file_received_at timestamptz,
        add column lead_list_id uuid`);
    this.addSql(`alter table enrichment_record add column given_contact jsonb`);
  }

  override async down(): Promise<void> {
    this.addSql('alter table enrichment_record drop column if exists given_contact');
    this.addSql('alter table enrichment_job drop column if exists source, drop column if exists column_mapping, drop column if exists file_received_at, drop column if exists lead_list_id');
  }
}
