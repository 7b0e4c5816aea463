import { leadCustomFieldsChanged, leadImported, leadUpdated, publishEventForEntities, publishEventsFromQuery } from '@gtm/events';
import type { EntityManager } from '@gtm/runtime';
import { leadSnapshotSql } from '../lead/lead.events.js';
import type { LeadImport } from './lead-import.entity.js';

export interface MergeCounts {
  /** Staged rows the normaliser refused (each has its row error). */
  refused: number;
  /** New leads. */
  imported: number;
  /** Usable rows that went into a lead that already existed, or into another row of the file. */
  merged: number;
  /** Existing leads whose fields changed. */
  leadsUpdated: number;
  companiesCreated: number;
  listId: string | null;
}

/** The schema-qualified tables an import writes. */
export function importTables(em: EntityManager, stagingTable?: string | null) {
  const schema = `"${em.config.get('schema')}"`;
  return {
    schema,
    staging: stagingTable ? `${schema}."${stagingTable}"` : '',
    lead: `${schema}.lead`,
    company: `${schema}.company`,
    error: `${schema}.lead_import_error`,
    list: `${schema}.lead_list`,
    member: `${schema}.lead_list_member`,
    leadImport: `${schema}.lead_import`,
  };
}

/** How a field of an existing row takes the import's value: fill it when empty, or (overwrite) replace it when the import has one. */
const take = (existing: string, incoming: string, overwrite: boolean) => (overwrite ? `coalesce(${incoming}, ${existing})` : `coalesce(${existing}, ${incoming})`);

/** First non-null value of a column within a group of rows, in file order. */
const firstOf = (column: string) => `(array_agg(${column} order by row_number) filter (where ${column} is not null))[1]`;

const leadFields = ['first_name', 'last_name', 'email', 'phone', 'title', 'company_id', 'notes'] as const;
const contractNames: Record<(typeof leadFields)[number], string> = {
  first_name: 'firstName',
  last_name: 'lastName',
  email: 'email',
  phone: 'phone',
  title: 'title',
  company_id: 'companyId',
  notes: 'notes',
};

/**
 * The SQL of a time-ordered id (UUID version 7, decision 0087) for each row of a statement: one
 * `time_ordered_uuid()` for the whole statement — its 48 bits of milliseconds and 42 of its random
 * bits — then the row's number in the last 32 bits. A strong random number per row
 * (`gen_random_uuid()`, which `time_ordered_uuid()` starts from) cost about 1 s per 95,000 rows on
 * the shared machine, as much as the rest of the statement that made the ids (decision 0097). Ids
 * of one statement ascend with the row number; two statements share their first 96 bits only if
 * they run in the same millisecond and draw the same 42 random bits, and then the primary key
 * refuses the second one's rows (the merge fails and its job retries) rather than mix them up.
 */
async function numberedIds(run: (sql: string) => Promise<Array<Record<string, any>>>, schema: string): Promise<string> {
  const [made] = await run(`select left(${schema}.time_ordered_uuid()::text, 28) as prefix`);
  const prefix = String(made!['prefix']);
  // Inlined into the statement (CREATE TABLE AS takes no parameters): hex digits and dashes only.
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{4}$/.test(prefix)) throw new Error(`unexpected id prefix ${prefix}`);
  return `('${prefix}' || lpad(to_hex(row_number() over ()), 8, '0'))::uuid`;
}

/**
 * Merges an import's staged rows into the tenant's companies and leads with set-based SQL, inside
 * `transaction` (the job's item commit): nothing is written unless all of it is. Rows are
 * matched within the file and against existing leads by email; else company and normalised full
 * name; else phone (decision 0081). New leads are created, existing ones filled (or overwritten),
 * each change published as its lead event; the list of the import gets every lead a row went into.
 */
export async function mergeStagedImport(transaction: EntityManager, leadImport: LeadImport, requestId: string | null): Promise<MergeCounts> {
  const table = importTables(transaction, leadImport.stagingTable);
  const tenantId = leadImport.tenantId;
  const overwrite = leadImport.overwrite;
  const run = (sql: string, values: unknown[] = []) => transaction.execute<Array<Record<string, any>>>(sql, values);

  // The merge sorts, groups and hashes whole files: in the default 4 MB each of those spills to disk.
  await run(`set local work_mem = '64MB'`);
  // Its temporary tables outgrow the default 8 MB of local buffers. The size can only be set before
  // the connection's first temporary table; on a connection that has had one it stays as it is.
  await run(`savepoint temp_buffers`);
  try {
    await run(`set local temp_buffers = '128MB'`);
    await run(`release savepoint temp_buffers`);
  } catch {
    await run(`rollback to savepoint temp_buffers`);
  }
  // Fresh tables have no statistics: without them the planner joins 100,000 rows by nested loops.
  // A small sample is enough to choose hash joins over nested loops, and reads far fewer pages.
  await run(`set local default_statistics_target = 10`);
  await run(`analyze ${table.staging} (row_number)`);
  const [refused] = await run(
    `with refused as (
       insert into ${table.error} (import_id, row_number, column_name, message)
       select ?, row_number, error_column, error_message from ${table.staging} where error_message is not null returning 1)
     select count(*)::int as count from refused`,
    [leadImport.id],
  );

  // The usable rows with their match keys, computed here once per row: a key function is regular
  // expressions costing microseconds a row, and PostgreSQL would evaluate it again at every place
  // a query names it (decision 0087).
  await run(`create temp table import_row on commit drop as
    select row_number, email, first_name, last_name, phone, title, notes, company_name, ${table.schema}.company_name_key(company_name) as company_key, domain, website,
      industry, employee_count::integer as employee_count, company_phone, city, region, country, custom::jsonb as custom,
      ${table.schema}.lead_name_key(first_name, last_name) as name_key
    from ${table.staging} where error_message is null`);
  await run(`analyze import_row (domain, company_key)`);
  const [usable] = await run(`select count(*)::int as count from import_row`);
  const usableRows = Number(usable!['count']);
  if (usableRows === 0) {
    return { refused: Number(refused!['count']), imported: 0, merged: 0, leadsUpdated: 0, companiesCreated: 0, listId: null };
  }

  // Companies: one per domain, else per normalised name; matched by domain, else by name.
  // Candidate ids are time-ordered (decision 0087), made once per company, not per row.
  await run(`create temp table import_company on commit drop as
    select distinct_company.*, null::uuid as id, ${await numberedIds(run, table.schema)} as new_id from (
      select distinct on (coalesce(domain, company_key)) coalesce(domain, company_key) as company_ref, domain, company_key, company_name, website, industry,
        employee_count, company_phone, city, region, country
      from import_row where domain is not null or company_key is not null
      order by coalesce(domain, company_key), row_number) distinct_company`);
  await run(`create index on import_company (company_ref)`);
  await run(`analyze import_company (company_ref, domain, company_key)`);
  await run(`update import_company ic set id = c.id from ${table.company} c where ic.domain is not null and c.tenant_id = ? and c.domain = ic.domain`, [tenantId]);
  // Name lookups are joins against the tenant's companies of those names, not one probe per row.
  await run(
    `update import_company ic set id = found.id from (
       select distinct on (c.name_key) c.name_key, c.id from ${table.company} c
       where c.tenant_id = ? and c.domain is null and c.name_key in (select company_key from import_company where id is null and domain is not null)
       order by c.name_key, c.created_at, c.id) found
     where ic.id is null and ic.domain is not null and ic.company_key = found.name_key`,
    [tenantId],
  );
  // A company no row found is created with the id it was made with (id null, new_id its id): no
  // pass rewrites the table to hand out ids.
  await run(`analyze import_company (company_ref, domain, company_key, id)`);
  // A row that names a company without a website joins the one a row with a website named.
  await run(`update import_company ic set id = d.id from (
      select distinct on (company_key) company_key, coalesce(id, new_id) as id from import_company where domain is not null and company_key is not null order by company_key, (id is null), company_ref) d
    where ic.id is null and ic.domain is null and ic.company_key = d.company_key`);
  await run(
    `update import_company ic set id = found.id from (
       select distinct on (c.name_key) c.name_key, c.id from ${table.company} c
       where c.tenant_id = ? and c.name_key in (select company_key from import_company where id is null and domain is null)
       order by c.name_key, (c.domain is null) desc, c.created_at, c.id) found
     where ic.id is null and ic.domain is null and ic.company_key = found.name_key`,
    [tenantId],
  );
  // New rows go in in id order: each key extends the right edge of the primary key's b-tree.
  const [companies] = await run(
    `with created as (
       insert into ${table.company} (id, tenant_id, name, domain, website_url, industry, employee_count, phone, city, region, country, created_at, updated_at)
       select new_id, ?, coalesce(company_name, domain), domain, website, industry, employee_count, company_phone, city, region, country, now(), now()
       from import_company where id is null order by new_id returning 1)
     select count(*)::int as count from created`,
    [tenantId],
  );
  const companyColumns: Array<[string, string]> = [
    ['website_url', 'website'],
    ['industry', 'industry'],
    ['employee_count', 'employee_count'],
    ['phone', 'company_phone'],
    ['city', 'city'],
    ['region', 'region'],
    ['country', 'country'],
  ];
  await run(
    `update ${table.company} c set domain = coalesce(c.domain, ic.domain), ${companyColumns.map(([column, source]) => `${column} = ${take(`c.${column}`, `ic.${source}`, overwrite)}`).join(', ')}, updated_at = now()
     from (select distinct on (id) * from import_company where id is not null order by id, domain nulls last, company_ref) ic
     where c.id = ic.id and c.tenant_id = ?
       and (c.domain, ${companyColumns.map(([column]) => `c.${column}`).join(', ')}) is distinct from
           (coalesce(c.domain, ic.domain), ${companyColumns.map(([column, source]) => take(`c.${column}`, `ic.${source}`, overwrite)).join(', ')})`,
    [tenantId],
  );

  // The file's usable rows with their company, the key of the lead they name and how many rows name it.
  const keyedRows = `(select keyed.*, count(*) over (partition by match_key) as row_count from (
      select r.row_number, r.email, r.first_name, r.last_name, r.phone, r.title, r.notes, r.name_key, r.custom, ic.company_id,
        case when r.email is not null then 'e:' || r.email when ic.company_id is not null then 'n:' || ic.company_id || '|' || r.name_key else 'p:' || r.phone end as match_key
      from import_row r left join (select company_ref, coalesce(id, new_id) as company_id from import_company) ic on ic.company_ref = coalesce(r.domain, r.company_key)) keyed)`;
  // One group per lead the file names: same email; else same company and full name; else same
  // phone. Most leads are named by one row, which is taken as it is; only a repeated lead is
  // aggregated field by field (ordered aggregates sort each group of each field on their own).
  // Its custom fields take each key from the first row that has it.
  await run(`create temp table import_lead on commit drop as
    with keyed as materialized ${keyedRows},
    lead as (
      select match_key, row_number as first_row, 1 as row_count, email, first_name, last_name, phone, title, notes, company_id, custom, name_key
      from keyed where row_count = 1
      union all
      select match_key, min(row_number), count(*)::integer, ${firstOf('email')}, ${firstOf('first_name')}, ${firstOf('last_name')}, ${firstOf('phone')},
        ${firstOf('title')}, ${firstOf('notes')}, ${firstOf('company_id')},
        coalesce((select jsonb_object_agg(field.key, field.value order by member.ordinal desc)
                  from unnest(array_agg(custom order by row_number)) with ordinality as member(custom, ordinal), jsonb_each(member.custom) as field),
                 (array_agg(custom order by row_number))[1]),
        ${table.schema}.lead_name_key(${firstOf('first_name')}, ${firstOf('last_name')})
      from keyed where row_count > 1
      group by match_key)
    select lead.*, null::uuid as lead_id, ${await numberedIds(run, table.schema)} as new_lead_id, null::text as folded_into from lead`);
  await run(`create index on import_lead (match_key)`);
  await run(`analyze import_lead (match_key, lead_id, folded_into, company_id, name_key, email, phone)`);
  // A row without an email joins the row of the file with one for the same person at the same company.
  await run(`update import_lead n set folded_into = target.match_key from (
      select distinct on (company_id, name_key) match_key, company_id, name_key from import_lead
      where email is not null and company_id is not null and name_key <> '' order by company_id, name_key, first_row) target
    where n.match_key like 'n:%' and n.company_id = target.company_id and n.name_key = target.name_key`);

  // A row with only a phone joins the row of the file that gave a person or company the same number.
  await run(`update import_lead p set folded_into = target.match_key from (
      select distinct on (phone) match_key, phone from import_lead
      where match_key not like 'p:%' and phone is not null and folded_into is null order by phone, first_row) target
    where p.match_key like 'p:%' and p.phone = target.phone`);

  // Existing leads.
  await run(`update import_lead l set lead_id = x.id from ${table.lead} x where l.email is not null and x.tenant_id = ? and x.email = l.email`, [tenantId]);
  // By company and name: one join against the tenant's leads of those companies, not one probe per group.
  await run(
    `update import_lead l set lead_id = found.id from (
       select distinct on (wanted.match_key) wanted.match_key, x.id
       from import_lead wanted join ${table.lead} x on x.tenant_id = ? and x.company_id = wanted.company_id and x.name_key = wanted.name_key
       where wanted.lead_id is null and wanted.folded_into is null and wanted.company_id is not null and (wanted.email is null or wanted.name_key <> '')
         and (wanted.email is null or (x.email is null and wanted.name_key <> ''))
       order by wanted.match_key, (x.email is null) desc, x.created_at, x.id) found
     where l.match_key = found.match_key`,
    [tenantId],
  );
  await run(
    `update import_lead l set lead_id = (select x.id from ${table.lead} x where x.tenant_id = ? and x.phone = l.phone order by x.created_at, x.id limit 1)
     where l.lead_id is null and l.match_key like 'p:%'`,
    [tenantId],
  );
  // One group writes each existing lead, its email's group first. Another group that found the
  // same lead joins it, but one with an email of its own (found by name) becomes a lead of its own.
  await run(`update import_lead l
      set lead_id = case when l.match_key like 'e:%' then null else l.lead_id end,
          folded_into = case when l.match_key like 'e:%' then null else ranked.winner end
    from (
      select match_key, row_number() over claim as rank, first_value(match_key) over claim as winner
      from import_lead where lead_id is not null and folded_into is null
      window claim as (partition by lead_id order by (match_key like 'e:%') desc, first_row)) ranked
    where ranked.match_key = l.match_key and ranked.rank > 1`);
  // A group that found no lead and joins no other is a new lead, with the id it was made with (no
  // rewrite of the table to hand out ids); a group that joins another takes that one's lead.
  await run(`analyze import_lead (match_key, folded_into)`);
  await run(`update import_lead n set lead_id = coalesce(target.lead_id, target.new_lead_id) from import_lead target where n.folded_into = target.match_key`);

  const [created] = await run(
    `with created as (
       insert into ${table.lead} (id, tenant_id, first_name, last_name, email, phone, title, company_id, status, source, notes, custom_fields, created_at, updated_at)
       select new_lead_id, ?, first_name, last_name, email, phone, title, company_id, 'NEW', 'csv-import', notes, coalesce(custom, '{}'::jsonb), now(), now()
       from import_lead where lead_id is null order by new_lead_id returning 1)
     select count(*)::int as count from created`,
    [tenantId],
  );
  // Each new lead's event (lead.imported) is one outbox row per thousand leads carrying their ids,
  // not a snapshot per lead (decision 0085).
  await publishEventForEntities(transaction, leadImported, {
    select: `select new_lead_id::text as entity_id from import_lead where lead_id is null`,
    values: [],
    data: { importId: leadImport.id },
    requestId,
  });

  // Existing leads take what the file adds; a lead that gains nothing is not touched (a second
  // import of the same file changes nothing).
  const newValue = (field: string) => take(`x.${field}`, `l.${field}`, overwrite);
  const newCustom = overwrite ? `x.custom_fields || coalesce(l.custom, '{}'::jsonb)` : `coalesce(l.custom, '{}'::jsonb) || x.custom_fields`;
  await run(`create temp table import_updated (id uuid primary key, changed text[] not null, custom_changed text[] not null) on commit drop`);
  await run(
    `with planned as (
       select x.id, ${leadFields.map((field) => `${newValue(field)} as ${field}`).join(', ')}, ${newCustom} as custom_fields,
         array_remove(array[${leadFields.map((field) => `case when x.${field} is distinct from ${newValue(field)} then '${contractNames[field]}' end`).join(', ')}], null) as changed,
         array(select field.key from jsonb_each(${newCustom}) field where x.custom_fields -> field.key is distinct from field.value order by field.key) as custom_changed
       from ${table.lead} x join import_lead l on l.lead_id = x.id and l.folded_into is null
       where x.tenant_id = ?
     ),
     updated as (
       update ${table.lead} x set ${leadFields.map((field) => `${field} = planned.${field}`).join(', ')}, custom_fields = planned.custom_fields, updated_at = now()
       from planned where x.id = planned.id and (cardinality(planned.changed) > 0 or cardinality(planned.custom_changed) > 0)
       returning x.id, planned.changed, planned.custom_changed
     )
     insert into import_updated (id, changed, custom_changed) select id, changed, custom_changed from updated`,
    [tenantId],
  );
  const [updated] = await run(`select count(*)::int as count from import_updated`);
  // lead.updated names the contract's fields; custom fields that changed have an event of their own.
  await publishEventsFromQuery(transaction, leadUpdated, {
    select: `select x.id::text as entity_id, jsonb_build_object('lead', ${leadSnapshotSql('x')}, 'changed', to_jsonb(u.changed)) as data
             from ${table.lead} x join import_updated u on u.id = x.id where x.tenant_id = ? and cardinality(u.changed) > 0`,
    values: [tenantId],
    requestId,
  });
  await publishEventsFromQuery(transaction, leadCustomFieldsChanged, {
    select: `select x.id::text as entity_id, jsonb_build_object('customFields', x.custom_fields, 'changed', to_jsonb(u.custom_changed)) as data
             from ${table.lead} x join import_updated u on u.id = x.id where x.tenant_id = ? and cardinality(u.custom_changed) > 0`,
    values: [tenantId],
    requestId,
  });

  const [list] = await run(
    `insert into ${table.list} (id, tenant_id, name, import_id, columns, created_at, updated_at) values (gen_random_uuid(), ?, ?, ?, ?::jsonb, now(), now()) returning id`,
    [tenantId, leadImport.listName, leadImport.id, JSON.stringify(leadImport.columns ?? [])],
  );
  const listId = String(list!['id']);
  // Members have no foreign keys (decision 0084): the existing leads they name are locked here as a
  // foreign key's check would lock them, so none is deleted before this commits; one deleted since
  // it was matched fails the merge (it retries) rather than leave a member without its lead.
  const [locking] = await run(
    `with wanted as (select distinct lead_id from import_lead where lead_id is not null),
     locked as (select x.id from ${table.lead} x where x.tenant_id = ? and x.id in (select lead_id from wanted) for key share of x)
     select (select count(*) from wanted)::int as wanted, (select count(*) from locked)::int as locked`,
    [tenantId],
  );
  if (locking!['wanted'] !== locking!['locked']) throw new Error('a lead this import merges into was deleted while it ran');
  await run(
    `insert into ${table.member} (list_id, position, lead_id, tenant_id, cells)
     select ?, grouped.first_row, grouped.lead_id, ?, staged.cells
     from (select distinct on (coalesce(lead_id, new_lead_id)) coalesce(lead_id, new_lead_id) as lead_id, first_row from import_lead order by coalesce(lead_id, new_lead_id), first_row) grouped
     join ${table.staging} staged on staged.row_number = grouped.first_row`,
    [listId, tenantId],
  );

  const imported = Number(created!['count']);
  return {
    refused: Number(refused!['count']),
    imported,
    merged: usableRows - imported,
    leadsUpdated: Number(updated!['count']),
    companiesCreated: Number(companies!['count']),
    listId,
  };
}
