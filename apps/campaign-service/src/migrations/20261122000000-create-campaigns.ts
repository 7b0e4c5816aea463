import { Migration } from '@mikro-orm/migrations';

export class CreateCampaigns extends Migration {
  override async up(): Promise<void> {
    // The length checks repeat the API's limits so that no other writer can store what the API refuses.
    this.addSql(`
      create table campaign (
        id uuid primary key,
        tenant_id uuid not null,
        name text not null check (char_length(name) between 1 and 200),
        website_url text not null,
        user_context text check (char_length(user_context) <= 5000),
        created_at timestamptz not null,
        updated_at timestamptz not null
      )`);
    this.addSql(`create index campaign_tenant_created on campaign (tenant_id, created_at desc, id desc)`);
    // Serves `Website.campaigns` and `campaigns(filter: { websiteUrl })`, both newest first.
    this.addSql(`create index campaign_tenant_website_created on campaign (tenant_id, website_url, created_at desc, id desc)`);
    // No trigram index for the name search: a tenant has tens of campaigns, not millions, and the
    // tenant index above already narrows the scan to them.
  }

  override async down(): Promise<void> {
    this.addSql('drop table if exists campaign');
  }
}
