import { Migration } from '@mikro-orm/migrations';

/**
 * Indexes that served no query but cost every insert and update of a lead or company — most of
 * the time of a lead import (decision 0083):
 * - the trigram indexes of lead (first name, last name, email) and company (name): the searches of
 *   `leads` and `companies` match any of several columns with one OR, and some of those columns
 *   (title, the company's name through a join; domain, industry) have no trigram index, so
 *   PostgreSQL cannot combine the indexes and scans the tenant's rows by `(tenant_id, created_at)`
 *   instead — even with sequential scans disabled;
 * - `lead_tenant_company (tenant_id, company_id)`: a prefix of `lead_tenant_company_name
 *   (tenant_id, company_id, name_key)`, which serves the same lookups.
 */
export class DropUnusedLeadIndexes extends Migration {
  override async up(): Promise<void> {
    for (const column of ['first_name', 'last_name', 'email']) this.addSql(`drop index if exists lead_${column}_trgm`);
    this.addSql(`drop index if exists company_name_trgm`);
    this.addSql(`drop index if exists lead_tenant_company`);
  }

  override async down(): Promise<void> {
    for (const column of ['first_name', 'last_name', 'email']) {
      this.addSql(`create index if not exists lead_${column}_trgm on lead using gin (${column} public.gin_trgm_ops)`);
    }
    this.addSql(`create index if not exists company_name_trgm on company using gin (name public.gin_trgm_ops)`);
    this.addSql(`create index if not exists lead_tenant_company on lead (tenant_id, company_id)`);
  }
}
