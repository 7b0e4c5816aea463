import { Migration } from '@mikro-orm/migrations';

export class CreateWebsites extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table website (
        id uuid primary key,
        tenant_id uuid not null,
        url text not null,
        domain text not null,
        title text,
        description text,
        summary text,
        analyzed_at timestamptz,
        created_at timestamptz not null,
        updated_at timestamptz not null
      )`);
    // One website per normalised URL and tenant; also the index behind reference lookups by url.
    this.addSql(`create unique index website_tenant_url_unique on website (tenant_id, url)`);
    this.addSql(`create index website_tenant_created on website (tenant_id, created_at desc, id desc)`);
  }

  override async down(): Promise<void> {
    this.addSql('drop table if exists website');
  }
}
