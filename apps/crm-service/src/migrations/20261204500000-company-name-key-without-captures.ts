import { Migration } from '@mikro-orm/migrations';

/**
 * `company_name_key` with the same patterns, its groups non-capturing (decision 0097). PostgreSQL's
 * regex engine works out where every capturing group of a match begins and ends, and for the
 * repeated group of the legal-suffix pattern, tried at every position of the name, that was most
 * of the function's time: 100,000 dealer names took 1.8–2.9 s against 0.6 s without captures. The
 * key is the same string for every name (the match spans from the leftmost position a run of
 * suffixes reaches the end from, whatever the groups capture, and nothing refers to a capture), so
 * the stored `company.name_key` values and their index stay valid; a test compares the two bodies.
 */
export class CompanyNameKeyWithoutCaptures extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create or replace function company_name_key(name text) returns text language sql immutable parallel safe as $$
        select nullif(btrim(regexp_replace(
          regexp_replace(lower(coalesce(name, '')), '[^[:alnum:]]+', ' ', 'g'),
          '(?: (?:inc|incorporated|llc|l l c|ltd|limited|corp|corporation|co|company|pllc|plc|pa|lp|llp|gmbh))+ *$', '', 'g')), '')
      $$`);
  }

  override async down(): Promise<void> {
    this.addSql(`
      create or replace function company_name_key(name text) returns text language sql immutable parallel safe as $$
        select nullif(btrim(regexp_replace(
          regexp_replace(lower(coalesce(name, '')), '[^[:alnum:]]+', ' ', 'g'),
          '( (inc|incorporated|llc|l l c|ltd|limited|corp|corporation|co|company|pllc|plc|pa|lp|llp|gmbh))+ *$', '', 'g')), '')
      $$`);
  }
}
