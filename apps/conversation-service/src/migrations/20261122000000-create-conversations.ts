import { Migration } from '@mikro-orm/migrations';

export class CreateConversations extends Migration {
  override async up(): Promise<void> {
    // lead_id and campaign_id point into other services' schemas, so they carry no foreign key.
    this.addSql(`
      create table conversation (
        id uuid primary key,
        tenant_id uuid not null,
        subject text not null,
        status text not null default 'OPEN' check (status in ('OPEN', 'WAITING_FOR_REPLY', 'REPLIED', 'CLOSED')),
        lead_id uuid not null,
        campaign_id uuid,
        last_message_at timestamptz,
        created_at timestamptz not null,
        updated_at timestamptz not null
      )`);
    this.addSql(`create index conversation_tenant_created on conversation (tenant_id, created_at desc, id desc)`);
    // Serve `Lead.conversations` / `Campaign.conversations` and the list filters, newest first.
    this.addSql(`create index conversation_tenant_lead on conversation (tenant_id, lead_id, created_at desc, id desc)`);
    this.addSql(`create index conversation_tenant_campaign on conversation (tenant_id, campaign_id, created_at desc, id desc) where campaign_id is not null`);
  }

  override async down(): Promise<void> {
    this.addSql('drop table if exists conversation');
  }
}
