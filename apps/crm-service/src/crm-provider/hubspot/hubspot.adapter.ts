import { Client } from '@hubspot/api-client';
import { CrmProvider, type CrmAccount, type CrmAdapter, type CrmChange, type CrmProperties, type CrmRecord, type CrmWriteOutcome } from '../crm-provider.js';
import { CrmProviderError, isCrmProviderError, kindOfStatus, nextUtcMidnight, providerWords, retryAfterMsOf } from '../crm-provider.error.js';
import { checkBaseUrl, createOutboundAgent, type OutboundPolicy } from '../outbound-guard.js';
import { createProviderRetry, type ProviderRetrySettings } from '../provider-retry.js';
import { verifyHubSpotWebhook } from './hubspot.webhook.js';

/** A private app's token, or an OAuth app's refresh token (exchanged for short-lived access tokens). */
export type HubSpotCredentials = { accessToken: string; portalId?: string | number | null } | { clientId: string; clientSecret: string; refreshToken: string };

export interface HubSpotAdapterSettings {
  credentials: HubSpotCredentials;
  /** Default: `https://api.hubapi.com`. */
  baseUrl?: string | null;
  /** The app's client secret, which signs its webhooks (v3). Default: none (webhooks refused). */
  webhookSecret?: string | null;
  /** Where records open for people. Default: `https://app.hubspot.com`. */
  appUrl?: string;
  outbound?: OutboundPolicy;
  retry?: ProviderRetrySettings;
  /** The most results one search reaches (`after` + page). Default: 10,000, HubSpot's. */
  maximumSearchResults?: number;
}

export const hubSpotDefaultBaseUrl = 'https://api.hubapi.com';

/** HubSpot's search pages hold at most 200 results, and a search reaches at most 10,000 of them. */
const maximumSearchPage = 200;
const maximumBatch = 100;
/** The properties every read asks for besides the mapped ones: what the sync itself needs. */
const syncProperties = ['lastmodifieddate', 'hs_merged_object_ids'];

type PageToken = { phase: 'search'; from: number | null; after: number; runSince: number | null } | { phase: 'archived'; after: string | null; runSince: number | null };

const encodeToken = (token: PageToken) => Buffer.from(JSON.stringify(token)).toString('base64url');

function decodeToken(token: string): PageToken {
  try {
    return JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as PageToken;
  } catch {
    throw new CrmProviderError(CrmProvider.HUBSPOT, 'malformed-response', 'The stored HubSpot page token is unreadable; run a full sync.');
  }
}

interface HubSpotObject {
  id: string;
  properties: Record<string, string | null>;
  updatedAt: Date | string;
  archivedAt?: Date | string;
  objectWriteTraceId?: string;
  propertiesWithHistory?: Record<string, Array<{ timestamp: Date | string }>>;
}

/** What the SDK throws for an HTTP answer it did not expect: status, parsed body, headers. */
interface SdkApiException {
  code: number;
  body: unknown;
  headers: Record<string, string>;
}

const isSdkApiException = (error: unknown): error is SdkApiException => typeof (error as SdkApiException)?.code === 'number' && typeof (error as SdkApiException)?.headers === 'object';

/** HubSpot's error answer → our classification, keeping HubSpot's own words in the message. */
export function classifyHubSpotError(error: unknown): CrmProviderError {
  const provider = CrmProvider.HUBSPOT;
  if (isCrmProviderError(error)) return error;
  if (isSdkApiException(error)) {
    const body = (typeof error.body === 'string' ? safeJson(error.body) : error.body) as { message?: string; category?: string; policyName?: string } | null;
    const headers = Object.fromEntries(Object.entries(error.headers ?? {}).map(([name, value]) => [name.toLowerCase(), value]));
    const words = body?.message ? providerWords(body.message) : typeof error.body === 'string' ? providerWords(error.body) : `HTTP ${error.code}`;
    if (error.code === 429) {
      if (body?.policyName === 'DAILY') return new CrmProviderError(provider, 'daily-limit', `HubSpot's daily API limit is spent: ${words}`, { status: 429, resumeAt: nextUtcMidnight() });
      const retryAfterMs = retryAfterMsOf(headers['retry-after']) ?? (Number(headers['x-hubspot-ratelimit-interval-milliseconds']) || null);
      return new CrmProviderError(provider, 'rate-limited', `HubSpot is rate limiting: ${words}`, { status: 429, retryAfterMs });
    }
    if (error.code >= 200 && error.code < 300) return new CrmProviderError(provider, 'malformed-response', `HubSpot answered ${error.code} with something that is not its API's JSON.`, { status: error.code, cause: error });
    if (error.code === 401) return new CrmProviderError(provider, 'unauthorized', `HubSpot refused the credentials: ${words}`, { status: 401 });
    // A 5xx without HubSpot's JSON (a proxy's HTML page) is still an outage, worth retrying.
    if (error.code < 500 && body === null && typeof error.body === 'string' && /</.test(error.body)) {
      return new CrmProviderError(provider, 'malformed-response', `HubSpot answered ${error.code} with an HTML page instead of JSON.`, { status: error.code });
    }
    return new CrmProviderError(provider, kindOfStatus(error.code), `HubSpot answered ${error.code}: ${words}`, { status: error.code, cause: error });
  }
  const failure = error as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
  if (isCrmProviderError(failure?.cause)) return failure.cause;
  const code = failure?.code ?? failure?.cause?.code;
  if (code && /^(ECONN|ETIMEDOUT|EAI_AGAIN|ENOTFOUND|EPIPE|UND_ERR|ECONNRESET|EHOSTUNREACH|ENETUNREACH)/.test(code)) {
    return new CrmProviderError(provider, 'unavailable', `HubSpot could not be reached (${code}).`, { cause: error });
  }
  if (failure instanceof SyntaxError || /mediaType|JSON|parse|Unexpected token/i.test(failure?.message ?? '')) {
    return new CrmProviderError(provider, 'malformed-response', 'HubSpot answered with something that is not its API\'s JSON (an HTML page or garbage).', { cause: error });
  }
  return new CrmProviderError(provider, 'unavailable', `HubSpot call failed: ${providerWords(failure?.message ?? String(error))}`, { cause: error });
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

const instantOf = (value: Date | string | null | undefined): Date | null => {
  if (value === null || value === undefined) return null;
  const date = value instanceof Date ? value : new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
};

function recordOf(object: HubSpotObject, fields: readonly string[]): CrmRecord {
  const properties: CrmProperties = {};
  for (const field of fields) {
    const value = object.properties[field];
    properties[field] = value === undefined || value === '' ? null : value;
  }
  return {
    externalId: String(object.id),
    properties,
    modifiedAt: instantOf(object.properties['lastmodifieddate']) ?? instantOf(object.updatedAt) ?? new Date(0),
    mergedExternalIds: (object.properties['hs_merged_object_ids'] ?? '').split(';').map((id) => id.trim()).filter(Boolean),
  };
}

/** HubSpot clears a property with an empty string. */
const hubSpotValues = (properties: CrmProperties): Record<string, string> => Object.fromEntries(Object.entries(properties).map(([name, value]) => [name, value ?? '']));

const readProperties = (fields: readonly string[]) => [...new Set([...fields, ...syncProperties])];

const chunks = <Item>(items: readonly Item[], size: number): Item[][] => Array.from({ length: Math.ceil(items.length / size) }, (_unused, index) => items.slice(index * size, index * size + size));

/**
 * HubSpot through its official SDK (`@hubspot/api-client`, CRM v3 contacts): changes by a search on
 * `lastmodifieddate` (ascending, restarted from the last date seen before the 10,000-result reach),
 * deletes from the archived listing, merges from `hs_merged_object_ids`, writes in batches of 100
 * (a refused batch is retried record by record so one bad record fails alone).
 */
export function createHubSpotAdapter(settings: HubSpotAdapterSettings): CrmAdapter {
  const provider = CrmProvider.HUBSPOT;
  const baseUrl = checkBaseUrl(provider, settings.baseUrl ?? hubSpotDefaultBaseUrl, settings.outbound ?? {});
  const basePath = baseUrl.href.replace(/\/$/, '');
  const httpAgent = createOutboundAgent(provider, baseUrl, settings.outbound ?? {});
  const retryPolicy = createProviderRetry(settings.retry);
  const credentials = settings.credentials;
  const oauth = 'refreshToken' in credentials ? credentials : null;
  const client = new Client({ basePath, httpAgent, ...('accessToken' in credentials ? { accessToken: credentials.accessToken } : {}) });
  let portalId: string | null = 'portalId' in credentials && credentials.portalId ? String(credentials.portalId) : null;
  let accessTokenExpiresAt = 0;
  const appUrl = (settings.appUrl ?? 'https://app.hubspot.com').replace(/\/$/, '');
  const maximumSearchReach = settings.maximumSearchResults ?? 10_000;

  const refreshAccessToken = async () => {
    if (!oauth) return;
    try {
      const answer = await client.oauth.tokensApi.create('refresh_token', undefined, undefined, oauth.clientId, oauth.clientSecret, oauth.refreshToken);
      client.setAccessToken(answer.accessToken);
      // Refreshed a minute early, so a call never starts with a token about to expire.
      accessTokenExpiresAt = Date.now() + (answer.expiresIn - 60) * 1000;
    } catch (error) {
      const classified = classifyHubSpotError(error);
      if (classified.status === 400) throw new CrmProviderError(provider, 'unauthorized', `HubSpot refused the refresh token: ${classified.message.replace(/^HubSpot answered 400: /, '')}`, { status: 400 });
      throw classified;
    }
  };

  /**
   * One SDK call with retries, a fresh OAuth token, and every failure classified. The SDK hands
   * back whatever a 2xx answer parsed to (nothing, for an HTML page): `expect` names the one
   * property every real answer has, so garbage is told apart from an answer.
   */
  const call = <Result>(operation: () => Promise<Result>, signal?: AbortSignal, expect?: string): Promise<Result> => {
    const checked = async () => {
      const answer = await operation();
      if (expect && (typeof answer !== 'object' || answer === null || !(expect in answer))) {
        throw new CrmProviderError(provider, 'malformed-response', 'HubSpot answered with something that is not its API\'s JSON (an HTML page or garbage).');
      }
      return answer;
    };
    return retryPolicy.execute(async () => {
      if (oauth && Date.now() >= accessTokenExpiresAt) await refreshAccessToken();
      try {
        return await checked();
      } catch (error) {
        const classified = classifyHubSpotError(error);
        // An OAuth token that expired early is refreshed once; a refused refresh token is final.
        if (classified.kind === 'unauthorized' && oauth) {
          await refreshAccessToken();
          try {
            return await checked();
          } catch (retried) {
            throw classifyHubSpotError(retried);
          }
        }
        throw classified;
      }
    }, signal);
  };

  /** Writes in batches; a batch HubSpot refuses as a whole is written one by one to find the bad records. */
  const writeInBatches = async <Input>(
    inputs: readonly Input[],
    fields: readonly string[],
    batch: (chunk: Input[]) => Promise<HubSpotObject[]>,
    single: (input: Input) => Promise<HubSpotObject>,
    signal?: AbortSignal,
  ): Promise<CrmWriteOutcome[]> => {
    const outcomes: CrmWriteOutcome[] = [];
    for (const chunk of chunks(inputs, maximumBatch)) {
      try {
        const results = await call(() => batch(chunk), signal);
        if (!Array.isArray(results)) throw new CrmProviderError(provider, 'malformed-response', 'HubSpot answered a batch write with something that is not its API\'s JSON.');
        // Results come in any order: each one names its input by the trace id it was sent with.
        const byTrace = new Map(results.map((result) => [result.objectWriteTraceId, result]));
        chunk.forEach((_input, index) => {
          const result = byTrace.get(String(index));
          outcomes.push(result ? { ok: true, record: recordOf(result, fields) } : { ok: false, error: new CrmProviderError(provider, 'malformed-response', 'HubSpot left a record of the batch unanswered.') });
        });
      } catch (error) {
        const classified = classifyHubSpotError(error);
        if (classified.isRetryable || classified.kind === 'unauthorized' || classified.kind === 'daily-limit' || classified.kind === 'forbidden' || classified.kind === 'malformed-response' || classified.kind === 'refused-address') throw classified;
        for (const input of chunk) {
          try {
            outcomes.push({ ok: true, record: recordOf(await call(() => single(input), signal, 'id'), fields) });
          } catch (singleError) {
            const failure = classifyHubSpotError(singleError);
            if (failure.isRetryable || failure.kind === 'unauthorized' || failure.kind === 'daily-limit') throw failure;
            outcomes.push({ ok: false, error: failure });
          }
        }
      }
    }
    return outcomes;
  };

  return {
    provider,
    maximumBatchSize: maximumBatch,

    async verifyCredentials(signal): Promise<CrmAccount> {
      await call(() => client.crm.properties.coreApi.getAll('contacts'), signal, 'results');
      if (oauth) {
        const token = client.config.accessToken;
        if (token) {
          const info = await call(() => client.oauth.accessTokensApi.get(token), signal, 'hubId');
          portalId = String(info.hubId);
          return { id: portalId, name: info.hubDomain ?? `HubSpot portal ${portalId}` };
        }
      }
      return { id: portalId ?? 'private-app', name: portalId ? `HubSpot portal ${portalId}` : 'HubSpot private app' };
    },

    async listFields(signal) {
      const answer = await call(() => client.crm.properties.coreApi.getAll('contacts'), signal, 'results');
      return answer.results.map((property) => ({ name: property.name, label: property.label, readOnly: Boolean(property.modificationMetadata?.readOnlyValue || property.calculated) }));
    },

    async listChanges({ since, pageToken, pageSize, fields, signal }) {
      const token: PageToken = pageToken ? decodeToken(pageToken) : { phase: 'search', from: since?.getTime() ?? null, after: 0, runSince: since?.getTime() ?? null };
      if (token.phase === 'search') {
        const limit = Math.max(1, Math.min(pageSize, maximumSearchPage));
        const answer = await call(
          () =>
            client.crm.contacts.searchApi.doSearch({
              filterGroups: token.from === null ? [] : [{ filters: [{ propertyName: 'lastmodifieddate', operator: 'GTE' as never, value: String(token.from) }] }],
              // The SDK types sorts as strings; HubSpot takes the object form, which says the direction.
              sorts: [{ propertyName: 'lastmodifieddate', direction: 'ASCENDING' }] as never,
              properties: readProperties(fields),
              limit,
              after: String(token.after),
            }),
          signal,
          'results',
        );
        const records = answer.results.map((object) => recordOf(object as HubSpotObject, fields));
        const checkpoint = records.at(-1)?.modifiedAt ?? null;
        const nextAfter = answer.paging?.next?.after;
        let next: PageToken;
        if (nextAfter === undefined) next = { phase: 'archived', after: null, runSince: token.runSince };
        else if (Number(nextAfter) + limit > maximumSearchReach) {
          // The search reaches only 10,000 results: start a new one from the last date seen (records
          // of that very millisecond are read again, and recognised as unchanged).
          next = { phase: 'search', from: checkpoint?.getTime() ?? token.from, after: 0, runSince: token.runSince };
        } else next = { phase: 'search', from: token.from, after: Number(nextAfter), runSince: token.runSince };
        return { changes: records.map((record): CrmChange => ({ kind: 'upsert', record })), nextPageToken: encodeToken(next), checkpoint, totalEstimate: answer.total };
      }
      const answer = await call(() => client.crm.contacts.basicApi.getPage(Math.min(pageSize, maximumBatch), token.after ?? undefined, ['email'], undefined, undefined, true), signal, 'results');
      const changes: CrmChange[] = [];
      for (const object of answer.results as HubSpotObject[]) {
        const archivedAt = instantOf(object.archivedAt) ?? instantOf(object.updatedAt) ?? new Date(0);
        if (token.runSince === null || archivedAt.getTime() >= token.runSince) changes.push({ kind: 'delete', externalId: String(object.id), deletedAt: archivedAt, mergedInto: null });
      }
      const nextAfter = answer.paging?.next?.after;
      return { changes, nextPageToken: nextAfter ? encodeToken({ phase: 'archived', after: nextAfter, runSince: token.runSince }) : null, checkpoint: null, totalEstimate: null };
    },

    async get(externalId, fields, signal) {
      try {
        const object = await call(() => client.crm.contacts.basicApi.getById(externalId, readProperties(fields), undefined, undefined, false), signal, 'id');
        return recordOf(object as HubSpotObject, fields);
      } catch (error) {
        if (isCrmProviderError(error) && error.kind === 'not-found') return null;
        throw error;
      }
    },

    async findByEmails(emails, fields, signal) {
      const found: CrmRecord[] = [];
      for (const chunk of chunks(emails, maximumBatch)) {
        const answer = await call(
          () => client.crm.contacts.batchApi.read({ idProperty: 'email', inputs: chunk.map((email) => ({ id: email })), properties: readProperties(fields), propertiesWithHistory: [] }, false),
          signal,
          'results',
        );
        found.push(...answer.results.map((object) => recordOf(object as HubSpotObject, fields)));
      }
      return found;
    },

    create(inputs, fields, signal) {
      return writeInBatches(
        inputs,
        fields,
        async (chunk) => (await client.crm.contacts.batchApi.create({ inputs: chunk.map((properties, index) => ({ properties: hubSpotValues(properties), associations: [], objectWriteTraceId: String(index) })) })).results as HubSpotObject[],
        async (properties) => (await client.crm.contacts.basicApi.create({ properties: hubSpotValues(properties), associations: [] })) as HubSpotObject,
        signal,
      );
    },

    update(inputs, fields, signal) {
      return writeInBatches(
        inputs,
        fields,
        async (chunk) => (await client.crm.contacts.batchApi.update({ inputs: chunk.map((input, index) => ({ id: input.externalId, properties: hubSpotValues(input.properties), objectWriteTraceId: String(index) })) })).results as HubSpotObject[],
        async (input) => (await client.crm.contacts.basicApi.update(input.externalId, { properties: hubSpotValues(input.properties) })) as HubSpotObject,
        signal,
      );
    },

    async delete(externalId, signal) {
      try {
        await call(() => client.crm.contacts.basicApi.archive(externalId), signal);
      } catch (error) {
        if (!(isCrmProviderError(error) && error.kind === 'not-found')) throw error;
      }
    },

    async fieldModifiedTimes(externalId, fields, signal) {
      const object = (await call(() => client.crm.contacts.basicApi.getById(externalId, readProperties(fields), [...fields], undefined, false), signal, 'id')) as HubSpotObject;
      const times: Record<string, Date> = {};
      for (const field of fields) {
        const latest = instantOf(object.propertiesWithHistory?.[field]?.[0]?.timestamp);
        if (latest) times[field] = latest;
      }
      return times;
    },

    recordUrl: (externalId) => (portalId ? `${appUrl}/contacts/${portalId}/record/0-1/${externalId}` : null),

    verifyWebhook: (request, now) => verifyHubSpotWebhook(request, settings.webhookSecret ?? null, now),
  };
}
