import { createHmac, randomUUID } from 'node:crypto';
import { createMonotonicClock, startFakeCrmServer, type FakeCrmFault, type FakeCrmReply, type FakeCrmServer } from './fake-crm-server.js';

/** A contact as the fake keeps it. Property values are text, as HubSpot's API shows them. */
export interface FakeHubSpotContact {
  id: string;
  properties: Record<string, string | null>;
  /** Every value each property had, newest first, with when and by what it was set. */
  history: Record<string, Array<{ value: string; timestamp: string; sourceType: string }>>;
  createdAt: Date;
  updatedAt: Date;
  archived: boolean;
  archivedAt: Date | null;
  /** Set when this contact was merged into another: it answers as that one from then on. */
  mergedInto: string | null;
}

/** A webhook event as HubSpot's webhooks API sends it (one element of the posted array). */
export interface HubSpotWebhookEvent {
  eventId: number;
  subscriptionId: number;
  portalId: number;
  appId: number;
  occurredAt: number;
  subscriptionType: string;
  attemptNumber: number;
  objectId: number;
  changeSource: string;
  changeFlag?: string;
  propertyName?: string;
  propertyValue?: string;
  sourceId?: string;
  primaryObjectId?: number;
  mergedObjectIds?: number[];
  newObjectId?: number;
}

export interface FakeHubSpotOptions {
  /** A private app token the fake accepts. Default: `pat-na1-fake-token`. */
  accessToken?: string;
  /** OAuth: the app's client and a refresh token the fake exchanges for short-lived access tokens. Default: none. */
  oauth?: { clientId: string; clientSecret: string; refreshToken: string };
  /** The app's client secret, which signs webhooks (v3). Default: a random one. */
  clientSecret?: string;
  portalId?: number;
  /** Added to every answer. Default: 0. */
  latencyMs?: number;
  /** Requests a day before 429 DAILY. Default: unlimited. */
  dailyLimit?: number | null;
  /** The most results one search can page through (HubSpot: 10,000). */
  maximumSearchResults?: number;
}

export interface FakeHubSpot extends AsyncDisposable {
  /** Give this as the connection's base URL. */
  baseUrl: string;
  accessToken: string;
  clientSecret: string;
  portalId: number;
  server: FakeCrmServer;
  contacts: Map<string, FakeHubSpotContact>;
  /** Adds contacts as an import into HubSpot would (no webhook events). */
  seedContacts(count: number, make?: (index: number) => Record<string, string>): FakeHubSpotContact[];
  /** A person creates a contact in HubSpot. */
  createContact(properties: Record<string, string>): FakeHubSpotContact;
  /** A person edits a contact in HubSpot's app. */
  editContact(id: string, properties: Record<string, string | null>): FakeHubSpotContact;
  /** A person deletes (archives) a contact. */
  archiveContact(id: string): void;
  /** A person merges `mergedId` into `primaryId`. */
  mergeContacts(primaryId: string, mergedId: string): FakeHubSpotContact;
  /** The token stops working (an uninstalled app, a revoked key). */
  revokeAccess(): void;
  /** Answers the next matching requests with a fault. */
  inject(fault: FakeCrmFault): void;
  /** Requests a day left before the DAILY limit; null for no limit. */
  dailyRemaining: number | null;
  /** Webhook events not yet delivered, in order. */
  pendingEvents: HubSpotWebhookEvent[];
  /** Signs a webhook request as HubSpot does (v3): what the headers would carry. */
  signWebhook(input: { method?: string; url: string; body: string; timestamp?: number; secret?: string }): Record<string, string>;
  /** Posts the pending events (or the given ones) to `url`, signed; returns the answer. */
  deliverWebhooks(url: string, options?: { events?: HubSpotWebhookEvent[]; timestamp?: number; secret?: string }): Promise<Response>;
  close(): Promise<void>;
}

/** The contact properties the fake has (a real portal has hundreds; these cover the default mapping and a custom one). */
const knownProperties: Array<{ name: string; label: string; readOnly?: boolean }> = [
  { name: 'email', label: 'Email' },
  { name: 'firstname', label: 'First Name' },
  { name: 'lastname', label: 'Last Name' },
  { name: 'phone', label: 'Phone Number' },
  { name: 'mobilephone', label: 'Mobile Phone Number' },
  { name: 'jobtitle', label: 'Job Title' },
  { name: 'company', label: 'Company Name' },
  { name: 'website', label: 'Website URL' },
  { name: 'lifecyclestage', label: 'Lifecycle Stage' },
  { name: 'hs_lead_status', label: 'Lead Status' },
  { name: 'city', label: 'City' },
  { name: 'country', label: 'Country/Region' },
  { name: 'gtm_qualification_score', label: 'GTM qualification score' },
  { name: 'createdate', label: 'Create Date', readOnly: true },
  { name: 'lastmodifieddate', label: 'Last Modified Date', readOnly: true },
  { name: 'hs_object_id', label: 'Record ID', readOnly: true },
  { name: 'hs_merged_object_ids', label: 'Merged Record IDs', readOnly: true },
];
const propertyNames = new Set(knownProperties.map((property) => property.name));
const readOnlyNames = new Set(knownProperties.filter((property) => property.readOnly).map((property) => property.name));
const defaultProperties = ['createdate', 'email', 'firstname', 'hs_object_id', 'lastmodifieddate', 'lastname'];
const emailPattern = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

const errorBody = (message: string, category: string, extra: Record<string, unknown> = {}) => ({ status: 'error', message, correlationId: randomUUID(), category, ...extra });

/** A list query parameter, repeated (`properties=a&properties=b`) or comma-separated, as HubSpot takes both. */
const listParameter = (url: URL, name: string) => url.searchParams.getAll(name).flatMap((value) => value.split(',')).map((item) => item.trim()).filter(Boolean);

/** Epoch milliseconds or an ISO date, as HubSpot's search accepts for date properties. */
function instantOf(value: unknown): number {
  const text = String(value);
  return /^\d+$/.test(text) ? Number(text) : Date.parse(text);
}

/**
 * A local HubSpot speaking the CRM v3 wire protocol its SDK (`@hubspot/api-client`) uses for
 * contacts: search with `filterGroups` and `sorts` (on `lastmodifieddate` and more), paging by
 * `after` up to 10,000 results, batch read (also by email) / create / update, archive, merges
 * (`hs_merged_object_ids`, merged ids answering as the survivor), `propertiesWithHistory`, the
 * properties API, OAuth refresh, `X-HubSpot-RateLimit-*` headers and 429s (TEN_SECONDLY_ROLLING
 * and DAILY), and v3-signed webhooks.
 */
export async function startFakeHubSpot(options: FakeHubSpotOptions = {}): Promise<FakeHubSpot> {
  const accessTokens = new Set([options.accessToken ?? 'pat-na1-fake-token']);
  const clientSecret = options.clientSecret ?? randomUUID();
  const portalId = options.portalId ?? 4_242_424;
  const appId = 777_001;
  const maximumSearchResults = options.maximumSearchResults ?? 10_000;
  const clock = createMonotonicClock();
  const contacts = new Map<string, FakeHubSpotContact>();
  const pendingEvents: HubSpotWebhookEvent[] = [];
  const limits = { dailyRemaining: options.dailyLimit ?? null, dailyLimit: options.dailyLimit ?? 500_000 };
  let nextId = 1001;
  let nextEventId = 1;

  const emit = (event: Omit<HubSpotWebhookEvent, 'eventId' | 'subscriptionId' | 'portalId' | 'appId' | 'attemptNumber'>) =>
    pendingEvents.push({ eventId: nextEventId++, subscriptionId: 9001, portalId, appId, attemptNumber: 0, ...event });

  const setProperty = (contact: FakeHubSpotContact, name: string, value: string | null, at: Date, sourceType: string) => {
    if (contact.properties[name] === value) return false;
    contact.properties[name] = value;
    (contact.history[name] ??= []).unshift({ value: value ?? '', timestamp: at.toISOString(), sourceType });
    return true;
  };

  const touch = (contact: FakeHubSpotContact, at: Date) => {
    contact.updatedAt = at;
    contact.properties['lastmodifieddate'] = at.toISOString();
  };

  const insert = (properties: Record<string, string | null>, sourceType: string): FakeHubSpotContact => {
    const at = clock();
    const id = String(nextId++);
    const contact: FakeHubSpotContact = { id, properties: {}, history: {}, createdAt: at, updatedAt: at, archived: false, archivedAt: null, mergedInto: null };
    for (const [name, value] of Object.entries(properties)) setProperty(contact, name, value === '' ? null : value, at, sourceType);
    setProperty(contact, 'hs_object_id', id, at, 'CALCULATED');
    setProperty(contact, 'createdate', at.toISOString(), at, 'CALCULATED');
    touch(contact, at);
    contacts.set(id, contact);
    return contact;
  };

  /** The contact an id answers for: a merged-away id answers as the one it went into. */
  const resolve = (id: string): FakeHubSpotContact | undefined => {
    let contact = contacts.get(id);
    while (contact?.mergedInto) contact = contacts.get(contact.mergedInto);
    return contact;
  };

  const live = () => [...contacts.values()].filter((contact) => !contact.archived && !contact.mergedInto);

  const findByEmail = (email: string, except?: string) => live().find((contact) => contact.id !== except && contact.properties['email']?.toLowerCase() === email.toLowerCase());

  /** Why these values cannot be written, in HubSpot's words; null when they can. */
  const invalidValues = (properties: Record<string, unknown>, except?: string): FakeCrmReply | null => {
    const problems: Array<Record<string, unknown>> = [];
    for (const [name, value] of Object.entries(properties)) {
      if (!propertyNames.has(name)) problems.push({ isValid: false, message: `Property "${name}" does not exist`, error: 'PROPERTY_DOESNT_EXIST', name, localizedErrorMessage: `Property "${name}" does not exist` });
      else if (readOnlyNames.has(name)) problems.push({ isValid: false, message: `${name} is a read only property; its value cannot be set.`, error: 'READ_ONLY_VALUE', name });
      else if (name === 'email' && value && !emailPattern.test(String(value))) problems.push({ isValid: false, message: `Email address ${value} is invalid`, error: 'INVALID_EMAIL', name });
    }
    if (problems.length > 0) return { status: 400, body: errorBody(`Property values were not valid: ${JSON.stringify(problems)}`, 'VALIDATION_ERROR') };
    const email = properties['email'];
    if (typeof email === 'string' && email) {
      const existing = findByEmail(email, except);
      if (existing) return { status: 409, body: errorBody(`Contact already exists. Existing ID: ${existing.id}`, 'CONFLICT') };
    }
    return null;
  };

  const view = (contact: FakeHubSpotContact, requested: string[] | null, withHistory: string[] = []) => {
    const names = requested && requested.length > 0 ? [...new Set([...requested, 'hs_object_id', 'createdate', 'lastmodifieddate'])] : defaultProperties;
    const properties: Record<string, string | null> = {};
    for (const name of names) if (propertyNames.has(name)) properties[name] = contact.properties[name] ?? null;
    const body: Record<string, unknown> = {
      id: contact.id,
      properties,
      createdAt: contact.createdAt.toISOString(),
      updatedAt: contact.updatedAt.toISOString(),
      archived: contact.archived,
      ...(contact.archivedAt ? { archivedAt: contact.archivedAt.toISOString() } : {}),
    };
    if (withHistory.length > 0) body['propertiesWithHistory'] = Object.fromEntries(withHistory.map((name) => [name, contact.history[name] ?? []]));
    return body;
  };


  const matches = (contact: FakeHubSpotContact, filter: { propertyName: string; operator: string; value?: unknown; values?: unknown[] }) => {
    const actual = contact.properties[filter.propertyName] ?? null;
    const dated = filter.propertyName === 'lastmodifieddate' || filter.propertyName === 'createdate';
    const compare = (expected: unknown) => (dated ? Date.parse(actual ?? '') - instantOf(expected) : String(actual ?? '').localeCompare(String(expected)));
    switch (filter.operator) {
      case 'EQ':
        return actual !== null && (filter.propertyName === 'email' ? actual.toLowerCase() === String(filter.value).toLowerCase() : compare(filter.value) === 0);
      case 'NEQ':
        return actual === null || compare(filter.value) !== 0;
      case 'GT':
        return actual !== null && compare(filter.value) > 0;
      case 'GTE':
        return actual !== null && compare(filter.value) >= 0;
      case 'LT':
        return actual !== null && compare(filter.value) < 0;
      case 'LTE':
        return actual !== null && compare(filter.value) <= 0;
      case 'IN':
        return actual !== null && (filter.values ?? []).some((value) => String(value).toLowerCase() === actual.toLowerCase());
      case 'HAS_PROPERTY':
        return actual !== null && actual !== '';
      case 'NOT_HAS_PROPERTY':
        return actual === null || actual === '';
      default:
        throw new Error(`operator ${filter.operator}`);
    }
  };

  const rateHeaders = (): Record<string, string> => ({
    'x-hubspot-ratelimit-daily': String(limits.dailyLimit),
    'x-hubspot-ratelimit-daily-remaining': String(limits.dailyRemaining ?? limits.dailyLimit),
    'x-hubspot-ratelimit-interval-milliseconds': '10000',
    'x-hubspot-ratelimit-max': '190',
    'x-hubspot-ratelimit-remaining': '189',
    'x-hubspot-ratelimit-secondly': '19',
    'x-hubspot-ratelimit-secondly-remaining': '18',
  });

  const rateLimitReply = (policy: 'TEN_SECONDLY_ROLLING' | 'DAILY', retryAfterSeconds?: number): FakeCrmReply => ({
    status: 429,
    body: { status: 'error', message: policy === 'DAILY' ? 'You have reached your daily limit.' : 'You have reached your ten_secondly_rolling limit.', errorType: 'RATE_LIMIT', correlationId: randomUUID(), policyName: policy },
    headers: {
      ...rateHeaders(),
      'x-hubspot-ratelimit-remaining': '0',
      ...(policy === 'DAILY' ? { 'x-hubspot-ratelimit-daily-remaining': '0' } : {}),
      ...(retryAfterSeconds === undefined ? {} : { 'retry-after': String(retryAfterSeconds) }),
    },
  });

  const contactsPath = '/crm/v3/objects/contacts';

  const server = await startFakeCrmServer({
    latencyMs: options.latencyMs,
    notFoundBody: errorBody('Resource not found', 'OBJECT_NOT_FOUND'),
    faultReply: (fault: FakeCrmFault) => {
      if (fault.kind === 'rate-limit') return rateLimitReply('TEN_SECONDLY_ROLLING', fault.retryAfterSeconds ?? 0.05);
      if (fault.kind === 'daily-limit') return rateLimitReply('DAILY');
      if (fault.kind === 'unauthorized') return { status: 401, body: errorBody('The OAuth token used to make this call expired 2 hour(s) ago.', 'EXPIRED_AUTHENTICATION') };
      return null;
    },
    handle: ({ method, url, body, form, request }) => {
      const path = url.pathname;
      if (method === 'POST' && path === '/oauth/v1/token') {
        const oauth = options.oauth;
        if (!oauth || form?.get('grant_type') !== 'refresh_token' || form.get('client_id') !== oauth.clientId || form.get('client_secret') !== oauth.clientSecret || form.get('refresh_token') !== oauth.refreshToken) {
          return { status: 400, body: { status: 'BAD_REFRESH_TOKEN', message: 'missing or unknown refresh token', correlationId: randomUUID() } };
        }
        const token = `oauth-${randomUUID()}`;
        accessTokens.add(token);
        return { status: 200, body: { token_type: 'bearer', refresh_token: oauth.refreshToken, access_token: token, expires_in: 1800 } };
      }
      // The token information endpoint takes the token in its path, without authentication.
      if (path.startsWith('/oauth/v1/access-tokens/')) {
        const asked = decodeURIComponent(path.slice('/oauth/v1/access-tokens/'.length));
        if (!accessTokens.has(asked)) return { status: 404, body: errorBody('Token not found', 'OBJECT_NOT_FOUND') };
        return { status: 200, body: { token: asked, user: 'owner@example.com', hub_domain: 'fake-portal.example.com', scopes: ['crm.objects.contacts.read', 'crm.objects.contacts.write'], hub_id: portalId, app_id: appId, expires_in: 1700, user_id: 1, token_type: 'access' } };
      }
      const token = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
      if (!token || !accessTokens.has(token)) {
        return {
          status: 401,
          body: errorBody('Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview', 'INVALID_AUTHENTICATION'),
        };
      }
      if (limits.dailyRemaining !== null) {
        if (limits.dailyRemaining <= 0) return rateLimitReply('DAILY');
        limits.dailyRemaining -= 1;
      }
      const reply = route(method, path, url, body);
      if (reply && !path.endsWith('/search')) reply.headers = { ...rateHeaders(), ...reply.headers };
      return reply;
    },
  });

  const route = (method: string, path: string, url: URL, body: any): FakeCrmReply | null => {
    if (method === 'GET' && path === '/crm/v3/properties/contacts') {
      return {
        status: 200,
        body: {
          results: knownProperties.map((property) => ({
            name: property.name,
            label: property.label,
            type: property.name.endsWith('date') ? 'datetime' : 'string',
            fieldType: 'text',
            groupName: 'contactinformation',
            description: '',
            options: [],
            displayOrder: -1,
            calculated: Boolean(property.readOnly),
            externalOptions: false,
            hasUniqueValue: property.name === 'hs_object_id',
            hidden: false,
            formField: !property.readOnly,
            modificationMetadata: { archivable: !property.readOnly, readOnlyDefinition: true, readOnlyValue: Boolean(property.readOnly) },
          })),
        },
      };
    }
    if (method === 'POST' && path === `${contactsPath}/search`) {
      const limit = Math.min(Number(body?.limit ?? 10), 200);
      const after = Number(body?.after ?? 0);
      if (after + limit > maximumSearchResults) return { status: 400, body: errorBody('There was a problem with the request.', 'VALIDATION_ERROR') };
      const groups: Array<{ filters: any[] }> = body?.filterGroups ?? [];
      let found = live().filter((contact) => groups.length === 0 || groups.some((group) => group.filters.every((filter) => matches(contact, filter))));
      const sort = body?.sorts?.[0];
      if (sort) {
        const propertyName = typeof sort === 'string' ? sort.replace(/^-/, '') : sort.propertyName;
        const descending = typeof sort === 'string' ? sort.startsWith('-') : sort.direction === 'DESCENDING';
        const key = (contact: FakeHubSpotContact) => contact.properties[propertyName] ?? '';
        // Modification and creation times are kept as dates too: sorting 10,000 contacts per page stays cheap.
        const time = (contact: FakeHubSpotContact) => (propertyName === 'lastmodifieddate' ? contact.updatedAt.getTime() : propertyName === 'createdate' ? contact.createdAt.getTime() : Date.parse(key(contact)));
        const dated = propertyName.endsWith('date');
        found = found.toSorted((a, b) => {
          const order = dated ? time(a) - time(b) : key(a).localeCompare(key(b));
          return (descending ? -order : order) || Number(a.id) - Number(b.id);
        });
      } else found = found.toSorted((a, b) => Number(a.id) - Number(b.id));
      const page = found.slice(after, after + limit);
      const nextAfter = after + page.length;
      return {
        status: 200,
        body: {
          total: found.length,
          results: page.map((contact) => view(contact, body?.properties ?? null)),
          ...(nextAfter < found.length ? { paging: { next: { after: String(nextAfter), link: '' } } } : {}),
        },
      };
    }
    if (method === 'POST' && path === `${contactsPath}/batch/read`) {
      const idProperty: string | undefined = body?.idProperty;
      const archived = url.searchParams.get('archived') === 'true';
      const results = (body?.inputs ?? [])
        .map((input: { id: string }) => (idProperty === 'email' ? findByEmail(input.id) : resolve(input.id)))
        .filter((contact: FakeHubSpotContact | undefined): contact is FakeHubSpotContact => Boolean(contact) && contact!.archived === archived);
      const now = new Date().toISOString();
      return { status: 200, body: { status: 'COMPLETE', results: results.map((contact: FakeHubSpotContact) => view(contact, body?.properties ?? null, body?.propertiesWithHistory ?? [])), startedAt: now, completedAt: now } };
    }
    if (method === 'POST' && path === `${contactsPath}/batch/create`) {
      const inputs: Array<{ properties: Record<string, string>; objectWriteTraceId?: string }> = body?.inputs ?? [];
      if (inputs.length > 100) return { status: 400, body: errorBody('Batch input may not exceed 100 items.', 'VALIDATION_ERROR') };
      for (const input of inputs) {
        const refused = invalidValues(input.properties ?? {});
        if (refused) return refused;
      }
      const created = inputs.map((input) => ({ contact: insert(input.properties ?? {}, 'INTEGRATION'), traceId: input.objectWriteTraceId }));
      for (const { contact } of created) emit({ occurredAt: contact.createdAt.getTime(), subscriptionType: 'contact.creation', objectId: Number(contact.id), changeSource: 'INTEGRATION', changeFlag: 'CREATED', sourceId: String(appId) });
      const now = new Date().toISOString();
      // HubSpot does not promise results in input order (hence objectWriteTraceId): neither does the fake.
      const results = created.toReversed().map(({ contact, traceId }) => ({ ...view(contact, Object.keys(contact.properties)), ...(traceId === undefined ? {} : { objectWriteTraceId: traceId }) }));
      return { status: 201, write: true, body: { status: 'COMPLETE', results, startedAt: now, completedAt: now } };
    }
    if (method === 'POST' && path === `${contactsPath}/batch/update`) {
      const inputs: Array<{ id: string; properties: Record<string, string>; objectWriteTraceId?: string }> = body?.inputs ?? [];
      if (inputs.length > 100) return { status: 400, body: errorBody('Batch input may not exceed 100 items.', 'VALIDATION_ERROR') };
      for (const input of inputs) {
        const contact = resolve(input.id);
        if (!contact || contact.archived) return { status: 404, body: errorBody(`Object not found. objectId are usually numeric. ${input.id}`, 'OBJECT_NOT_FOUND') };
        const refused = invalidValues(input.properties ?? {}, contact.id);
        if (refused) return refused;
      }
      const updated = inputs.map((input) => ({ contact: update(resolve(input.id)!, input.properties ?? {}, 'INTEGRATION'), traceId: input.objectWriteTraceId }));
      const now = new Date().toISOString();
      const results = updated.toReversed().map(({ contact, traceId }) => ({ ...view(contact, Object.keys(contact.properties)), ...(traceId === undefined ? {} : { objectWriteTraceId: traceId }) }));
      return { status: 200, write: true, body: { status: 'COMPLETE', results, startedAt: now, completedAt: now } };
    }
    if (method === 'POST' && path === contactsPath) {
      const refused = invalidValues(body?.properties ?? {});
      if (refused) return refused;
      const contact = insert(body?.properties ?? {}, 'INTEGRATION');
      return { status: 201, write: true, body: view(contact, Object.keys(contact.properties)) };
    }
    if (method === 'POST' && path === `${contactsPath}/merge`) {
      const merged = merge(String(body?.primaryObjectId), String(body?.objectIdToMerge), 'INTEGRATION');
      return merged ? { status: 200, write: true, body: view(merged, Object.keys(merged.properties)) } : { status: 404, body: errorBody('Object not found.', 'OBJECT_NOT_FOUND') };
    }
    if (method === 'GET' && path === contactsPath) {
      const limit = Math.min(Number(url.searchParams.get('limit') ?? 10), 100);
      const after = Number(url.searchParams.get('after') ?? 0);
      const archived = url.searchParams.get('archived') === 'true';
      const all = [...contacts.values()].filter((contact) => !contact.mergedInto && contact.archived === archived).toSorted((a, b) => Number(a.id) - Number(b.id));
      const page = all.slice(after, after + limit);
      const nextAfter = after + page.length;
      return {
        status: 200,
        body: { results: page.map((contact) => view(contact, listParameter(url, 'properties'))), ...(nextAfter < all.length ? { paging: { next: { after: String(nextAfter), link: '' } } } : {}) },
      };
    }
    const single = new RegExp(`^${contactsPath}/([^/]+)$`).exec(path);
    if (single) {
      const id = decodeURIComponent(single[1]!);
      const idProperty = url.searchParams.get('idProperty');
      const contact = idProperty === 'email' ? findByEmail(id) : resolve(id);
      const archived = url.searchParams.get('archived') === 'true';
      if (!contact || contact.archived !== (method === 'GET' && archived)) {
        // Archiving twice is accepted, as HubSpot does.
        if (method === 'DELETE' && contact?.archived) return { status: 204, write: false };
        return { status: 404, body: errorBody(`Object not found.  objectId are usually numeric.`, 'OBJECT_NOT_FOUND', { context: { id: [id] } }) };
      }
      if (method === 'GET') return { status: 200, body: view(contact, listParameter(url, 'properties'), listParameter(url, 'propertiesWithHistory')) };
      if (method === 'PATCH') {
        const refused = invalidValues(body?.properties ?? {}, contact.id);
        if (refused) return refused;
        return { status: 200, write: true, body: view(update(contact, body?.properties ?? {}, 'INTEGRATION'), Object.keys(contact.properties)) };
      }
      if (method === 'DELETE') {
        archive(contact, 'INTEGRATION');
        return { status: 204, write: true };
      }
    }
    return null;
  };

  const update = (contact: FakeHubSpotContact, properties: Record<string, string | null>, sourceType: string): FakeHubSpotContact => {
    const at = clock();
    const changed = Object.entries(properties).filter(([name, value]) => setProperty(contact, name, value === '' ? null : value, at, sourceType));
    if (changed.length === 0) return contact;
    touch(contact, at);
    for (const [name, value] of changed) {
      emit({ occurredAt: at.getTime(), subscriptionType: 'contact.propertyChange', objectId: Number(contact.id), propertyName: name, propertyValue: value ?? '', changeSource: sourceType === 'INTEGRATION' ? 'INTEGRATION' : 'CRM_UI', ...(sourceType === 'INTEGRATION' ? { sourceId: String(appId) } : {}) });
    }
    return contact;
  };

  const archive = (contact: FakeHubSpotContact, sourceType: string) => {
    const at = clock();
    contact.archived = true;
    contact.archivedAt = at;
    emit({ occurredAt: at.getTime(), subscriptionType: 'contact.deletion', objectId: Number(contact.id), changeFlag: 'DELETED', changeSource: sourceType === 'INTEGRATION' ? 'INTEGRATION' : 'CRM_UI' });
  };

  const merge = (primaryId: string, mergedId: string, sourceType: string): FakeHubSpotContact | null => {
    const primary = resolve(primaryId);
    const merged = resolve(mergedId);
    if (!primary || !merged || primary === merged || primary.archived || merged.archived) return null;
    const at = clock();
    // The survivor keeps its own values and takes the other's where it has none, as HubSpot does.
    for (const [name, value] of Object.entries(merged.properties)) {
      if (!readOnlyNames.has(name) && value !== null && (primary.properties[name] ?? null) === null) setProperty(primary, name, value, at, 'MERGE');
    }
    const ids = [...(primary.properties['hs_merged_object_ids']?.split(';').filter(Boolean) ?? []), merged.id, ...(merged.properties['hs_merged_object_ids']?.split(';').filter(Boolean) ?? [])];
    setProperty(primary, 'hs_merged_object_ids', ids.join(';'), at, 'CALCULATED');
    touch(primary, at);
    merged.mergedInto = primary.id;
    emit({ occurredAt: at.getTime(), subscriptionType: 'contact.merge', objectId: Number(primary.id), changeFlag: 'MERGED', changeSource: sourceType === 'INTEGRATION' ? 'INTEGRATION' : 'CRM_UI', primaryObjectId: Number(primary.id), mergedObjectIds: [Number(merged.id)], newObjectId: Number(primary.id) });
    return primary;
  };

  const signWebhook: FakeHubSpot['signWebhook'] = ({ method = 'POST', url, body, timestamp = Date.now(), secret = clientSecret }) => ({
    'content-type': 'application/json',
    'x-hubspot-request-timestamp': String(timestamp),
    'x-hubspot-signature-v3': createHmac('sha256', secret).update(`${method}${url}${body}${timestamp}`, 'utf8').digest('base64'),
    'x-hubspot-signature-version': 'v3',
  });

  const close = () => server.close();
  return {
    baseUrl: server.baseUrl,
    accessToken: [...accessTokens][0]!,
    clientSecret,
    portalId,
    server,
    contacts,
    seedContacts(count, make = (index) => ({ email: `contact${index}@seed.example.com`, firstname: `First${index}`, lastname: `Last${index}`, jobtitle: 'Buyer', company: `Company ${index}` })) {
      return Array.from({ length: count }, (_unused, index) => insert(make(index), 'IMPORT'));
    },
    createContact(properties) {
      const contact = insert(properties, 'CRM_UI');
      emit({ occurredAt: contact.createdAt.getTime(), subscriptionType: 'contact.creation', objectId: Number(contact.id), changeSource: 'CRM_UI', changeFlag: 'CREATED' });
      return contact;
    },
    editContact(id, properties) {
      const contact = resolve(id);
      if (!contact) throw new Error(`no contact ${id}`);
      return update(contact, properties, 'CRM_UI');
    },
    archiveContact(id) {
      const contact = resolve(id);
      if (!contact) throw new Error(`no contact ${id}`);
      archive(contact, 'CRM_UI');
    },
    mergeContacts(primaryId, mergedId) {
      const merged = merge(primaryId, mergedId, 'CRM_UI');
      if (!merged) throw new Error(`cannot merge ${mergedId} into ${primaryId}`);
      return merged;
    },
    revokeAccess: () => accessTokens.clear(),
    inject: (fault) => server.inject(fault),
    get dailyRemaining() {
      return limits.dailyRemaining;
    },
    set dailyRemaining(value: number | null) {
      limits.dailyRemaining = value;
    },
    pendingEvents,
    signWebhook,
    async deliverWebhooks(url, deliveryOptions = {}) {
      const events = deliveryOptions.events ?? pendingEvents.splice(0, pendingEvents.length);
      const body = JSON.stringify(events);
      const headers = signWebhook({ url, body, ...(deliveryOptions.timestamp === undefined ? {} : { timestamp: deliveryOptions.timestamp }), ...(deliveryOptions.secret ? { secret: deliveryOptions.secret } : {}) });
      return fetch(url, { method: 'POST', headers, body });
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
