import { Migration } from '@mikro-orm/migrations';

/**
 * List members without foreign-key triggers (decision 0084). The two foreign keys of
 * `lead_list_member` cost an import one trigger call per member for each (2 s of a 100,000-row
 * merge) to check rows the same transaction had just written or locked. Their two guarantees are
 * kept another way:
 * - a member names an existing lead and list: the only writers (the import's merge and
 *   `addLeadsToList`) lock the existing leads they add `for key share` in the statement's
 *   transaction, and the import's new leads and list are written by the same transaction;
 * - a deleted lead or list leaves no member behind: one statement-level trigger per table deletes
 *   the members of all the rows a statement deleted, in that statement (the cascade, set-based;
 *   the function names the schema of the table that fired it, whatever the session's search path).
 */
export class ListMembersWithoutForeignKeys extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table lead_list_member drop constraint if exists lead_list_member_lead_id_fkey`);
    this.addSql(`alter table lead_list_member drop constraint if exists lead_list_member_list_id_fkey`);
    this.addSql(`
      create function delete_members_of_deleted_leads() returns trigger language plpgsql as $$
      begin
        execute format('delete from %I.lead_list_member member using deleted_lead where member.lead_id = deleted_lead.id', tg_table_schema);
        return null;
      end $$`);
    this.addSql(`create trigger lead_delete_members after delete on lead referencing old table as deleted_lead for each statement execute function delete_members_of_deleted_leads()`);
    this.addSql(`
      create function delete_members_of_deleted_lists() returns trigger language plpgsql as $$
      begin
        execute format('delete from %I.lead_list_member member using deleted_list where member.list_id = deleted_list.id', tg_table_schema);
        return null;
      end $$`);
    this.addSql(`create trigger lead_list_delete_members after delete on lead_list referencing old table as deleted_list for each statement execute function delete_members_of_deleted_lists()`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop trigger if exists lead_list_delete_members on lead_list`);
    this.addSql(`drop trigger if exists lead_delete_members on lead`);
    this.addSql(`drop function if exists delete_members_of_deleted_lists()`);
    this.addSql(`drop function if exists delete_members_of_deleted_leads()`);
    this.addSql(`delete from lead_list_member member where not exists (select 1 from lead where lead.id = member.lead_id) or not exists (select 1 from lead_list list where list.id = member.list_id)`);
    this.addSql(`alter table lead_list_member add foreign key (list_id) references lead_list (id) on delete cascade`);
    this.addSql(`alter table lead_list_member add foreign key (lead_id) references lead (id) on delete cascade`);
  }
}
