import { Migration } from '@mikro-orm/migrations';

/**
 * Lead lists and CSV imports (decision 0080). The match keys of companies and leads are generated
 * columns built by two SQL functions, so a lead created by hand, by a CRM sync or by an import is
 * matched by the same rule; the import computes the keys of its staged rows with the same functions.
 */
export class CreateLeadLists extends Migration {
  override async up(): Promise<void> {
    // Lower-case letters and digits, one space between words, legal suffixes dropped:
    // "A & A GenPro, Inc." and "a&a genpro inc" are one company.
    this.addSql(`
      create function company_name_key(name text) returns text language sql immutable parallel safe as $$
        select nullif(btrim(regexp_replace(
          regexp_replace(lower(coalesce(name, '')), '[^[:alnum:]]+', ' ', 'g'),
          '( (inc|incorporated|llc|l l c|ltd|limited|corp|corporation|co|company|pllc|plc|pa|lp|llp|gmbh))+ *$', '', 'g')), '')
      $$`);
    // The normalised full name: lower-case words, one space between them; '' for a lead without one.
    this.addSql(`
      create function lead_name_key(first_name text, last_name text) returns text language sql immutable parallel safe as $$
        select btrim(regexp_replace(lower(coalesce(first_name, '') || ' ' || coalesce(last_name, '')), '[^[:alnum:]'']+', ' ', 'g'))
      $$`);
    this.addSql(`alter table company add column name_key text generated always as (company_name_key(name)) stored`);
    this.addSql(`create index company_tenant_name_key on company (tenant_id, name_key)`);
    this.addSql(`alter table lead add column name_key text generated always as (lead_name_key(first_name, last_name)) stored`);
    this.addSql(`alter table lead add column custom_fields jsonb not null default '{}'::jsonb`);
    this.addSql(`create index lead_tenant_company_name on lead (tenant_id, company_id, name_key)`);
    this.addSql(`create index lead_tenant_phone on lead (tenant_id, phone) where phone is not null`);

    this.addSql(`
      create table lead_import (
        id uuid primary key references job (id) on delete cascade,
        file_name text not null,
        list_name text not null,
        list_id uuid,
        overwrite boolean not null default false,
        default_country text,
        column_mapping jsonb,
        columns jsonb,
        encoding text,
        delimiter text,
        staging_table text,
        file_received_at timestamptz,
        rows_read integer not null default 0,
        imported integer not null default 0,
        merged integer not null default 0,
        rejected integer not null default 0,
        leads_updated integer not null default 0,
        companies_created integer not null default 0
      )`);
    this.addSql(`
      create table lead_import_error (
        import_id uuid not null references lead_import (id) on delete cascade,
        row_number integer not null,
        column_name text,
        message text not null
      )`);
    this.addSql(`create index lead_import_error_import on lead_import_error (import_id, row_number)`);
    this.addSql(`
      create table lead_list (
        id uuid primary key,
        tenant_id uuid not null,
        name text not null,
        import_id uuid,
        columns jsonb not null default '[]'::jsonb,
        created_at timestamptz not null,
        updated_at timestamptz not null
      )`);
    this.addSql(`create index lead_list_tenant_created on lead_list (tenant_id, created_at desc, id desc)`);
    // A member's position keeps the file's order (its first row); cells are that row as uploaded,
    // for the export's original columns.
    this.addSql(`
      create table lead_list_member (
        list_id uuid not null references lead_list (id) on delete cascade,
        position bigint not null,
        lead_id uuid not null references lead (id) on delete cascade,
        tenant_id uuid not null,
        cells jsonb,
        primary key (list_id, position)
      )`);
    this.addSql(`create unique index lead_list_member_lead on lead_list_member (list_id, lead_id)`);
    this.addSql(`create index lead_list_member_lead_id on lead_list_member (lead_id)`);
  }

  override async down(): Promise<void> {
    this.addSql('drop table if exists lead_list_member');
    this.addSql('drop table if exists lead_list');
    this.addSql('drop table if exists lead_import_error');
    this.addSql('drop table if exists lead_import');
    this.addSql('drop index if exists lead_tenant_phone');
    this.addSql('drop index if exists lead_tenant_company_name');
    this.addSql('alter table lead drop column if exists custom_fields, drop column if exists name_key');
    this.addSql('alter table company drop column if exists name_key');
    this.addSql('drop function if exists lead_name_key(text, text)');
    this.addSql('drop function if exists company_name_key(text)');
  }
}
