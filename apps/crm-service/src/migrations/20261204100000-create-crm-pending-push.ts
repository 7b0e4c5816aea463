import { Migration } from '@mikro-orm/migrations';

/**
 * Leads waiting to be pushed to a connected CRM: one row per connection and lead (a lead changed
 * many times waits once), written by the lead events' consumer and, for a delete, by a trigger in
 * the delete's own transaction — the lead's links are gone with it (cascade), so the records to
 * delete at each CRM are kept here before they go.
 */
export class CreateCrmPendingPush extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table crm_pending_push (
        connection_id uuid not null references crm_connection (id) on delete cascade,
        lead_id uuid not null,
        tenant_id uuid not null,
        delete_external_id text,
        -- Milliseconds, as a JavaScript Date holds it: a push is taken off by the time it read.
        queued_at timestamptz not null,
        primary key (connection_id, lead_id)
      )`);
    this.addSql(`create index crm_pending_push_connection_queued on crm_pending_push (connection_id, queued_at, lead_id)`);
    // Only a lead deleted while still linked leaves work: the sync's own deletes (a record deleted at
    // the provider) drop that connection's link first, and a merge moves or drops the merged lead's.
    this.addSql(`
      create function crm_pending_push_on_lead_delete() returns trigger language plpgsql set search_path from current as $$
      begin
        insert into crm_pending_push (connection_id, lead_id, tenant_id, delete_external_id, queued_at)
          select link.connection_id, link.lead_id, link.tenant_id, link.external_id, date_trunc('milliseconds', clock_timestamp())
            from crm_record_link link join crm_connection connection on connection.id = link.connection_id
           where link.lead_id = old.id and connection.status <> 'DISCONNECTED'
          on conflict (connection_id, lead_id) do update set delete_external_id = excluded.delete_external_id, queued_at = excluded.queued_at;
        return old;
      end $$`);
    this.addSql(`create trigger crm_pending_push_on_lead_delete before delete on lead for each row execute function crm_pending_push_on_lead_delete()`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop trigger if exists crm_pending_push_on_lead_delete on lead`);
    this.addSql(`drop function if exists crm_pending_push_on_lead_delete()`);
    this.addSql(`drop table if exists crm_pending_push`);
  }
}
