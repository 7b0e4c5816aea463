import { Migration } from '@mikro-orm/migrations';

/**
 * One lead per mailbox, not per spelling of its address: `lead.email_key` is the address leads are
 * matched and kept unique by. Gmail delivers `a.b+news@gmail.com` and `ab@googlemail.com` to the
 * same mailbox as `ab@gmail.com` (dots and a `+` tag ignored, two domains), so they share a key;
 * every other address is its own key, lower-cased (no other provider's rule holds for all of its
 * addresses, and a company's own domain may treat dots and tags as it likes).
 *
 * Leads a tenant already has under two spellings of one Gmail mailbox are not merged behind the
 * user's back: the one spelled as the key (else the oldest) takes the key, the others are marked
 * `email_kept_apart` and keep their own address as their key. The TypeScript twin of the function
 * is `leadEmailKey` (lead-email-key.ts); a test holds the two to the same answers.
 */
export class LeadEmailKey extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create function lead_email_key(email text) returns text language sql immutable parallel safe as $$
        select case
          when split_part(lower(email), '@', 2) in ('gmail.com', 'googlemail.com')
           and replace(split_part(split_part(lower(email), '@', 1), '+', 1), '.', '') <> ''
          then replace(split_part(split_part(lower(email), '@', 1), '+', 1), '.', '') || '@gmail.com'
          else lower(email) end
      $$`);
    this.addSql(`alter table lead add column email_kept_apart boolean not null default false`);
    this.addSql(`
      update lead x set email_kept_apart = true from (
        select id, row_number() over (partition by tenant_id, lead_email_key(email) order by (email = lead_email_key(email)) desc, created_at, id) as rank
        from lead where email is not null) ranked
      where ranked.id = x.id and ranked.rank > 1`);
    this.addSql(`alter table lead add column email_key text generated always as (case when email_kept_apart then email else lead_email_key(email) end) stored`);
    this.addSql(`create unique index lead_tenant_email_key_unique on lead (tenant_id, email_key) where email is not null`);
    this.addSql(`drop index lead_tenant_email_unique`);
  }

  override async down(): Promise<void> {
    this.addSql(`create unique index lead_tenant_email_unique on lead (tenant_id, email) where email is not null`);
    this.addSql(`drop index lead_tenant_email_key_unique`);
    this.addSql(`alter table lead drop column email_key, drop column email_kept_apart`);
    this.addSql(`drop function lead_email_key(text)`);
  }
}
