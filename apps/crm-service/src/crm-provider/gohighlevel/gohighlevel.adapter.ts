import { createPublicKey, verify } from 'node:crypto';
import { GHLError, GHLRateLimitError, HighLevel } from '@gohighlevel/api-client';
import { CrmProvider, type CrmAdapter, type CrmChange, type CrmProperties, type CrmRecord, type CrmWebhookEvent, type CrmWriteOutcome, type InboundWebhook, type WebhookVerification } from '../crm-provider.js';
import { CrmProviderError, isCrmProviderError, kindOfStatus, nextUtcMidnight, providerWords } from '../crm-provider.error.js';
import { checkBaseUrl, createOutboundAgent, type OutboundPolicy } from '../outbound-guard.js';
import { createProviderRetry, type ProviderRetrySettings } from '../provider-retry.js';
import { headerOf } from '../webhook-signature.js';

export interface GoHighLevelAdapterSettings {
  credentials: { accessToken: string; locationId: string };
  /** Default: `https://services.leadconnectorhq.com`. */
  baseUrl?: string | null;
  /** The Ed25519 public key (PEM) GoHighLevel signs webhooks with. Default: none (webhooks refused). */
  webhookSecret?: string | null;
  outbound?: OutboundPolicy;
  retry?: ProviderRetrySettings;
}

export const goHighLevelDefaultBaseUrl = 'https://services.leadconnectorhq.com';

interface GhlContact {
  id: string;
  firstName?: string | null;
  lastName?: string | null;
  email?: string | null;
  phone?: string | null;
  companyName?: string | null;
  website?: string | null;
  dateUpdated: string;
  searchAfter?: [number, string];
}

const standardFields = [
  { name: 'firstName', label: 'First Name' },
  { name: 'lastName', label: 'Last Name' },
  { name: 'email', label: 'Email' },
  { name: 'phone', label: 'Phone' },
  { name: 'companyName', label: 'Business Name' },
  { name: 'website', label: 'Website' },
];

/** The standard contact fields of a write (custom fields are read, not written). */
const contactBody = (properties: CrmProperties) => Object.fromEntries(Object.entries(properties).filter(([name]) => standardFields.some((field) => field.name === name)));

/** GoHighLevel sends the event's time in the body; older than this it is refused as a replay. */
const webhookWindowMs = 5 * 60 * 1000;

function recordOf(contact: GhlContact, fields: readonly string[]): CrmRecord {
  const all = contact as unknown as Record<string, string | null | undefined>;
  return { externalId: contact.id, properties: Object.fromEntries(fields.map((field) => [field, all[field] ?? null])), modifiedAt: new Date(contact.dateUpdated), mergedExternalIds: [] };
}

/** What the SDK throws → our classification, in GoHighLevel's own words. */
export function classifyGoHighLevelError(error: unknown): CrmProviderError {
  const provider = CrmProvider.GOHIGHLEVEL;
  if (isCrmProviderError(error)) return error;
  const cause = (error as { cause?: unknown }).cause;
  if (isCrmProviderError(cause)) return cause;
  if (error instanceof GHLError) {
    const data = error.response?.data ?? error.response;
    const raw = typeof data === 'object' && data !== null ? (data as { message?: unknown }).message : data;
    const words = providerWords(Array.isArray(raw) ? raw.join('; ') : String(raw ?? error.message));
    if (error instanceof GHLRateLimitError || error.statusCode === 429) {
      const limit = (error as GHLRateLimitError).rateLimit;
      if (limit?.scope === 'daily') return new CrmProviderError(provider, 'daily-limit', `GoHighLevel's daily API limit is spent: ${words}`, { status: 429, resumeAt: limit.dailyResetMs ? new Date(Date.now() + limit.dailyResetMs) : nextUtcMidnight() });
      return new CrmProviderError(provider, 'rate-limited', `GoHighLevel is rate limiting: ${words}`, { status: 429, retryAfterMs: limit?.intervalMs ?? null });
    }
    if (error.code === 'NETWORK') return new CrmProviderError(provider, 'unavailable', `GoHighLevel could not be reached: ${words}`, { cause: error });
    const status = error.statusCode ?? 500;
    // GoHighLevel answers a contact that does not exist with 400 "Contact not found".
    if (status === 400 && /not found/i.test(words)) return new CrmProviderError(provider, 'not-found', `GoHighLevel: ${words}`, { status });
    if (typeof data === 'string' && /</.test(data) && status < 500) return new CrmProviderError(provider, 'malformed-response', `GoHighLevel answered ${status} with an HTML page instead of JSON.`, { status });
    return new CrmProviderError(provider, status === 422 ? 'invalid-record' : kindOfStatus(status), status === 401 ? `GoHighLevel refused the token: ${words}` : `GoHighLevel answered ${status}: ${words}`, { status });
  }
  return new CrmProviderError(provider, 'unavailable', `GoHighLevel call failed: ${providerWords((error as Error)?.message ?? String(error))}`, { cause: error });
}

/**
 * GoHighLevel through its official SDK (`@gohighlevel/api-client`), its axios client pointed at the
 * configured base URL through the SSRF-checked agent: changes by the contacts search filtered on
 * `dateUpdated` (ascending, `searchAfter` pages), duplicates looked up by email, webhooks checked
 * with Ed25519 (`X-GHL-Signature`). The search lists no deleted contacts: deletes come by webhook.
 */
export function createGoHighLevelAdapter(settings: GoHighLevelAdapterSettings): CrmAdapter {
  const provider = CrmProvider.GOHIGHLEVEL;
  const baseUrl = checkBaseUrl(provider, settings.baseUrl ?? goHighLevelDefaultBaseUrl, settings.outbound ?? {});
  const agent = createOutboundAgent(provider, baseUrl, settings.outbound ?? {});
  const { accessToken, locationId } = settings.credentials;
  // The SDK's own logger stays quiet: failures are ours to log, once, without the token.
  const client = new HighLevel({ privateIntegrationToken: accessToken, logLevel: 'none' });
  // The SDK's services call relative paths on this axios instance: its base URL and agent are ours.
  const http = client.getHttpClient();
  http.defaults.baseURL = baseUrl.href.replace(/\/$/, '');
  http.defaults.httpAgent = agent;
  http.defaults.httpsAgent = agent;
  http.defaults.maxRedirects = 0;
  const retryPolicy = createProviderRetry(settings.retry);

  const call = <Answer>(operation: () => Promise<Answer>, expect: string, signal?: AbortSignal): Promise<Answer> =>
    retryPolicy.execute(async () => {
      let answer: Answer;
      try {
        answer = await operation();
      } catch (error) {
        throw classifyGoHighLevelError(error);
      }
      if (typeof answer !== 'object' || answer === null || !(expect in answer)) throw new CrmProviderError(provider, 'malformed-response', "GoHighLevel answered with something that is not its API's JSON.");
      return answer;
    }, signal);

  const write = async (operation: () => Promise<{ contact?: GhlContact }>, fields: readonly string[], signal?: AbortSignal): Promise<CrmWriteOutcome> => {
    try {
      const answer = await call(operation, 'contact', signal);
      return { ok: true, record: recordOf(answer.contact!, fields) };
    } catch (error) {
      if (isCrmProviderError(error) && (error.kind === 'invalid-record' || error.kind === 'not-found')) return { ok: false, error };
      throw error;
    }
  };

  return {
    provider,
    maximumBatchSize: 50,

    async verifyCredentials(signal) {
      const answer = await call(() => client.locations.getLocation({ locationId }) as Promise<{ location: { id: string; name: string } }>, 'location', signal);
      return { id: answer.location.id, name: answer.location.name };
    },

    async listFields(signal) {
      const answer = await call(() => client.locations.getCustomFields({ locationId }) as Promise<{ customFields: Array<{ fieldKey: string; name: string }> }>, 'customFields', signal);
      return [...standardFields.map((field) => ({ ...field, readOnly: false })), ...answer.customFields.map((field) => ({ name: field.fieldKey, label: field.name, readOnly: true }))];
    },

    async listChanges({ since, pageToken, pageSize, fields, signal }) {
      const searchAfter = pageToken ? (JSON.parse(Buffer.from(pageToken, 'base64url').toString('utf8')) as [number, string]) : undefined;
      const limit = Math.min(pageSize, 500);
      const answer = await call(
        () =>
          client.contacts.searchContactsAdvanced({
            locationId,
            pageLimit: limit,
            sort: [{ field: 'dateUpdated', direction: 'asc' }],
            filters: since ? [{ field: 'dateUpdated', operator: 'range', value: { gte: since.toISOString() } }] : [],
            ...(searchAfter ? { searchAfter } : {}),
          } as never) as Promise<{ contacts: GhlContact[]; total: number }>,
        'contacts',
        signal,
      );
      const records = answer.contacts.map((contact) => recordOf(contact, fields));
      const last = answer.contacts.at(-1);
      const next = answer.contacts.length === limit && last ? Buffer.from(JSON.stringify(last.searchAfter ?? [Date.parse(last.dateUpdated), last.id])).toString('base64url') : null;
      return { changes: records.map((record): CrmChange => ({ kind: 'upsert', record })), nextPageToken: next, checkpoint: records.at(-1)?.modifiedAt ?? null, totalEstimate: answer.total ?? null };
    },

    async get(externalId, fields, signal) {
      try {
        const answer = await call(() => client.contacts.getContact({ contactId: externalId }) as Promise<{ contact: GhlContact }>, 'contact', signal);
        return recordOf(answer.contact, fields);
      } catch (error) {
        if (isCrmProviderError(error) && error.kind === 'not-found') return null;
        throw error;
      }
    },

    async findByEmails(emails, fields, signal) {
      const found: CrmRecord[] = [];
      for (const email of emails) {
        const answer = await call(() => client.contacts.getDuplicateContact({ locationId, email }) as Promise<{ contact: GhlContact | null }>, 'contact', signal);
        if (answer.contact) found.push(recordOf(answer.contact, fields));
      }
      return found;
    },

    async create(inputs, fields, signal) {
      const outcomes: CrmWriteOutcome[] = [];
      for (const properties of inputs) outcomes.push(await write(() => client.contacts.createContact({ locationId, ...contactBody(properties) } as never) as Promise<{ contact?: GhlContact }>, fields, signal));
      return outcomes;
    },

    async update(inputs, fields, signal) {
      const outcomes: CrmWriteOutcome[] = [];
      for (const input of inputs) outcomes.push(await write(() => client.contacts.updateContact({ contactId: input.externalId }, contactBody(input.properties) as never) as Promise<{ contact?: GhlContact }>, fields, signal));
      return outcomes;
    },

    async delete(externalId, signal) {
      try {
        await call(() => client.contacts.deleteContact({ contactId: externalId }) as Promise<{ succeded: boolean }>, 'succeded', signal);
      } catch (error) {
        if (!(isCrmProviderError(error) && error.kind === 'not-found')) throw error;
      }
    },

    recordUrl: (externalId) => `https://app.gohighlevel.com/v2/location/${encodeURIComponent(locationId)}/contacts/detail/${encodeURIComponent(externalId)}`,

    verifyWebhook: (request, now) => verifyGoHighLevelWebhook(request, settings.webhookSecret ?? null, locationId, now),
  };
}

/**
 * GoHighLevel signs each webhook's raw body with Ed25519 (`X-GHL-Signature`, base64), verified
 * with its public key. The body's `timestamp` must be within 5 minutes, its `locationId` this
 * connection's; `webhookId` is the event id.
 */
export function verifyGoHighLevelWebhook(request: InboundWebhook, publicKeyPem: string | null, locationId: string, now: Date): WebhookVerification {
  if (!publicKeyPem) return { verified: false, reason: 'the connection has no webhook public key (GoHighLevel’s Ed25519 key)' };
  const signature = headerOf(request, 'x-ghl-signature');
  if (!signature) return { verified: false, reason: 'X-GHL-Signature is missing' };
  let valid = false;
  try {
    valid = verify(null, request.rawBody, createPublicKey(publicKeyPem), Buffer.from(signature, 'base64'));
  } catch {
    valid = false;
  }
  if (!valid) return { verified: false, reason: 'the signature does not match' };
  let payload: { type?: string; id?: string; contactId?: string; locationId?: string; webhookId?: string; timestamp?: string };
  try {
    payload = JSON.parse(request.rawBody.toString('utf8'));
  } catch {
    return { verified: false, reason: 'the signed body is not JSON' };
  }
  const sentAt = Date.parse(payload.timestamp ?? '');
  if (!Number.isFinite(sentAt) || Math.abs(now.getTime() - sentAt) > webhookWindowMs) return { verified: false, reason: 'the webhook timestamp is more than 5 minutes old (or ahead)' };
  if (payload.locationId !== locationId) return { verified: false, reason: 'the webhook is for another location' };
  const events: CrmWebhookEvent[] = [];
  const contactId = payload.contactId ?? payload.id;
  if (payload.type?.startsWith('Contact') && contactId) {
    events.push({ eventId: payload.webhookId ?? `${contactId}:${payload.type}:${payload.timestamp}`, kind: payload.type === 'ContactDelete' ? 'delete' : 'upsert', externalId: contactId, occurredAt: new Date(sentAt), mergedExternalIds: [] });
  }
  return { verified: true, events, replayKey: signature, replayWindowMs: webhookWindowMs };
}
