import { createHmac } from 'node:crypto';
import { CrmProvider, type CrmAdapter, type CrmChange, type CrmProperties, type CrmRecord, type CrmWebhookEvent, type CrmWriteOutcome, type InboundWebhook, type WebhookVerification } from '../crm-provider.js';
import { CrmProviderError, isCrmProviderError } from '../crm-provider.error.js';
import { checkBaseUrl, createOutboundDispatcher, type OutboundPolicy } from '../outbound-guard.js';
import { createProviderRetry, type ProviderRetrySettings } from '../provider-retry.js';
import { equalSecrets, headerOf } from '../webhook-signature.js';
import { CloseClient, type CloseContact, type CloseEvent, type CloseLead, type CloseMe } from './close.client.js';

export interface CloseAdapterSettings {
  credentials: { apiKey: string };
  /** Default: `https://api.close.com`. */
  baseUrl?: string | null;
  /** The webhook subscription's signature key (hex). Default: none (webhooks refused). */
  webhookSecret?: string | null;
  outbound?: OutboundPolicy;
  retry?: ProviderRetrySettings;
}

export const closeDefaultBaseUrl = 'https://api.close.com';

/** Close's contact, flattened: its one name split in two, its first email and phone, its lead's name and URL. */
const builtInFields = [
  { name: 'name', label: 'Name' },
  { name: 'first_name', label: 'First name (from Name)' },
  { name: 'last_name', label: 'Last name (from Name)' },
  { name: 'title', label: 'Title' },
  { name: 'email', label: 'Email (first)' },
  { name: 'phone', label: 'Phone (first)' },
  { name: 'lead_name', label: 'Lead name (the company)' },
  { name: 'lead_url', label: 'Lead URL (the company website)' },
];

const contactPageLimit = 100;
const eventPageLimit = 50;
const signatureWindowMs = 5 * 60 * 1000;

/**
 * Where a listing continues. An incremental one reads the contact events, then the lead events (a
 * lead renamed or merged changes its contacts' company without a contact event).
 */
type PageToken = { phase: 'contacts'; skip: number; startedAt: number } | { phase: 'events'; objectType?: 'contact' | 'lead'; cursor: string | null; since: number; newest: number };

const encode = (token: PageToken) => Buffer.from(JSON.stringify(token)).toString('base64url');
const decode = (token: string) => JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as PageToken;

function splitName(name: string | null): { first: string | null; last: string | null } {
  const parts = (name ?? '').trim().split(/\s+/).filter(Boolean);
  if (parts.length === 0) return { first: null, last: null };
  return { first: parts[0]!, last: parts.length > 1 ? parts.slice(1).join(' ') : null };
}

function recordOf(contact: CloseContact, lead: Pick<CloseLead, 'name' | 'url' | 'date_updated'> | null, fields: readonly string[]): CrmRecord {
  const { first, last } = splitName(contact.name);
  const all: CrmProperties = {
    name: contact.name,
    first_name: first,
    last_name: last,
    title: contact.title,
    email: contact.emails[0]?.email ?? null,
    phone: contact.phones[0]?.phone ?? null,
    lead_name: lead?.name ?? null,
    lead_url: lead?.url ?? null,
  };
  // The company fields are the lead's: a lead renamed changed the contact as this sync sees it.
  return { externalId: contact.id, properties: Object.fromEntries(fields.map((field) => [field, all[field] ?? null])), modifiedAt: new Date(Math.max(Date.parse(contact.date_updated), lead?.date_updated ? Date.parse(lead.date_updated) : 0)), mergedExternalIds: [] };
}

/** Contact fields for a write: the name put back together from what changes and what stays. */
function contactBody(properties: CrmProperties, current: CloseContact | null): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  if ('name' in properties) body['name'] = properties['name'];
  if ('first_name' in properties || 'last_name' in properties) {
    const now = splitName(current?.name ?? null);
    const first = 'first_name' in properties ? properties['first_name'] : now.first;
    const last = 'last_name' in properties ? properties['last_name'] : now.last;
    body['name'] = [first, last].filter(Boolean).join(' ') || null;
  }
  if ('title' in properties) body['title'] = properties['title'];
  if ('email' in properties) body['emails'] = properties['email'] ? [{ email: properties['email'], type: 'office' }, ...(current?.emails.slice(1) ?? [])] : (current?.emails.slice(1) ?? []);
  if ('phone' in properties) body['phones'] = properties['phone'] ? [{ phone: properties['phone'], type: 'office' }, ...(current?.phones.slice(1) ?? [])] : (current?.phones.slice(1) ?? []);
  return body;
}

/**
 * Close through a small typed client (it has no maintained SDK): a full import lists contacts with
 * `_skip`; later runs read the event log (`/event/?object_type=contact&date_updated__gt=…`, newest
 * first) and read each changed contact's current state, deletes included; then the lead events of
 * the same window (a lead renamed, or the destination of a merge) and read those leads' contacts. A contact lives in a
 * lead (the company): creating one creates its lead with it.
 */
export function createCloseAdapter(settings: CloseAdapterSettings): CrmAdapter {
  const provider = CrmProvider.CLOSE;
  const baseUrl = checkBaseUrl(provider, settings.baseUrl ?? closeDefaultBaseUrl, settings.outbound ?? {});
  const client = new CloseClient(baseUrl.href.replace(/\/$/, ''), settings.credentials.apiKey, createOutboundDispatcher(provider, baseUrl, settings.outbound ?? {}));
  const retryPolicy = createProviderRetry(settings.retry);
  const call = <Answer>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, options: Parameters<CloseClient['call']>[2] = {}) => retryPolicy.execute(() => client.call<Answer>(method, path, options), options.signal);

  /** The leads (companies) of these contacts, read once each. */
  const leadsOf = async (contacts: CloseContact[], signal?: AbortSignal): Promise<Map<string, CloseLead>> => {
    const leads = new Map<string, CloseLead>();
    for (const leadId of new Set(contacts.map((contact) => contact.lead_id))) {
      try {
        leads.set(leadId, await call<CloseLead>('GET', `/lead/${encodeURIComponent(leadId)}/`, { query: { _fields: 'id,name,url,date_updated' }, signal }));
      } catch (error) {
        if (!(isCrmProviderError(error) && error.kind === 'not-found')) throw error;
      }
    }
    return leads;
  };

  /** A lead's contacts as they are now (none when the lead is gone). */
  const contactsOfLead = async (leadId: string, signal?: AbortSignal): Promise<CloseContact[]> => {
    try {
      return (await call<CloseLead>('GET', `/lead/${encodeURIComponent(leadId)}/`, { query: { _fields: 'id,contacts' }, signal })).contacts ?? [];
    } catch (error) {
      if (isCrmProviderError(error) && error.kind === 'not-found') return [];
      throw error;
    }
  };

  const getContact = async (externalId: string, signal?: AbortSignal): Promise<CloseContact | null> => {
    try {
      return await call<CloseContact>('GET', `/contact/${encodeURIComponent(externalId)}/`, { signal });
    } catch (error) {
      if (isCrmProviderError(error) && error.kind === 'not-found') return null;
      throw error;
    }
  };

  return {
    provider,
    maximumBatchSize: 50,

    async verifyCredentials(signal) {
      const me = await call<CloseMe>('GET', '/me/', { signal });
      const organization = me.organizations?.[0];
      if (!organization) throw new CrmProviderError(provider, 'forbidden', 'Close answered that this API key belongs to no organization.');
      return { id: organization.id, name: organization.name };
    },

    async listFields(signal) {
      const custom = await call<{ data: Array<{ id: string; name: string }> }>('GET', '/custom_field/contact/', { signal });
      return [...builtInFields.map((field) => ({ ...field, readOnly: false })), ...(custom.data ?? []).map((field) => ({ name: `custom.${field.id}`, label: field.name, readOnly: true }))];
    },

    async listChanges({ since, pageToken, pageSize, fields, signal }) {
      const token: PageToken = pageToken ? decode(pageToken) : since ? { phase: 'events', cursor: null, since: since.getTime(), newest: since.getTime() } : { phase: 'contacts', skip: 0, startedAt: Date.now() };
      if (token.phase === 'contacts') {
        const limit = Math.min(pageSize, contactPageLimit);
        const page = await call<{ data: CloseContact[]; has_more: boolean }>('GET', '/contact/', { query: { _skip: token.skip, _limit: limit }, signal });
        const leads = await leadsOf(page.data, signal);
        const changes: CrmChange[] = page.data.map((contact) => ({ kind: 'upsert', record: recordOf(contact, leads.get(contact.lead_id) ?? null, fields) }));
        // A listing is no point in time: the next run reads the event log from when it started.
        return { changes, nextPageToken: page.has_more ? encode({ ...token, skip: token.skip + page.data.length }) : null, checkpoint: page.has_more ? null : new Date(token.startedAt), totalEstimate: null };
      }
      const objectType = token.objectType ?? 'contact';
      const page = await call<{ data: CloseEvent[]; cursor_next: string | null }>('GET', '/event/', {
        query: { object_type: objectType, date_updated__gt: new Date(token.since).toISOString(), _limit: Math.min(pageSize, eventPageLimit), _cursor: token.cursor ?? undefined },
        signal,
      });
      const newest = Math.max(token.newest, ...page.data.map((event) => Date.parse(event.date_updated)));
      // Events are snapshots in the past, newest first: each changed contact is read as it is now.
      const changes: CrmChange[] = [];
      const contacts: CloseContact[] = [];
      if (objectType === 'contact') {
        for (const id of new Set(page.data.map((event) => event.object_id))) {
          const contact = await getContact(id, signal);
          if (contact) contacts.push(contact);
          else changes.push({ kind: 'delete', externalId: id, deletedAt: new Date(page.data.find((event) => event.object_id === id)!.date_updated), mergedInto: null });
        }
      } else {
        // A lead updated or merged (the destination of a merge: its event's object) is read with its
        // contacts, the merged-in ones included; a deleted lead's contacts have their own events.
        for (const id of new Set(page.data.filter((event) => event.action !== 'deleted').map((event) => event.object_id))) contacts.push(...(await contactsOfLead(id, signal)));
      }
      const leads = await leadsOf(contacts, signal);
      changes.push(...contacts.map((contact): CrmChange => ({ kind: 'upsert', record: recordOf(contact, leads.get(contact.lead_id) ?? null, fields) })));
      if (page.cursor_next) return { changes, nextPageToken: encode({ ...token, objectType, cursor: page.cursor_next, newest }), checkpoint: null, totalEstimate: null };
      if (objectType === 'contact') return { changes, nextPageToken: encode({ ...token, objectType: 'lead', cursor: null, newest }), checkpoint: null, totalEstimate: null };
      // The log is read newest first, so the cursor moves only once all of it is read.
      return { changes, nextPageToken: null, checkpoint: new Date(newest), totalEstimate: null };
    },

    async get(externalId, fields, signal) {
      const contact = await getContact(externalId, signal);
      if (!contact) return null;
      const leads = await leadsOf([contact], signal);
      return recordOf(contact, leads.get(contact.lead_id) ?? null, fields);
    },

    async findByEmails(emails, fields, signal) {
      const found: CrmRecord[] = [];
      for (const email of emails) {
        const answer = await call<{ data: CloseLead[] }>('GET', '/lead/', { query: { query: `email:"${email.replace(/"/g, '')}"`, _limit: 10 }, signal });
        for (const lead of answer.data ?? []) {
          for (const contact of lead.contacts ?? []) if (contact.emails.some((entry) => entry.email.toLowerCase() === email.toLowerCase())) found.push(recordOf(contact, lead, fields));
        }
      }
      return found;
    },

    async create(inputs, fields, signal) {
      const outcomes: CrmWriteOutcome[] = [];
      for (const properties of inputs) {
        try {
          const contact = contactBody(properties, null);
          const lead = await call<CloseLead>('POST', '/lead/', { body: { name: properties['lead_name'] ?? contact['name'] ?? null, url: properties['lead_url'] ?? null, contacts: [contact] }, signal });
          const created = lead.contacts?.[0];
          if (!created) throw new CrmProviderError(provider, 'malformed-response', 'Close created the lead without its contact.');
          outcomes.push({ ok: true, record: recordOf(created, lead, fields) });
        } catch (error) {
          if (!isCrmProviderError(error) || error.kind !== 'invalid-record') throw error;
          outcomes.push({ ok: false, error });
        }
      }
      return outcomes;
    },

    async update(inputs, fields, signal) {
      const outcomes: CrmWriteOutcome[] = [];
      for (const input of inputs) {
        try {
          const current = await getContact(input.externalId, signal);
          if (!current) {
            outcomes.push({ ok: false, error: new CrmProviderError(provider, 'not-found', `Close has no contact ${input.externalId}.`) });
            continue;
          }
          const body = contactBody(input.properties, current);
          const contact = Object.keys(body).length > 0 ? await call<CloseContact>('PUT', `/contact/${encodeURIComponent(input.externalId)}/`, { body, signal }) : current;
          let lead: CloseLead | null = null;
          if ('lead_name' in input.properties || 'lead_url' in input.properties) {
            const change: Record<string, unknown> = {};
            if ('lead_name' in input.properties) change['name'] = input.properties['lead_name'];
            if ('lead_url' in input.properties) change['url'] = input.properties['lead_url'];
            lead = await call<CloseLead>('PUT', `/lead/${encodeURIComponent(contact.lead_id)}/`, { body: change, signal });
          }
          // The lead's change touches the contact too: read it back for its modification time.
          const settled = lead ? ((await getContact(input.externalId, signal)) ?? contact) : contact;
          lead ??= (await leadsOf([settled], signal)).get(settled.lead_id) ?? null;
          outcomes.push({ ok: true, record: recordOf(settled, lead, fields) });
        } catch (error) {
          if (!isCrmProviderError(error) || (error.kind !== 'invalid-record' && error.kind !== 'not-found')) throw error;
          outcomes.push({ ok: false, error });
        }
      }
      return outcomes;
    },

    async delete(externalId, signal) {
      try {
        await call('DELETE', `/contact/${encodeURIComponent(externalId)}/`, { signal });
      } catch (error) {
        if (!(isCrmProviderError(error) && error.kind === 'not-found')) throw error;
      }
    },

    recordUrl: (externalId) => `https://app.close.com/contact/${encodeURIComponent(externalId)}/`,

    verifyWebhook: (request, now) => verifyCloseWebhook(request, settings.webhookSecret ?? null, now),
  };
}

/**
 * Close's webhook signature: `close-sig-hash` is the hex HMAC-SHA256 of `close-sig-timestamp`
 * (seconds) followed by the raw body, keyed with the subscription's signature key hex-decoded.
 * Compared in constant time; a timestamp more than 5 minutes from now is refused.
 */
export function verifyCloseWebhook(request: InboundWebhook, secret: string | null, now: Date): WebhookVerification {
  if (!secret) return { verified: false, reason: 'the connection has no webhook secret (the Close signature key)' };
  if (!/^[0-9a-f]+$/i.test(secret) || secret.length % 2 !== 0) return { verified: false, reason: 'the stored Close signature key is not hex' };
  const signature = headerOf(request, 'close-sig-hash');
  const timestamp = headerOf(request, 'close-sig-timestamp');
  if (!signature || !timestamp) return { verified: false, reason: 'close-sig-hash or close-sig-timestamp is missing' };
  if (!/^\d+$/.test(timestamp) || Math.abs(now.getTime() - Number(timestamp) * 1000) > signatureWindowMs) return { verified: false, reason: 'the signature timestamp is more than 5 minutes old (or ahead)' };
  const expected = createHmac('sha256', Buffer.from(secret, 'hex')).update(Buffer.concat([Buffer.from(timestamp, 'utf8'), request.rawBody])).digest('hex');
  if (!equalSecrets(signature.toLowerCase(), expected)) return { verified: false, reason: 'the signature does not match' };
  let payload: { event?: { id?: string; object_type?: string; object_id?: string; action?: string; date_updated?: string } };
  try {
    payload = JSON.parse(request.rawBody.toString('utf8'));
  } catch {
    return { verified: false, reason: 'the signed body is not JSON' };
  }
  const event = payload.event;
  const events: CrmWebhookEvent[] = [];
  if (event?.object_type === 'contact' && event.object_id && event.id) {
    events.push({ eventId: event.id, kind: event.action === 'deleted' ? 'delete' : 'upsert', externalId: event.object_id, occurredAt: new Date(event.date_updated ?? now), mergedExternalIds: [] });
  }
  return { verified: true, events, replayKey: signature, replayWindowMs: signatureWindowMs };
}
