import { exportCsv } from '@gtm/csv';
import { downloadLink, type DownloadHandler, type FileTickets } from '@gtm/files';
import { badUserInput, isUuid, maximumPageSize, notFound, paginate, type ConnectionArgs, type Connection, type Database, type EntityManager, type SubgraphContext } from '@gtm/runtime';
import { importTables } from '../lead-import/lead-import.merge.js';
import { Lead } from '../lead/lead.entity.js';
import type { CrmLoaders } from '../loaders.js';
import { LeadList } from './lead-list.entity.js';

type CrmContext = SubgraphContext<CrmLoaders>;

export const leadListDownload = { service: 'crm', purpose: 'lead-list-export' } as const;

/** Rows read per query while a list streams out. */
const exportPageSize = 2_000;
const maximumLeadsAdded = 1_000;

/** The normalised fields an export adds after the file's own columns. */
const normalisedHeader = ['Lead ID', 'First name', 'Last name', 'Email', 'Phone', 'Title', 'Company', 'Company domain', 'Status'];

function encodePosition(position: number): string {
  return Buffer.from(`p:${position}`).toString('base64url');
}

function decodePosition(cursor: string): number {
  const match = /^p:(\d{1,15})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!match) throw badUserInput('The `after` cursor is not one this API returned; pass the `cursor` or `pageInfo.endCursor` of a previous page.', 'after');
  return Number(match[1]);
}

/** Lists of leads: the ones imports make, and ones made by hand; their pages and their export. */
export class LeadListService {
  constructor(private readonly tickets: FileTickets) {}

  async get(context: { em: EntityManager }, id: string): Promise<LeadList | null> {
    if (!isUuid(id)) return null;
    return context.em.findOne(LeadList, { id });
  }

  list(context: CrmContext, args: ConnectionArgs) {
    return paginate(context.em, LeadList, {}, args);
  }

  async leadCount(context: CrmContext, list: LeadList): Promise<number> {
    const [row] = await context.em.execute<Array<{ count: number }>>(`select count(*)::int as count from ${importTables(context.em).member} where list_id = ?`, [list.id]);
    return Number(row?.count ?? 0);
  }

  /** A page of the list's leads in list order (the file's), by a cursor on the position: one indexed range read per page. */
  async leads(context: CrmContext, list: LeadList, first: number | null | undefined, after: string | null | undefined): Promise<Connection<Lead>> {
    const size = first ?? 20;
    if (!Number.isInteger(size) || size < 1 || size > maximumPageSize) throw badUserInput(`\`first\` must be between 1 and ${maximumPageSize}; got ${size}.`, 'first');
    const from = after ? decodePosition(after) : -1;
    const members = await context.em.execute<Array<{ lead_id: string; position: string }>>(
      `select lead_id, position from ${importTables(context.em).member} where list_id = ? and position > ? order by position limit ?`,
      [list.id, from, size + 1],
    );
    const page = members.slice(0, size);
    const leads = await context.em.find(Lead, { id: { $in: page.map((member) => member.lead_id) } });
    const byId = new Map(leads.map((lead) => [lead.id, lead]));
    const edges = page.flatMap((member) => {
      const lead = byId.get(member.lead_id);
      return lead ? [{ node: lead, cursor: encodePosition(Number(member.position)) }] : [];
    });
    return {
      edges,
      pageInfo: { hasNextPage: members.length > size, hasPreviousPage: from >= 0, startCursor: edges[0]?.cursor ?? null, endCursor: edges.at(-1)?.cursor ?? null },
    };
  }

  async create(context: CrmContext, name: string): Promise<LeadList> {
    const trimmed = name.trim();
    if (!trimmed || trimmed.length > 255) throw badUserInput('name must be 1 to 255 characters.', 'name');
    const list = context.em.create(LeadList, { tenantId: context.caller.tenantId, name: trimmed });
    await context.em.persist(list).flush();
    return list;
  }

  /** Adds leads of the caller's tenant to a list of its own, after its last member; leads already in it stay where they are. */
  async addLeads(context: CrmContext, listId: string, leadIds: string[]): Promise<LeadList> {
    const list = await this.get(context, listId);
    if (!list) throw notFound('LeadList', listId);
    if (leadIds.length === 0 || leadIds.length > maximumLeadsAdded) throw badUserInput(`leadIds must hold 1 to ${maximumLeadsAdded} ids.`, 'leadIds');
    const unknown = leadIds.find((id) => !isUuid(id));
    if (unknown) throw notFound('Lead', unknown);
    const found = await context.em.find(Lead, { id: { $in: leadIds } }, { fields: ['id'] });
    const missing = leadIds.find((id) => !found.some((lead) => lead.id === id));
    if (missing) throw notFound('Lead', missing);
    const table = importTables(context.em);
    await context.em.transactional(async (transaction) => {
      // The list's row is locked so two additions number their members one after the other.
      await transaction.execute(`select id from ${table.list} where id = ? for update`, [list.id]);
      // Members have no foreign keys (decision 0084): the leads are locked as a foreign key's check
      // would lock them, so none is deleted before this commits; one deleted meanwhile is not found.
      const wanted = [...new Set(leadIds)];
      const locked = await transaction.execute<Array<{ id: string }>>(
        `select id from ${table.lead} where tenant_id = ? and id in (select value::uuid from jsonb_array_elements_text(?::jsonb)) for key share`,
        [list.tenantId, JSON.stringify(wanted)],
      );
      const gone = wanted.find((id) => !locked.some((lead) => lead.id === id));
      if (gone) throw notFound('Lead', gone);
      await transaction.execute(
        `insert into ${table.member} (list_id, position, lead_id, tenant_id)
         select ?, coalesce((select max(position) from ${table.member} where list_id = ?), 0) + ordinal, lead_id::uuid, ?
         from jsonb_array_elements_text(?::jsonb) with ordinality as added(lead_id, ordinal)
         on conflict (list_id, lead_id) do nothing`,
        [list.id, list.id, list.tenantId, JSON.stringify(wanted)],
      );
    });
    return list;
  }

  downloadUrl(context: CrmContext, list: LeadList): string {
    return downloadLink(this.tickets, context, { ...leadListDownload, resourceId: list.id }).url;
  }
}

/**
 * The list as CSV: the file's own columns as they were uploaded, then the lead's normalised
 * fields, read in keyset pages as the client downloads (formula cells escaped by exportCsv).
 */
export function createLeadListExport(database: Database): DownloadHandler {
  return async ({ caller, ticket, signal }) => {
    const em = database.forkForTenant(caller.tenantId);
    const list = isUuid(ticket.resourceId) ? await em.findOne(LeadList, { id: ticket.resourceId }) : null;
    if (!list) throw notFound('LeadList', ticket.resourceId);
    const table = importTables(em);
    const width = list.columns.length;
    async function* rows(): AsyncGenerator<string[]> {
      let after = -1;
      while (!signal.aborted) {
        const page = await em.execute<Array<Record<string, any>>>(
          `select member.position, member.cells, lead.id, lead.first_name, lead.last_name, lead.email, lead.phone, lead.title, lead.status, company.name as company_name, company.domain
             from ${table.member} member join ${table.lead} lead on lead.id = member.lead_id left join ${table.company} company on company.id = lead.company_id
            where member.list_id = ? and member.position > ? order by member.position limit ?`,
          [list!.id, after, exportPageSize],
        );
        for (const row of page) {
          const cells: string[] = typeof row['cells'] === 'string' ? JSON.parse(row['cells']) : (row['cells'] ?? []);
          const original = Array.from({ length: width }, (_unused, index) => cells[index] ?? '');
          yield [...original, ...[row['id'], row['first_name'], row['last_name'], row['email'], row['phone'], row['title'], row['company_name'], row['domain'], row['status']].map((value) => (value === null ? '' : String(value)))];
        }
        if (page.length < exportPageSize) return;
        after = Number(page.at(-1)!['position']);
      }
    }
    const safeName = list.name.replace(/\.csv$/i, '');
    return { fileName: `${safeName}.csv`, body: exportCsv(rows(), { header: [...list.columns, ...normalisedHeader] }) };
  };
}
