import { Migration } from '@mikro-orm/migrations';

export class CreateUsage extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table request_usage (
        id uuid primary key,
        tenant_id uuid not null,
        api_key_id uuid not null,
        request_id text not null,
        operation_name text,
        operation_type text,
        outcome text not null,
        http_status smallint not null,
        duration_ms real not null,
        at timestamptz not null
      )`);
    this.addSql(`create index request_usage_tenant_at on request_usage (tenant_id, at)`);
    this.addSql(`
      create table llm_usage (
        id uuid primary key,
        tenant_id uuid not null,
        api_key_id text,
        request_id text,
        service text not null,
        task text not null,
        provider text not null,
        model text not null,
        input_tokens integer not null,
        output_tokens integer not null,
        cost_usd numeric(14, 8) not null,
        latency_ms real not null,
        cached boolean not null,
        outcome text not null,
        at timestamptz not null
      )`);
    this.addSql(`create index llm_usage_tenant_at on llm_usage (tenant_id, at)`);
  }

  override async down(): Promise<void> {
    this.addSql('drop table if exists llm_usage');
    this.addSql('drop table if exists request_usage');
  }
}
