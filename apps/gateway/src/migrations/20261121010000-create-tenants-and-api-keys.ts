import { Migration } from '@mikro-orm/migrations';

export class CreateTenantsAndApiKeys extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table tenant (
        id uuid primary key,
        slug text not null unique,
        created_at timestamptz not null
      )`);
    this.addSql(`
      create table api_key (
        id uuid primary key,
        tenant_id uuid not null references tenant (id),
        prefix text not null unique,
        key_hash text not null unique,
        name text,
        tier text not null check (tier in ('free', 'pro', 'enterprise')),
        scopes jsonb not null,
        created_at timestamptz not null,
        last_used_at timestamptz,
        revoked_at timestamptz
      )`);
    this.addSql(`create index api_key_tenant on api_key (tenant_id)`);
  }

  override async down(): Promise<void> {
    this.addSql('drop table if exists api_key');
    this.addSql('drop table if exists tenant');
  }
}
