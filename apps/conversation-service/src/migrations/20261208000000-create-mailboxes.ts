import { Migration } from '@mikro-orm/migrations';

export class CreateMailboxes extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table mailbox (
        id uuid primary key,
        tenant_id uuid not null,
        address text not null,
        display_name text,
        smtp_host text not null,
        smtp_port integer not null check (smtp_port between 1 and 65535),
        smtp_security text not null check (smtp_security in ('TLS', 'STARTTLS', 'NONE')),
        smtp_username text not null,
        imap_host text,
        imap_port integer check (imap_port between 1 and 65535),
        imap_security text check (imap_security in ('TLS', 'STARTTLS', 'NONE')),
        imap_username text,
        imap_folder text,
        sealed_secrets text not null,
        secret_hints jsonb not null default '{}',
        daily_limit integer not null check (daily_limit between 1 and 2000),
        time_zone text not null,
        window_start text not null,
        window_end text not null,
        send_days integer[] not null,
        pacing_seconds integer not null check (pacing_seconds >= 0),
        pacing_jitter_seconds integer not null check (pacing_jitter_seconds >= 0),
        status text not null default 'ACTIVE' check (status in ('ACTIVE', 'PAUSED', 'FAILING')),
        last_error text,
        last_read_at timestamptz,
        imap_uid_validity text,
        imap_last_uid bigint,
        created_at timestamptz not null,
        updated_at timestamptz not null,
        unique (tenant_id, address)
      )`);
  }

  override async down(): Promise<void> {
    this.addSql('drop table if exists mailbox');
  }
}
