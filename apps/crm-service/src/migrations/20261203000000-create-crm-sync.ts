import { Migration } from '@mikro-orm/migrations';

/**
 * CRM connections and two-way sync: connections (credentials sealed), the link between a lead and
 * its record at a provider (with the values both sides last agreed on, which is how an echo of our
 * own write is recognised), sync runs (jobs), dead letters, and the webhook events already taken.
 */
export class CreateCrmSync extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table crm_connection (
        id uuid primary key,
        tenant_id uuid not null,
        provider text not null check (provider in ('HUBSPOT', 'SALESFORCE', 'PIPEDRIVE', 'CLOSE', 'GOHIGHLEVEL')),
        status text not null default 'ACTIVE' check (status in ('ACTIVE', 'PAUSED', 'ERROR', 'DISCONNECTED')),
        status_message text,
        account_id text not null,
        account_name text not null,
        base_url text,
        sealed_credentials text not null,
        credentials_hint text not null,
        sealed_webhook_secret text,
        webhook_secret_hint text,
        field_mapping jsonb not null,
        import_cursor timestamptz,
        export_cursor_at timestamptz,
        export_cursor_lead_id uuid,
        paused_until timestamptz,
        last_synced_at timestamptz,
        disconnected_at timestamptz,
        created_at timestamptz not null,
        updated_at timestamptz not null
      )`);
    // One live connection per provider account and tenant: two would sync the same records twice.
    this.addSql(`create unique index crm_connection_account_unique on crm_connection (tenant_id, provider, account_id) where status <> 'DISCONNECTED'`);
    this.addSql(`create index crm_connection_tenant_created on crm_connection (tenant_id, created_at desc, id desc)`);

    this.addSql(`
      create table crm_record_link (
        id uuid primary key,
        tenant_id uuid not null,
        connection_id uuid not null references crm_connection (id) on delete cascade,
        lead_id uuid not null references lead (id) on delete cascade,
        external_id text not null,
        synced_values jsonb not null,
        remote_modified_at timestamptz,
        last_synced_at timestamptz not null,
        created_at timestamptz not null,
        updated_at timestamptz not null
      )`);
    this.addSql(`create unique index crm_record_link_external_unique on crm_record_link (connection_id, external_id)`);
    this.addSql(`create unique index crm_record_link_lead_unique on crm_record_link (connection_id, lead_id)`);
    this.addSql(`create index crm_record_link_tenant_lead on crm_record_link (tenant_id, lead_id)`);

    this.addSql(`
      create table crm_sync_run (
        id uuid primary key references job (id) on delete cascade,
        connection_id uuid not null references crm_connection (id) on delete cascade,
        direction text not null check (direction in ('IMPORT', 'EXPORT', 'BOTH')),
        "full" boolean not null default false,
        trigger text not null,
        created_records integer not null default 0,
        updated_records integer not null default 0,
        unchanged_records integer not null default 0,
        failed_records integer not null default 0,
        conflicts integer not null default 0,
        deleted_records integer not null default 0,
        merged_records integer not null default 0,
        import_resume_from timestamptz,
        import_done boolean not null default false,
        paused_until timestamptz,
        webhook_events jsonb
      )`);
    this.addSql(`create index crm_sync_run_connection on crm_sync_run (connection_id)`);

    this.addSql(`
      create table crm_dead_letter (
        id uuid primary key,
        tenant_id uuid not null,
        connection_id uuid not null references crm_connection (id) on delete cascade,
        direction text not null check (direction in ('IMPORT', 'EXPORT')),
        external_id text,
        lead_id uuid references lead (id) on delete cascade,
        error_kind text not null,
        error text not null,
        attempts integer not null default 1,
        sync_run_id uuid,
        resolved_at timestamptz,
        created_at timestamptz not null,
        updated_at timestamptz not null,
        check (external_id is not null or lead_id is not null)
      )`);
    // A record that keeps failing has one open dead letter, counting its attempts.
    this.addSql(`create unique index crm_dead_letter_open_unique on crm_dead_letter (connection_id, direction, coalesce(external_id, lead_id::text)) where resolved_at is null`);
    this.addSql(`create index crm_dead_letter_connection_created on crm_dead_letter (connection_id, created_at desc, id desc)`);

    this.addSql(`
      create table crm_webhook_event (
        connection_id uuid not null references crm_connection (id) on delete cascade,
        event_id text not null,
        tenant_id uuid not null,
        received_at timestamptz not null,
        primary key (connection_id, event_id)
      )`);
  }

  override async down(): Promise<void> {
    for (const table of ['crm_webhook_event', 'crm_dead_letter', 'crm_sync_run', 'crm_record_link', 'crm_connection']) this.addSql(`drop table if exists ${table}`);
  }
}
