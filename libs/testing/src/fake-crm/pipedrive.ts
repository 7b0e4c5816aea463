import { randomBytes, randomUUID } from 'node:crypto';
import { createMonotonicClock, startFakeCrmServer, type FakeCrmFault, type FakeCrmReply, type FakeCrmServer } from './fake-crm-server.js';

export interface FakePipedrivePerson {
  id: number;
  name: string;
  first_name: string | null;
  last_name: string | null;
  job_title: string | null;
  org_id: number | null;
  emails: Array<{ value: string; primary: boolean; label: string }>;
  phones: Array<{ value: string; primary: boolean; label: string }>;
  add_time: string;
  update_time: string;
}

export interface FakePipedriveOptions {
  apiToken?: string;
  /** The basic-auth user and password webhooks are sent with. Default: random. */
  webhookUser?: string;
  webhookPassword?: string;
  latencyMs?: number;
}

export interface FakePipedrive extends AsyncDisposable {
  baseUrl: string;
  apiToken: string;
  companyDomain: string;
  webhookUser: string;
  webhookPassword: string;
  server: FakeCrmServer;
  persons: Map<number, FakePipedrivePerson>;
  organizations: Map<number, { id: number; name: string }>;
  seedPersons(count: number, make?: (index: number) => { first: string; last: string; email?: string; jobTitle?: string; organization?: string }): FakePipedrivePerson[];
  /** A person edited in Pipedrive (a webhook v2 payload of the change is returned). */
  editPerson(id: number, changes: Partial<Pick<FakePipedrivePerson, 'first_name' | 'last_name' | 'job_title' | 'emails'>>): { person: FakePipedrivePerson; webhook: string };
  /** A person deleted in Pipedrive; with `mergedInto`, the losing half of a merge. */
  deletePerson(id: number, mergedInto?: number): string;
  /** Headers Pipedrive sends with a webhook: basic auth with the configured user and password. */
  webhookHeaders(user?: string, password?: string): Record<string, string>;
  inject(fault: FakeCrmFault): void;
  revokeAccess(): void;
  close(): Promise<void>;
}

/** Whether every email of a write is one Pipedrive accepts. */
const validEmails = (emails: unknown) => !Array.isArray(emails) || emails.every((entry) => /^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(String((entry as { value?: string }).value ?? '')));

/** Pipedrive's 429 for its rate limit (a burst) or its daily budget. */
function rateLimited(retryAfterSeconds: number, daily: boolean): FakeCrmReply {
  return {
    status: 429,
    body: { success: false, error: daily ? 'Daily API token budget exceeded' : 'Rate limit exceeded', error_info: 'Please check developers.pipedrive.com for more information about Pipedrive API.' },
    headers: { 'retry-after': String(Math.ceil(retryAfterSeconds)), 'x-ratelimit-limit': '80', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(Math.ceil(retryAfterSeconds)) },
  };
}

/**
 * A local Pipedrive speaking the REST API its SDK (`pipedrive`, v2 persons and organizations, v1
 * users and person fields) uses: the `x-api-token` header, persons listed by `updated_since`
 * sorted by `update_time` with cursor paging, person search by exact email, 429s with their
 * rate-limit headers, and webhooks v2 (meta.action `create`/`change`/`delete`, `merged_to_id`)
 * sent with HTTP basic auth.
 */
export async function startFakePipedrive(options: FakePipedriveOptions = {}): Promise<FakePipedrive> {
  const tokens = new Set([options.apiToken ?? randomBytes(20).toString('hex')]);
  const apiToken = [...tokens][0]!;
  const webhookUser = options.webhookUser ?? 'pipedrive-hook';
  const webhookPassword = options.webhookPassword ?? randomBytes(16).toString('base64url');
  const clock = createMonotonicClock();
  const persons = new Map<number, FakePipedrivePerson>();
  const organizations = new Map<number, { id: number; name: string }>();
  let nextId = 1;
  const at = () => clock().toISOString();

  const organizationNamed = (name: string) => {
    const existing = [...organizations.values()].find((organization) => organization.name === name);
    if (existing) return existing;
    const organization = { id: nextId++, name };
    organizations.set(organization.id, organization);
    return organization;
  };

  const webhook = (action: 'create' | 'change' | 'delete', person: FakePipedrivePerson, previous: FakePipedrivePerson | null, mergedInto?: number) =>
    JSON.stringify({
      meta: { action, entity: 'person', version: '2.0', company_id: 7001, user_id: 1, id: randomUUID(), entity_id: String(person.id), webhook_id: '99', attempt: 1, host: 'fake.pipedrive.com', timestamp: person.update_time, change_source: 'app', ...(mergedInto ? { merged_to_id: String(mergedInto) } : {}) },
      data: action === 'delete' ? null : person,
      previous,
    });


  const apply = (person: FakePipedrivePerson, body: Record<string, any>) => {
    for (const field of ['first_name', 'last_name', 'job_title', 'org_id', 'emails', 'phones'] as const) if (field in body) (person as any)[field] = body[field];
    if ('name' in body) person.name = body['name'];
    else if ('first_name' in body || 'last_name' in body) person.name = [person.first_name, person.last_name].filter(Boolean).join(' ');
    person.update_time = at();
  };

  const server = await startFakeCrmServer({
    latencyMs: options.latencyMs,
    notFoundBody: { success: false, error: 'Not found' },
    faultReply: (fault) => {
      if (fault.kind === 'rate-limit') return rateLimited(fault.retryAfterSeconds ?? 0.05, false);
      if (fault.kind === 'daily-limit') return rateLimited(fault.retryAfterSeconds ?? 36_000, true);
      if (fault.kind === 'unauthorized') return { status: 401, body: { success: false, error: 'unauthorized access', errorCode: 401 } };
      return null;
    },
    handle: ({ method, url, body, request }) => {
      const token = request.headers['x-api-token'] ?? url.searchParams.get('api_token');
      if (typeof token !== 'string' || !tokens.has(token)) return { status: 401, body: { success: false, error: 'unauthorized access', errorCode: 401, error_info: 'Please check developers.pipedrive.com for more information about Pipedrive API.' } };
      const path = url.pathname;
      const query = url.searchParams;
      if (method === 'GET' && path === '/api/v1/users/me') return { status: 200, body: { success: true, data: { id: 1, name: 'Owner', email: 'owner@pipedrive.example.com', company_id: 7001, company_name: 'Fake Pipedrive Co', company_domain: 'fakeco' } } };
      if (method === 'GET' && path === '/api/v1/personFields') {
        const fields = ['name', 'first_name', 'last_name', 'email', 'phone', 'job_title', 'org_id', 'owner_id', 'add_time', 'update_time'];
        return { status: 200, body: { success: true, data: fields.map((key, index) => ({ id: index + 1, key, name: key.replace('_', ' '), edit_flag: false, field_type: 'varchar', bulk_edit_allowed: !key.endsWith('_time') })), additional_data: { pagination: { start: 0, limit: 100, more_items_in_collection: false } } } };
      }
      if (method === 'GET' && path === '/api/v2/persons') {
        const since = query.get('updated_since');
        const limit = Math.min(Number(query.get('limit') ?? 100), 500);
        const offset = Number(query.get('cursor') ? Buffer.from(query.get('cursor')!, 'base64url').toString() : 0);
        const ascending = query.get('sort_direction') !== 'desc';
        let all = [...persons.values()].filter((person) => !since || Date.parse(person.update_time) >= Date.parse(since));
        if (query.get('sort_by') === 'update_time') all = all.toSorted((a, b) => (Date.parse(a.update_time) - Date.parse(b.update_time) || a.id - b.id) * (ascending ? 1 : -1));
        const page = all.slice(offset, offset + limit);
        return { status: 200, body: { success: true, data: page, additional_data: { next_cursor: offset + limit < all.length ? Buffer.from(String(offset + limit)).toString('base64url') : null } } };
      }
      if (method === 'GET' && path === '/api/v2/persons/search') {
        const term = (query.get('term') ?? '').toLowerCase();
        const items = [...persons.values()].filter((person) => person.emails.some((entry) => entry.value.toLowerCase() === term)).map((person) => ({ result_score: 1, item: { id: person.id, name: person.name, emails: person.emails.map((entry) => entry.value) } }));
        return { status: 200, body: { success: true, data: { items }, additional_data: { next_cursor: null } } };
      }
      if (method === 'POST' && path === '/api/v2/persons') {
        if (!body?.name) return { status: 400, body: { success: false, error: 'Name must be given.', code: 'ERR_SCHEMA_VALIDATION_FAILED' } };
        if (!validEmails(body.emails)) return { status: 400, body: { success: false, error: 'Invalid email address', code: 'ERR_SCHEMA_VALIDATION_FAILED' } };
        const time = at();
        const person: FakePipedrivePerson = { id: nextId++, name: body.name, first_name: body.first_name ?? null, last_name: body.last_name ?? null, job_title: body.job_title ?? null, org_id: body.org_id ?? null, emails: body.emails ?? [], phones: body.phones ?? [], add_time: time, update_time: time };
        persons.set(person.id, person);
        return { status: 200, write: true, body: { success: true, data: person } };
      }
      const single = /^\/api\/v2\/persons\/(\d+)$/.exec(path);
      if (single) {
        const person = persons.get(Number(single[1]));
        if (!person) return { status: 404, body: { success: false, error: 'Person not found', code: 'ERR_NOT_FOUND' } };
        if (method === 'GET') return { status: 200, body: { success: true, data: person } };
        if (method === 'PATCH') {
          if (!validEmails(body?.emails)) return { status: 400, body: { success: false, error: 'Invalid email address', code: 'ERR_SCHEMA_VALIDATION_FAILED' } };
          apply(person, body ?? {});
          return { status: 200, write: true, body: { success: true, data: person } };
        }
        if (method === 'DELETE') {
          persons.delete(person.id);
          return { status: 200, write: true, body: { success: true, data: { id: person.id } } };
        }
      }
      if (method === 'GET' && path === '/api/v2/organizations/search') {
        const term = query.get('term') ?? '';
        const items = [...organizations.values()].filter((organization) => organization.name === term).map((organization) => ({ result_score: 1, item: organization }));
        return { status: 200, body: { success: true, data: { items }, additional_data: { next_cursor: null } } };
      }
      if (method === 'POST' && path === '/api/v2/organizations') return { status: 200, write: true, body: { success: true, data: organizationNamed(String(body?.name ?? 'Unnamed')) } };
      const organization = /^\/api\/v2\/organizations\/(\d+)$/.exec(path);
      if (method === 'GET' && organization) {
        const found = organizations.get(Number(organization[1]));
        return found ? { status: 200, body: { success: true, data: found } } : { status: 404, body: { success: false, error: 'Organization not found' } };
      }
      return null;
    },
  });

  const close = () => server.close();
  return {
    baseUrl: server.baseUrl,
    apiToken,
    companyDomain: 'fakeco',
    webhookUser,
    webhookPassword,
    server,
    persons,
    organizations,
    seedPersons(count, make = (index) => ({ first: `First${index}`, last: `Last${index}`, email: `person${index}@seed.example.com`, jobTitle: 'Buyer', organization: `Company ${index % 20}` })) {
      return Array.from({ length: count }, (_unused, index) => {
        const fields = make(index);
        const time = at();
        const person: FakePipedrivePerson = {
          id: nextId++,
          name: `${fields.first} ${fields.last}`,
          first_name: fields.first,
          last_name: fields.last,
          job_title: fields.jobTitle ?? null,
          org_id: fields.organization ? organizationNamed(fields.organization).id : null,
          emails: fields.email ? [{ value: fields.email, primary: true, label: 'work' }] : [],
          phones: [],
          add_time: time,
          update_time: time,
        };
        persons.set(person.id, person);
        return person;
      });
    },
    editPerson(id, changes) {
      const person = persons.get(id);
      if (!person) throw new Error(`no person ${id}`);
      const previous = { ...person };
      apply(person, changes);
      return { person, webhook: webhook('change', person, previous) };
    },
    deletePerson(id, mergedInto) {
      const person = persons.get(id);
      if (!person) throw new Error(`no person ${id}`);
      persons.delete(id);
      person.update_time = at();
      return webhook('delete', person, person, mergedInto);
    },
    webhookHeaders: (user = webhookUser, password = webhookPassword) => ({ 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`, 'user-agent': 'Pipedrive Webhooks' }),
    inject: (fault) => server.inject(fault),
    revokeAccess: () => tokens.clear(),
    close,
    [Symbol.asyncDispose]: close,
  };
}
