import { createHmac, randomBytes } from 'node:crypto';
import { createMonotonicClock, startFakeCrmServer, type FakeCrmFault, type FakeCrmReply, type FakeCrmServer } from './fake-crm-server.js';

export interface FakeCloseLead {
  id: string;
  name: string | null;
  url: string | null;
  date_created: string;
  date_updated: string;
}

export interface FakeCloseContact {
  id: string;
  lead_id: string;
  name: string | null;
  title: string | null;
  emails: Array<{ email: string; type: string }>;
  phones: Array<{ phone: string; type: string }>;
  date_created: string;
  date_updated: string;
}

/** An event of Close's event log (and of its webhooks' payload). */
export interface CloseEvent {
  id: string;
  object_type: string;
  object_id: string;
  lead_id: string | null;
  action: 'created' | 'updated' | 'deleted' | 'merged';
  date_created: string;
  date_updated: string;
  organization_id: string;
  api_key_id: string | null;
  user_id: string | null;
  changed_fields: string[];
  data: Record<string, unknown> | null;
  previous_data: Record<string, unknown> | null;
  /** On every event a lead merge causes: `merge_source_lead_id` and `merge_destination_lead_id`. */
  meta?: Record<string, string>;
}

export interface FakeCloseOptions {
  apiKey?: string;
  /** Hex key signing webhooks (Close hands one out with each webhook subscription). Default: random. */
  signatureKey?: string;
  latencyMs?: number;
}

export interface FakeClose extends AsyncDisposable {
  baseUrl: string;
  apiKey: string;
  signatureKey: string;
  organizationId: string;
  server: FakeCrmServer;
  leads: Map<string, FakeCloseLead>;
  contacts: Map<string, FakeCloseContact>;
  events: CloseEvent[];
  /** Adds leads, each with one contact (no events, as an import into Close before the connection). */
  seedContacts(count: number, make?: (index: number) => { name: string; title?: string; email?: string; phone?: string; leadName?: string; leadUrl?: string }): FakeCloseContact[];
  /** A person edits a contact in Close. */
  editContact(id: string, changes: Partial<Pick<FakeCloseContact, 'name' | 'title' | 'emails' | 'phones'>>): FakeCloseContact;
  deleteContact(id: string): void;
  /** A person renames a lead (the company its contacts belong to) in Close. */
  renameLead(id: string, name: string): void;
  /**
   * A person merges lead `sourceId` into `destinationId`: the source's contacts move to the
   * destination (keeping their ids) and the source lead is deleted, with the events Close logs.
   */
  mergeLeads(sourceId: string, destinationId: string): void;
  /** Signs a webhook payload as Close does: hex HMAC-SHA256 over timestamp + body, with the hex-decoded key. */
  signWebhook(body: string, timestamp?: number, key?: string): Record<string, string>;
  /** The webhook payload Close posts for an event of its log. */
  webhookBody(event: CloseEvent): string;
  inject(fault: FakeCrmFault): void;
  revokeAccess(): void;
  close(): Promise<void>;
}

const iso = (date: Date) => date.toISOString().replace('Z', '+00:00');

/** Close's answer to values it refuses (its `field-errors`), or null. */
const invalid = (fields: Record<string, any>): FakeCrmReply | null => {
  const badEmail = (fields['emails'] as Array<{ email: string }> | undefined)?.findIndex((entry) => !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(entry.email ?? ''));
  if (badEmail !== undefined && badEmail >= 0) return { status: 400, body: { errors: [], 'field-errors': { emails: { [badEmail]: { email: 'Enter a valid email address.' } } } } };
  if (typeof fields['name'] === 'string' && fields['name'].length > 250) return { status: 400, body: { errors: [], 'field-errors': { name: 'Ensure this value has at most 250 characters.' } } };
  return null;
};
/** Close's 429: Retry-After, its RateLimit header and `rate_reset` in the body. */
const rateLimited = (retryAfterSeconds: number): FakeCrmReply => ({
  status: 429,
  body: { error: { rate_reset: retryAfterSeconds, message: 'API call count exceeded for this period', rate_limit: 160, rate_limit_type: 'api_key' } },
  headers: { 'retry-after': String(Math.ceil(retryAfterSeconds)), ratelimit: `limit=160, remaining=0, reset=${retryAfterSeconds}` },
});


/**
 * A local Close speaking its REST API v1 as a small client would: HTTP basic auth with the API key,
 * contacts (listed with `_skip`/`_limit` and `has_more`), leads holding them (created with their
 * contacts, searched with `query=email:"…"`), the event log (`/event/` filtered on
 * `date_updated__gt`, newest first, paged by `_cursor`), custom fields, 429s with Retry-After and
 * its `rate_reset` body, and webhook signatures (`close-sig-hash`, `close-sig-timestamp`).
 */
export async function startFakeClose(options: FakeCloseOptions = {}): Promise<FakeClose> {
  const apiKeys = new Set([options.apiKey ?? `api_${randomBytes(12).toString('base64url')}`]);
  const apiKey = [...apiKeys][0]!;
  const signatureKey = options.signatureKey ?? randomBytes(32).toString('hex');
  const organizationId = `orga_${randomBytes(10).toString('hex')}`;
  const clock = createMonotonicClock();
  const leads = new Map<string, FakeCloseLead>();
  const contacts = new Map<string, FakeCloseContact>();
  const events: CloseEvent[] = [];
  let sequence = 0;
  const newId = (prefix: string) => `${prefix}_${(sequence++).toString(36).padStart(6, '0')}${randomBytes(4).toString('hex')}`;

  const record = (contact: FakeCloseContact, action: CloseEvent['action'], byApi: boolean, previous: FakeCloseContact | null, changed: string[]) => {
    const at = contact.date_updated;
    events.push({
      id: newId('ev'),
      object_type: 'contact',
      object_id: contact.id,
      lead_id: contact.lead_id,
      action,
      date_created: at,
      date_updated: at,
      organization_id: organizationId,
      api_key_id: byApi ? 'api_key_fake' : null,
      user_id: byApi ? null : 'user_fake',
      changed_fields: changed,
      data: action === 'deleted' ? null : { ...contact },
      previous_data: previous ? { ...previous } : null,
    });
  };

  const recordLead = (lead: FakeCloseLead, action: CloseEvent['action'], changed: string[], meta?: Record<string, string>) => {
    events.push({
      id: newId('ev'),
      object_type: 'lead',
      object_id: lead.id,
      lead_id: lead.id,
      action,
      date_created: lead.date_updated,
      date_updated: lead.date_updated,
      organization_id: organizationId,
      api_key_id: null,
      user_id: 'user_fake',
      changed_fields: changed,
      data: action === 'deleted' ? null : { ...lead },
      previous_data: null,
      ...(meta ? { meta } : {}),
    });
  };

  const insertLead = (name: string | null, url: string | null): FakeCloseLead => {
    const at = iso(clock());
    const lead = { id: newId('lead'), name, url, date_created: at, date_updated: at };
    leads.set(lead.id, lead);
    return lead;
  };

  const insertContact = (leadId: string, fields: Partial<FakeCloseContact>, byApi: boolean | null): FakeCloseContact => {
    const at = iso(clock());
    const contact: FakeCloseContact = { id: newId('cont'), lead_id: leadId, name: fields.name ?? null, title: fields.title ?? null, emails: fields.emails ?? [], phones: fields.phones ?? [], date_created: at, date_updated: at };
    contacts.set(contact.id, contact);
    if (byApi !== null) record(contact, 'created', byApi, null, []);
    return contact;
  };



  const updateContact = (contact: FakeCloseContact, changes: Record<string, any>, byApi: boolean): FakeCloseContact => {
    const previous = { ...contact };
    const changed: string[] = [];
    for (const field of ['name', 'title', 'emails', 'phones', 'lead_id'] as const) {
      if (!(field in changes)) continue;
      if (JSON.stringify(contact[field]) === JSON.stringify(changes[field])) continue;
      (contact as any)[field] = changes[field];
      changed.push(field);
    }
    if (changed.length === 0) return contact;
    contact.date_updated = iso(clock());
    record(contact, 'updated', byApi, previous, changed);
    return contact;
  };

  const leadView = (lead: FakeCloseLead) => ({ ...lead, organization_id: organizationId, contacts: [...contacts.values()].filter((contact) => contact.lead_id === lead.id).map(contactView) });
  const contactView = (contact: FakeCloseContact) => ({ ...contact, organization_id: organizationId, display_name: contact.name ?? '' });



  const server = await startFakeCrmServer({
    latencyMs: options.latencyMs,
    notFoundBody: { error: 'Not found' },
    faultReply: (fault) => {
      if (fault.kind === 'rate-limit') return rateLimited(fault.retryAfterSeconds ?? 0.05);
      if (fault.kind === 'daily-limit') return rateLimited(fault.retryAfterSeconds ?? 7_200);
      if (fault.kind === 'unauthorized') return { status: 401, body: { error: 'The API key is invalid or has been revoked.' } };
      return null;
    },
    handle: ({ method, url, body, request }) => {
      const credentials = /^Basic (.+)$/.exec(request.headers.authorization ?? '')?.[1];
      const key = credentials ? Buffer.from(credentials, 'base64').toString('utf8').replace(/:$/, '') : null;
      if (!key || !apiKeys.has(key)) return { status: 401, body: { error: 'The API key is invalid or has been revoked.' } };
      const path = url.pathname;
      const query = url.searchParams;
      if (method === 'GET' && path === '/api/v1/me/') return { status: 200, body: { id: 'user_fake', email: 'owner@close.example.com', first_name: 'Owner', last_name: 'Fake', organizations: [{ id: organizationId, name: 'Fake Close Org' }] } };
      if (method === 'GET' && path === '/api/v1/custom_field/contact/') return { status: 200, body: { data: [{ id: 'cf_qualification', name: 'Qualification score', type: 'text' }], has_more: false } };
      if (method === 'GET' && path === '/api/v1/contact/') {
        const limit = Math.min(Number(query.get('_limit') ?? 100), 100);
        const skip = Number(query.get('_skip') ?? 0);
        const all = [...contacts.values()];
        return { status: 200, body: { data: all.slice(skip, skip + limit).map(contactView), has_more: skip + limit < all.length } };
      }
      const contactPath = /^\/api\/v1\/contact\/([^/]+)\/$/.exec(path);
      if (contactPath) {
        const contact = contacts.get(contactPath[1]!);
        if (!contact) return { status: 404, body: { error: 'Empty query: Contact matching query does not exist.' } };
        if (method === 'GET') return { status: 200, body: contactView(contact) };
        if (method === 'PUT') {
          const refused = invalid(body ?? {});
          if (refused) return refused;
          return { status: 200, write: true, body: contactView(updateContact(contact, body ?? {}, true)) };
        }
        if (method === 'DELETE') {
          contacts.delete(contact.id);
          contact.date_updated = iso(clock());
          record(contact, 'deleted', true, contact, []);
          return { status: 200, write: true, body: {} };
        }
      }
      if (method === 'GET' && path === '/api/v1/lead/') {
        const email = /^email:"(.+)"$/.exec(query.get('query') ?? '')?.[1]?.toLowerCase();
        const found = email ? [...leads.values()].filter((lead) => [...contacts.values()].some((contact) => contact.lead_id === lead.id && contact.emails.some((entry) => entry.email.toLowerCase() === email))) : [...leads.values()];
        return { status: 200, body: { data: found.slice(0, 100).map(leadView), has_more: found.length > 100, total_results: found.length } };
      }
      if (method === 'POST' && path === '/api/v1/lead/') {
        for (const contact of body?.contacts ?? []) {
          const refused = invalid(contact);
          if (refused) return refused;
        }
        const lead = insertLead(body?.name ?? null, body?.url ?? null);
        for (const contact of body?.contacts ?? []) insertContact(lead.id, contact, true);
        return { status: 200, write: true, body: leadView(lead) };
      }
      const leadPath = /^\/api\/v1\/lead\/([^/]+)\/$/.exec(path);
      if (leadPath) {
        const lead = leads.get(leadPath[1]!);
        if (!lead) return { status: 404, body: { error: 'Empty query: Lead matching query does not exist.' } };
        if (method === 'GET') return { status: 200, body: leadView(lead) };
        if (method === 'PUT') {
          let changed = false;
          for (const field of ['name', 'url'] as const) {
            if (field in (body ?? {}) && lead[field] !== body[field]) {
              lead[field] = body[field];
              changed = true;
            }
          }
          if (changed) {
            lead.date_updated = iso(clock());
            // Logged on the lead only: Close logs no contact event for its lead's change.
            recordLead(lead, 'updated', ['name', 'url']);
          }
          return { status: 200, write: changed, body: leadView(lead) };
        }
      }
      if (method === 'GET' && path === '/api/v1/event/') {
        const limit = Math.min(Number(query.get('_limit') ?? 50), 50);
        const after = query.get('date_updated__gt');
        const type = query.get('object_type');
        const cursor = Number(query.get('_cursor') ?? 0);
        // Newest first, as Close lists its log.
        const matching = events.filter((event) => (!type || event.object_type === type) && (!after || Date.parse(event.date_updated) > Date.parse(after))).toReversed();
        const page = matching.slice(cursor, cursor + limit);
        return { status: 200, body: { data: page, cursor_next: cursor + limit < matching.length ? String(cursor + limit) : null, cursor_previous: null } };
      }
      return null;
    },
  });

  const signWebhook: FakeClose['signWebhook'] = (body, timestamp = Math.floor(Date.now() / 1000), keyHex = signatureKey) => ({
    'content-type': 'application/json',
    'close-sig-timestamp': String(timestamp),
    'close-sig-hash': createHmac('sha256', Buffer.from(keyHex, 'hex')).update(`${timestamp}${body}`, 'utf8').digest('hex'),
  });

  const close = () => server.close();
  return {
    baseUrl: server.baseUrl,
    apiKey,
    signatureKey,
    organizationId,
    server,
    leads,
    contacts,
    events,
    seedContacts(count, make = (index) => ({ name: `First${index} Last${index}`, title: 'Buyer', email: `contact${index}@seed.example.com`, leadName: `Company ${index}`, leadUrl: `https://company${index}.example.com` })) {
      return Array.from({ length: count }, (_unused, index) => {
        const fields = make(index);
        const lead = insertLead(fields.leadName ?? null, fields.leadUrl ?? null);
        return insertContact(lead.id, { name: fields.name, title: fields.title ?? null, emails: fields.email ? [{ email: fields.email, type: 'office' }] : [], phones: fields.phone ? [{ phone: fields.phone, type: 'office' }] : [] }, null);
      });
    },
    editContact(id, changes) {
      const contact = contacts.get(id);
      if (!contact) throw new Error(`no contact ${id}`);
      return updateContact(contact, changes, false);
    },
    deleteContact(id) {
      const contact = contacts.get(id);
      if (!contact) throw new Error(`no contact ${id}`);
      contacts.delete(id);
      contact.date_updated = iso(clock());
      record(contact, 'deleted', false, contact, []);
    },
    renameLead(id, name) {
      const lead = leads.get(id);
      if (!lead) throw new Error(`no lead ${id}`);
      lead.name = name;
      lead.date_updated = iso(clock());
      recordLead(lead, 'updated', ['name']);
    },
    mergeLeads(sourceId, destinationId) {
      const source = leads.get(sourceId);
      const destination = leads.get(destinationId);
      if (!source || !destination) throw new Error(`no lead ${source ? destinationId : sourceId}`);
      const meta = { merge_source_lead_id: sourceId, merge_destination_lead_id: destinationId };
      for (const contact of [...contacts.values()].filter((candidate) => candidate.lead_id === sourceId)) {
        const previous = { ...contact };
        contact.lead_id = destinationId;
        contact.date_updated = iso(clock());
        record(contact, 'updated', false, previous, ['lead_id']);
        events.at(-1)!.meta = meta;
      }
      leads.delete(sourceId);
      source.date_updated = iso(clock());
      recordLead(source, 'deleted', [], meta);
      destination.date_updated = iso(clock());
      recordLead(destination, 'merged', [], meta);
    },
    signWebhook,
    webhookBody: (event) => JSON.stringify({ subscription_id: 'whsub_fake', event }),
    inject: (fault) => server.inject(fault),
    revokeAccess: () => apiKeys.clear(),
    close,
    [Symbol.asyncDispose]: close,
  };
}
