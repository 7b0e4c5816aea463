import { randomBytes } from 'node:crypto';
import { createMonotonicClock, startFakeCrmServer, type FakeCrmFault, type FakeCrmReply, type FakeCrmServer } from './fake-crm-server.js';

export interface FakeSalesforceLead {
  Id: string;
  FirstName: string | null;
  LastName: string | null;
  Email: string | null;
  Phone: string | null;
  Title: string | null;
  Company: string | null;
  Website: string | null;
  SystemModstamp: string;
  LastModifiedDate: string;
  IsDeleted: boolean;
  MasterRecordId: string | null;
  deletedDate: string | null;
}

export interface FakeSalesforce extends AsyncDisposable {
  /** The login URL and the instance URL (one server plays both). */
  baseUrl: string;
  accessToken: string;
  oauth: { clientId: string; clientSecret: string; refreshToken: string };
  organizationId: string;
  server: FakeCrmServer;
  leads: Map<string, FakeSalesforceLead>;
  seedLeads(count: number, make?: (index: number) => Partial<FakeSalesforceLead>): FakeSalesforceLead[];
  editLead(id: string, changes: Partial<FakeSalesforceLead>): FakeSalesforceLead;
  deleteLead(id: string): void;
  /** Merges `loserId` into `masterId` as Salesforce does: the loser is deleted with its MasterRecordId set. */
  mergeLeads(masterId: string, loserId: string): void;
  inject(fault: FakeCrmFault): void;
  revokeAccess(): void;
  close(): Promise<void>;
}

const version = 'v62.0';
const fieldNames = ['Id', 'FirstName', 'LastName', 'Email', 'Phone', 'Title', 'Company', 'Website', 'SystemModstamp', 'LastModifiedDate', 'IsDeleted', 'MasterRecordId'] as const;
const writable = new Set(['FirstName', 'LastName', 'Email', 'Phone', 'Title', 'Company', 'Website']);
const sfError = (status: number, errorCode: string, message: string, fields: string[] = []): FakeCrmReply => ({ status, body: [{ message, errorCode, fields }] });

/** Salesforce's refusal of a Lead's values (unknown field, bad email, required fields), or null. */
const validate = (values: Record<string, unknown>, creating: boolean): FakeCrmReply | null => {
  const unknown = Object.keys(values).find((field) => !writable.has(field));
  if (unknown) return sfError(400, 'INVALID_FIELD', `No such column '${unknown}' on sobject of type Lead`, [unknown]);
  if (values['Email'] && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(String(values['Email']))) return sfError(400, 'INVALID_EMAIL_ADDRESS', `Email: invalid email address: ${values['Email']}`, ['Email']);
  if (creating && (!values['LastName'] || !values['Company'])) return sfError(400, 'REQUIRED_FIELD_MISSING', `Required fields are missing: [${['LastName', 'Company'].filter((field) => !values[field]).join(', ')}]`, ['LastName', 'Company'].filter((field) => !values[field]));
  return null;
};

/** A record's failure inside an sObject Collections answer. */
const saveError = (statusCode: string, message: string, fields: string[] = []) => ({ success: false, errors: [{ statusCode, message, fields }] });

/** The single-record refusal `validate` gives, as a collection's per-record failure. */
const saveErrorOf = (reply: FakeCrmReply) => {
  const [error] = reply.body as Array<{ errorCode: string; message: string; fields: string[] }>;
  return saveError(error!.errorCode, error!.message, error!.fields);
};

/** The SOQL `WHERE` conditions the fake understands, as Salesforce evaluates them. */
function matches(lead: FakeSalesforceLead, where: string | undefined): boolean {
  if (!where) return true;
  return where.split(/\s+AND\s+/i).every((condition) => {
    const compare = /^(\w+)\s*(>=|>|=|<=|<)\s*(.+)$/.exec(condition.trim());
    const inList = /^(\w+)\s+IN\s*\((.*)\)$/i.exec(condition.trim());
    if (inList) {
      const values = [...inList[2]!.matchAll(/'((?:[^'\\]|\\.)*)'/g)].map((match) => match[1]!.toLowerCase());
      return values.includes(String((lead as any)[inList[1]!] ?? '').toLowerCase());
    }
    if (!compare) throw new Error(`unsupported condition ${condition}`);
    const [, field, operator, raw] = compare;
    const actual = (lead as any)[field!];
    if (raw === 'true' || raw === 'false') return String(actual) === raw;
    const expected = raw!.startsWith("'") ? raw!.slice(1, -1) : raw!;
    const left = field === 'SystemModstamp' || field === 'LastModifiedDate' ? Date.parse(actual) : String(actual ?? '');
    const right = field === 'SystemModstamp' || field === 'LastModifiedDate' ? Date.parse(expected) : expected;
    switch (operator) {
      case '>=':
        return left >= right;
      case '>':
        return left > right;
      case '<=':
        return left <= right;
      case '<':
        return left < right;
      default:
        return String(left).toLowerCase() === String(right).toLowerCase();
    }
  });
}

/**
 * A local Salesforce as jsforce calls it: OAuth refresh, the REST API (`/services/data/v62.0`):
 * SOQL queries on Lead (`WHERE SystemModstamp >= … ORDER BY SystemModstamp, Id`, `Email IN (…)`),
 * `queryAll` for deleted rows and their `MasterRecordId`, `nextRecordsUrl` paging with the
 * `Sforce-Query-Options: batchSize`, `sobjects/Lead/deleted`, describe, create / update /
 * delete, `Sforce-Limit-Info`, and REQUEST_LIMIT_EXCEEDED (403) when a limit is spent.
 */
export async function startFakeSalesforce(options: { latencyMs?: number } = {}): Promise<FakeSalesforce> {
  const tokens = new Set([`00D${randomBytes(12).toString('hex')}`]);
  const accessToken = [...tokens][0]!;
  const oauth = { clientId: `3MVG${randomBytes(8).toString('hex')}`, clientSecret: randomBytes(16).toString('hex'), refreshToken: `5Aep${randomBytes(16).toString('hex')}` };
  const organizationId = `00D${randomBytes(6).toString('hex').toUpperCase()}`;
  const clock = createMonotonicClock();
  const leads = new Map<string, FakeSalesforceLead>();
  const cursors = new Map<string, { records: FakeSalesforceLead[]; fields: string[]; offset: number; batch: number }>();
  let sequence = 0;
  const stamp = () => clock().toISOString().replace('Z', '+0000');
  const newId = () => `00Q${(sequence++).toString(36).padStart(9, '0').toUpperCase()}AAA`;
  let baseUrl = '';

  const view = (lead: FakeSalesforceLead, fields: string[]) => ({ attributes: { type: 'Lead', url: `/services/data/${version}/sobjects/Lead/${lead.Id}` }, ...Object.fromEntries(fields.map((field) => [field, (lead as any)[field] ?? null])) });

  const page = (key: string): Record<string, unknown> => {
    const cursor = cursors.get(key)!;
    const records = cursor.records.slice(cursor.offset, cursor.offset + cursor.batch);
    cursor.offset += records.length;
    const done = cursor.offset >= cursor.records.length;
    if (done) cursors.delete(key);
    return { totalSize: cursor.records.length, done, records: records.map((lead) => view(lead, cursor.fields)), ...(done ? {} : { nextRecordsUrl: `/services/data/${version}/query/${key}-${cursor.offset}` }) };
  };

  const query = (soql: string, all: boolean, batch: number): FakeCrmReply => {
    const match = /^SELECT\s+(.+?)\s+FROM\s+(\w+)(?:\s+WHERE\s+(.+?))?(?:\s+ORDER BY\s+(.+?))?(?:\s+LIMIT\s+(\d+))?$/i.exec(soql.trim());
    if (!match) return sfError(400, 'MALFORMED_QUERY', `unexpected token: ${soql.slice(0, 40)}`);
    const fields = match[1]!.split(',').map((field) => field.trim());
    if (match[2] === 'Organization') return { status: 200, body: { totalSize: 1, done: true, records: [{ attributes: { type: 'Organization' }, Id: organizationId, Name: 'Fake Salesforce Org' }] } };
    if (match[2] !== 'Lead') return sfError(400, 'INVALID_TYPE', `sObject type '${match[2]}' is not supported.`);
    const unknown = fields.find((field) => !(fieldNames as readonly string[]).includes(field));
    if (unknown) return sfError(400, 'INVALID_FIELD', `No such column '${unknown}' on entity 'Lead'.`);
    let found = [...leads.values()].filter((lead) => (all || !lead.IsDeleted) && matches(lead, match[3]));
    if (match[4]) found = found.toSorted((a, b) => Date.parse(a.SystemModstamp) - Date.parse(b.SystemModstamp) || a.Id.localeCompare(b.Id));
    if (match[5]) found = found.slice(0, Number(match[5]));
    const key = `01g${randomBytes(6).toString('hex')}`;
    cursors.set(key, { records: found, fields, offset: 0, batch });
    return { status: 200, body: page(key) };
  };

  const touch = (lead: FakeSalesforceLead) => {
    lead.SystemModstamp = stamp();
    lead.LastModifiedDate = lead.SystemModstamp;
  };

  const insertLead = (values: Record<string, unknown>): FakeSalesforceLead => {
    const time = stamp();
    const lead: FakeSalesforceLead = { Id: newId(), FirstName: null, LastName: null, Email: null, Phone: null, Title: null, Company: null, Website: null, ...values, SystemModstamp: time, LastModifiedDate: time, IsDeleted: false, MasterRecordId: null, deletedDate: null };
    leads.set(lead.Id, lead);
    return lead;
  };


  const server = await startFakeCrmServer({
    latencyMs: options.latencyMs,
    notFoundBody: [{ errorCode: 'NOT_FOUND', message: 'The requested resource does not exist' }],
    faultReply: (fault) => {
      if (fault.kind === 'rate-limit') return sfError(403, 'REQUEST_LIMIT_EXCEEDED', 'ConcurrentPerOrgLongTxn Limit exceeded.');
      if (fault.kind === 'daily-limit') return sfError(403, 'REQUEST_LIMIT_EXCEEDED', 'TotalRequests Limit exceeded.');
      if (fault.kind === 'unauthorized') return sfError(401, 'INVALID_SESSION_ID', 'Session expired or invalid');
      return null;
    },
    handle: ({ method, url, body, form, request }) => {
      const path = url.pathname;
      if (method === 'POST' && path === '/services/oauth2/token') {
        if (form?.get('grant_type') !== 'refresh_token' || form.get('client_id') !== oauth.clientId || form.get('client_secret') !== oauth.clientSecret || form.get('refresh_token') !== oauth.refreshToken) {
          return { status: 400, body: { error: 'invalid_grant', error_description: 'expired access/refresh token' } };
        }
        const token = `00D${randomBytes(12).toString('hex')}`;
        tokens.add(token);
        return { status: 200, body: { access_token: token, instance_url: baseUrl, id: `${baseUrl}/id/${organizationId}/005000000000001`, token_type: 'Bearer', issued_at: String(Date.now()), signature: randomBytes(16).toString('base64') } };
      }
      const token = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
      if (!token || !tokens.has(token)) return sfError(401, 'INVALID_SESSION_ID', 'Session expired or invalid');
      const headers = { 'sforce-limit-info': `api-usage=${sequence}/15000` };
      const data = `/services/data/${version}`;
      const batch = Number(/batchSize=(\d+)/.exec(String(request.headers['sforce-query-options'] ?? ''))?.[1] ?? 2000);
      if (method === 'GET' && (path === `${data}/query` || path === `${data}/queryAll`)) return { ...query(url.searchParams.get('q') ?? '', path.endsWith('queryAll'), Math.max(200, Math.min(batch, 2000))), headers };
      const more = new RegExp(`^${data}/query/(01g[0-9a-f]+)-\\d+$`).exec(path);
      if (method === 'GET' && more) return cursors.has(more[1]!) ? { status: 200, body: page(more[1]!), headers } : sfError(400, 'INVALID_QUERY_LOCATOR', 'invalid query locator');
      if (method === 'GET' && path === `${data}/sobjects/Lead/describe`) {
        return { status: 200, body: { name: 'Lead', fields: fieldNames.map((name) => ({ name, label: name.replace(/([a-z])([A-Z])/g, '$1 $2'), updateable: writable.has(name), createable: writable.has(name), type: name === 'Id' ? 'id' : 'string' })) }, headers };
      }
      if (method === 'GET' && (path === `${data}/sobjects/Lead/deleted/` || path === `${data}/sobjects/Lead/deleted`)) {
        const start = Date.parse(url.searchParams.get('start') ?? '');
        const end = Date.parse(url.searchParams.get('end') ?? '');
        const deletedRecords = [...leads.values()].filter((lead) => lead.IsDeleted && lead.deletedDate && Date.parse(lead.deletedDate) >= start && Date.parse(lead.deletedDate) <= end).map((lead) => ({ id: lead.Id, deletedDate: lead.deletedDate }));
        return { status: 200, body: { deletedRecords, earliestDateAvailable: new Date(Date.now() - 30 * 86_400_000).toISOString(), latestDateCovered: new Date(end).toISOString() }, headers };
      }
      if (method === 'POST' && path === `${data}/sobjects/Lead`) {
        const refused = validate(body ?? {}, true);
        if (refused) return refused;
        return { status: 201, write: true, body: { id: insertLead(body).Id, success: true, errors: [] }, headers };
      }
      // sObject Collections: up to 200 records in one call, one SaveResult each, in order; with
      // allOrNone false a refused record fails alone (its errors carry `statusCode`).
      if ((method === 'POST' || method === 'PATCH') && path === `${data}/composite/sobjects`) {
        const records = (body?.records ?? []) as Array<Record<string, unknown> & { attributes?: { type?: string } }>;
        if (records.length > 200) return sfError(400, 'EXCEEDED_ID_LIMIT', 'record limit reached. cannot submit more than 200 records into this call', []);
        const results = records.map((record) => {
          const { attributes, id, ...values } = record;
          if (attributes?.type !== 'Lead') return saveError('INVALID_TYPE', `sObject type '${attributes?.type ?? ''}' is not supported.`);
          if (method === 'PATCH') {
            const lead = leads.get(String(id ?? ''));
            if (!lead || lead.IsDeleted) return saveError('ENTITY_IS_DELETED', 'entity is deleted');
            const refused = validate(values, false);
            if (refused) return saveErrorOf(refused);
            Object.assign(lead, values);
            touch(lead);
            return { id: lead.Id, success: true, errors: [] };
          }
          const refused = validate(values, true);
          if (refused) return saveErrorOf(refused);
          return { id: insertLead(values).Id, success: true, errors: [] };
        });
        return { status: 200, write: results.some((result) => result.success), body: results, headers };
      }
      const single = new RegExp(`^${data}/sobjects/Lead/(\\w+)$`).exec(path);
      if (single) {
        const lead = leads.get(single[1]!);
        if (!lead || lead.IsDeleted) return sfError(404, 'NOT_FOUND', 'The requested resource does not exist');
        if (method === 'GET') return { status: 200, body: view(lead, (url.searchParams.get('fields') ?? fieldNames.join(',')).split(',')), headers };
        if (method === 'PATCH') {
          const refused = validate(body ?? {}, false);
          if (refused) return refused;
          Object.assign(lead, body);
          touch(lead);
          return { status: 204, write: true, headers };
        }
        if (method === 'DELETE') {
          lead.IsDeleted = true;
          lead.deletedDate = new Date().toISOString();
          touch(lead);
          return { status: 204, write: true, headers };
        }
      }
      return null;
    },
  });
  baseUrl = server.baseUrl;

  const close = () => server.close();
  return {
    baseUrl,
    accessToken,
    oauth,
    organizationId,
    server,
    leads,
    seedLeads(count, make = (index) => ({ FirstName: `First${index}`, LastName: `Last${index}`, Email: `lead${index}@seed.example.com`, Title: 'Buyer', Company: `Company ${index % 20}`, Website: `https://company${index % 20}.example.com` })) {
      return Array.from({ length: count }, (_unused, index) => {
        const time = stamp();
        const lead: FakeSalesforceLead = { Id: newId(), FirstName: null, LastName: null, Email: null, Phone: null, Title: null, Company: null, Website: null, ...make(index), SystemModstamp: time, LastModifiedDate: time, IsDeleted: false, MasterRecordId: null, deletedDate: null };
        leads.set(lead.Id, lead);
        return lead;
      });
    },
    editLead(id, changes) {
      const lead = leads.get(id)!;
      Object.assign(lead, changes);
      touch(lead);
      return lead;
    },
    deleteLead(id) {
      const lead = leads.get(id)!;
      lead.IsDeleted = true;
      lead.deletedDate = new Date().toISOString();
      touch(lead);
    },
    mergeLeads(masterId, loserId) {
      const master = leads.get(masterId)!;
      const loser = leads.get(loserId)!;
      for (const field of writable) if ((master as any)[field] === null && (loser as any)[field] !== null) (master as any)[field] = (loser as any)[field];
      touch(master);
      loser.IsDeleted = true;
      loser.MasterRecordId = masterId;
      loser.deletedDate = new Date().toISOString();
      touch(loser);
    },
    inject: (fault) => server.inject(fault),
    revokeAccess: () => tokens.clear(),
    close,
    [Symbol.asyncDispose]: close,
  };
}
