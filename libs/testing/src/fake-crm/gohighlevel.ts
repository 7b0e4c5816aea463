import { generateKeyPairSync, randomBytes, randomUUID, sign } from 'node:crypto';
import { createMonotonicClock, startFakeCrmServer, type FakeCrmFault, type FakeCrmReply, type FakeCrmServer } from './fake-crm-server.js';

export interface FakeGoHighLevelContact {
  id: string;
  locationId: string;
  firstName: string | null;
  lastName: string | null;
  email: string | null;
  phone: string | null;
  companyName: string | null;
  website: string | null;
  dateAdded: string;
  dateUpdated: string;
}

export interface FakeGoHighLevel extends AsyncDisposable {
  baseUrl: string;
  token: string;
  locationId: string;
  /** The PEM public key whose private half signs the webhooks (GoHighLevel publishes its own). */
  webhookPublicKey: string;
  server: FakeCrmServer;
  contacts: Map<string, FakeGoHighLevelContact>;
  seedContacts(count: number, make?: (index: number) => Partial<FakeGoHighLevelContact>): FakeGoHighLevelContact[];
  /** A contact edited in GoHighLevel; answers the webhook body announcing it. */
  editContact(id: string, changes: Partial<FakeGoHighLevelContact>): { contact: FakeGoHighLevelContact; webhook: string };
  deleteContact(id: string): string;
  /** `X-GHL-Signature`: base64 Ed25519 signature of the raw body. */
  signWebhook(body: string, privateKey?: string): Record<string, string>;
  inject(fault: FakeCrmFault): void;
  revokeAccess(): void;
  close(): Promise<void>;
}

function rateLimited(daily: boolean, retryAfterSeconds: number): FakeCrmReply {
  return {
    status: 429,
    body: { statusCode: 429, message: 'Too many requests' },
    headers: {
      'x-ratelimit-limit-daily': '200000',
      'x-ratelimit-daily-remaining': daily ? '0' : '150000',
      ...(daily ? { 'x-ratelimit-daily-reset': String(Math.round(retryAfterSeconds * 1000)) } : {}),
      'x-ratelimit-interval-milliseconds': String(Math.max(1, Math.round(retryAfterSeconds * 1000))),
      'x-ratelimit-max': '100',
      'x-ratelimit-remaining': '0',
    },
  };
}

const validEmail = (email: unknown) => email === null || email === undefined || email === '' || /^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(String(email));

/**
 * A local GoHighLevel (LeadConnector API v2) as its SDK (`@gohighlevel/api-client`) calls it:
 * Bearer private integration tokens, a location, contacts searched with `filters` on
 * `dateUpdated` sorted ascending and paged by `searchAfter`, duplicate lookup by email, the
 * `x-ratelimit-*` headers with burst and daily 429s, and webhooks signed with Ed25519 in
 * `X-GHL-Signature`.
 */
export async function startFakeGoHighLevel(options: { latencyMs?: number } = {}): Promise<FakeGoHighLevel> {
  const tokens = new Set([`pit-${randomUUID()}`]);
  const token = [...tokens][0]!;
  const locationId = randomBytes(10).toString('base64url');
  const keys = generateKeyPairSync('ed25519');
  const webhookPublicKey = keys.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const webhookPrivateKey = keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const clock = createMonotonicClock();
  const contacts = new Map<string, FakeGoHighLevelContact>();
  const at = () => clock().toISOString();

  const webhook = (type: string, contact: FakeGoHighLevelContact) => JSON.stringify({ type, locationId, id: contact.id, email: contact.email, firstName: contact.firstName, lastName: contact.lastName, dateAdded: contact.dateAdded, webhookId: randomUUID(), timestamp: new Date().toISOString() });

  const insert = (fields: Partial<FakeGoHighLevelContact>): FakeGoHighLevelContact => {
    const time = at();
    const contact: FakeGoHighLevelContact = { id: randomBytes(10).toString('base64url'), locationId, firstName: null, lastName: null, email: null, phone: null, companyName: null, website: null, ...fields, dateAdded: time, dateUpdated: time };
    contacts.set(contact.id, contact);
    return contact;
  };

  const update = (contact: FakeGoHighLevelContact, changes: Record<string, unknown>) => {
    let changed = false;
    for (const field of ['firstName', 'lastName', 'email', 'phone', 'companyName', 'website'] as const) {
      if (field in changes && contact[field] !== changes[field]) {
        (contact as any)[field] = changes[field] ?? null;
        changed = true;
      }
    }
    if (changed) contact.dateUpdated = at();
    return contact;
  };

  const server = await startFakeCrmServer({
    latencyMs: options.latencyMs,
    notFoundBody: { statusCode: 404, message: 'Not Found' },
    faultReply: (fault) => {
      if (fault.kind === 'rate-limit') return rateLimited(false, fault.retryAfterSeconds ?? 0.05);
      if (fault.kind === 'daily-limit') return rateLimited(true, fault.retryAfterSeconds ?? 36_000);
      if (fault.kind === 'unauthorized') return { status: 401, body: { statusCode: 401, message: 'Invalid JWT' } };
      return null;
    },
    handle: ({ method, url, body, request }) => {
      const presented = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
      if (!presented || !tokens.has(presented)) return { status: 401, body: { statusCode: 401, message: 'Invalid Private Integration token' } };
      if (!request.headers['version']) return { status: 400, body: { statusCode: 400, message: 'Version header was not found' } };
      const path = url.pathname;
      if (method === 'GET' && path === `/locations/${locationId}`) return { status: 200, body: { location: { id: locationId, name: 'Fake Sub-Account', companyId: 'company_fake' } } };
      if (method === 'GET' && path === `/locations/${locationId}/customFields`) return { status: 200, body: { customFields: [{ id: 'cf1', name: 'Qualification score', fieldKey: 'contact.qualification_score', dataType: 'TEXT' }] } };
      if (path.startsWith('/locations/')) return { status: 403, body: { statusCode: 403, message: 'The token does not have access to this location.' } };
      if (method === 'POST' && path === '/contacts/search') {
        if (body?.locationId !== locationId) return { status: 403, body: { statusCode: 403, message: 'The token does not have access to this location.' } };
        const pageLimit = Math.min(Number(body?.pageLimit ?? 20), 500);
        const range = (body?.filters ?? []).find((filter: { field: string }) => filter.field === 'dateUpdated')?.value as { gte?: string } | undefined;
        const after = body?.searchAfter as [number, string] | undefined;
        const all = [...contacts.values()]
          .filter((contact) => !range?.gte || Date.parse(contact.dateUpdated) >= Date.parse(range.gte))
          .toSorted((a, b) => Date.parse(a.dateUpdated) - Date.parse(b.dateUpdated) || a.id.localeCompare(b.id));
        const start = after ? all.findIndex((contact) => Date.parse(contact.dateUpdated) > after[0] || (Date.parse(contact.dateUpdated) === after[0] && contact.id > after[1])) : 0;
        const page = start < 0 ? [] : all.slice(start, start + pageLimit);
        return { status: 200, body: { contacts: page.map((contact) => ({ ...contact, searchAfter: [Date.parse(contact.dateUpdated), contact.id] })), total: all.length } };
      }
      if (method === 'GET' && path === '/contacts/search/duplicate') {
        const email = url.searchParams.get('email')?.toLowerCase();
        return { status: 200, body: { contact: [...contacts.values()].find((contact) => contact.email?.toLowerCase() === email) ?? null } };
      }
      if (method === 'POST' && path === '/contacts/') {
        if (!validEmail(body?.email)) return { status: 422, body: { statusCode: 422, message: ['email must be an email'], error: 'Unprocessable Entity' } };
        const { locationId: _location, ...fields } = body ?? {};
        return { status: 201, write: true, body: { contact: insert(fields) } };
      }
      const single = /^\/contacts\/([^/]+)$/.exec(path);
      if (single) {
        const contact = contacts.get(single[1]!);
        if (!contact) return { status: 400, body: { statusCode: 400, message: 'Contact not found' } };
        if (method === 'GET') return { status: 200, body: { contact } };
        if (method === 'PUT') {
          if (!validEmail(body?.email)) return { status: 422, body: { statusCode: 422, message: ['email must be an email'], error: 'Unprocessable Entity' } };
          return { status: 200, write: true, body: { succeded: true, contact: update(contact, body ?? {}) } };
        }
        if (method === 'DELETE') {
          contacts.delete(contact.id);
          return { status: 200, write: true, body: { succeded: true } };
        }
      }
      return null;
    },
  });

  const signWebhook: FakeGoHighLevel['signWebhook'] = (payload, privateKey = webhookPrivateKey) => ({ 'content-type': 'application/json', 'x-ghl-signature': sign(null, Buffer.from(payload), privateKey).toString('base64') });
  const close = () => server.close();
  return {
    baseUrl: server.baseUrl,
    token,
    locationId,
    webhookPublicKey,
    server,
    contacts,
    seedContacts(count, make = (index) => ({ firstName: `First${index}`, lastName: `Last${index}`, email: `contact${index}@seed.example.com`, companyName: `Company ${index % 20}`, website: `https://company${index % 20}.example.com` })) {
      return Array.from({ length: count }, (_unused, index) => insert(make(index)));
    },
    editContact(id, changes) {
      const contact = contacts.get(id);
      if (!contact) throw new Error(`no contact ${id}`);
      update(contact, changes);
      return { contact, webhook: webhook('ContactUpdate', contact) };
    },
    deleteContact(id) {
      const contact = contacts.get(id);
      if (!contact) throw new Error(`no contact ${id}`);
      contacts.delete(id);
      return webhook('ContactDelete', contact);
    },
    signWebhook,
    inject: (fault) => server.inject(fault),
    revokeAccess: () => tokens.clear(),
    close,
    [Symbol.asyncDispose]: close,
  };
}
