import { Migration } from '@mikro-orm/migrations';

export class CreateLeadsAndCompanies extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create extension if not exists pg_trgm with schema public`);
    this.addSql(`
      create table company (
        id uuid primary key,
        tenant_id uuid not null,
        name text not null,
        domain text,
        website_url text,
        industry text,
        employee_count integer,
        phone text,
        city text,
        region text,
        country text,
        description text,
        created_at timestamptz not null,
        updated_at timestamptz not null
      )`);
    this.addSql(`create unique index company_tenant_domain_unique on company (tenant_id, domain) where domain is not null`);
    this.addSql(`create index company_tenant_created on company (tenant_id, created_at desc, id desc)`);
    this.addSql(`create index company_name_trgm on company using gin (name public.gin_trgm_ops)`);
    this.addSql(`
      create table lead (
        id uuid primary key,
        tenant_id uuid not null,
        first_name text,
        last_name text,
        email text,
        phone text,
        title text,
        company_id uuid references company (id) on delete set null,
        status text not null default 'NEW' check (status in ('NEW', 'CONTACTED', 'ENGAGED', 'QUALIFIED', 'DISQUALIFIED', 'CUSTOMER')),
        source text not null default 'manual',
        notes text,
        created_at timestamptz not null,
        updated_at timestamptz not null
      )`);
    this.addSql(`create unique index lead_tenant_email_unique on lead (tenant_id, email) where email is not null`);
    this.addSql(`create index lead_tenant_created on lead (tenant_id, created_at desc, id desc)`);
    this.addSql(`create index lead_tenant_company on lead (tenant_id, company_id)`);
    // Trigram indexes serve the case-insensitive substring search of `leads(filter: { search })`.
    for (const column of ['first_name', 'last_name', 'email']) {
      this.addSql(`create index lead_${column}_trgm on lead using gin (${column} public.gin_trgm_ops)`);
    }
  }

  override async down(): Promise<void> {
    this.addSql('drop table if exists lead');
    this.addSql('drop table if exists company');
  }
}
