import { createHash } from 'node:crypto';
import axios, { type AxiosInstance } from 'axios';
import { v1, v2 } from 'pipedrive';
import { CrmProvider, type CrmAdapter, type CrmChange, type CrmProperties, type CrmRecord, type CrmWebhookEvent, type CrmWriteOutcome, type InboundWebhook, type WebhookVerification } from '../crm-provider.js';
import { CrmProviderError, isCrmProviderError, kindOfStatus, providerWords, retryAfterMsOf } from '../crm-provider.error.js';
import { checkBaseUrl, createOutboundAgent, type OutboundPolicy } from '../outbound-guard.js';
import { createProviderRetry, type ProviderRetrySettings } from '../provider-retry.js';
import { equalSecrets, headerOf } from '../webhook-signature.js';

export interface PipedriveAdapterSettings {
  credentials: { apiToken: string };
  /** Default: `https://api.pipedrive.com`. */
  baseUrl?: string | null;
  /** `user:password` the webhooks are sent with (HTTP basic auth). Default: none (webhooks refused). */
  webhookSecret?: string | null;
  outbound?: OutboundPolicy;
  retry?: ProviderRetrySettings;
}

export const pipedriveDefaultBaseUrl = 'https://api.pipedrive.com';

interface PipedrivePerson {
  id: number;
  name: string;
  first_name?: string | null;
  last_name?: string | null;
  job_title?: string | null;
  org_id?: number | null;
  emails?: Array<{ value: string; primary?: boolean }>;
  phones?: Array<{ value: string; primary?: boolean }>;
  update_time: string;
}

/** Past this, a Retry-After is a budget to wait out (a pause), not a retry. */
const longestRetryWaitMs = 15 * 60 * 1000;
/** Basic auth carries no timestamp: a delivery's exact bytes are remembered this long to refuse a replay. */
const replayWindowMs = 24 * 60 * 60 * 1000;

const primary = (entries: Array<{ value: string; primary?: boolean }> | undefined) => (entries?.find((entry) => entry.primary) ?? entries?.[0])?.value ?? null;

/** A person as the sync sees it: flat fields, the primary email and phone, its organization's name. */
const recordOf = (person: PipedrivePerson, organizations: Map<number, string>, fields: readonly string[]): CrmRecord => {
  const all: CrmProperties = {
    name: person.name ?? null,
    first_name: person.first_name ?? null,
    last_name: person.last_name ?? null,
    job_title: person.job_title ?? null,
    email: primary(person.emails),
    phone: primary(person.phones),
    org_name: typeof person.org_id === 'number' ? (organizations.get(person.org_id) ?? null) : null,
  };
  return { externalId: String(person.id), properties: Object.fromEntries(fields.map((field) => [field, all[field] ?? null])), modifiedAt: new Date(person.update_time), mergedExternalIds: [] };
};
/** What the SDK (axios) throws → our classification, in Pipedrive's own words. */
export function classifyPipedriveError(error: unknown): CrmProviderError {
  const provider = CrmProvider.PIPEDRIVE;
  if (isCrmProviderError(error)) return error;
  const failure = error as { response?: { status: number; data?: unknown; headers?: Record<string, string> }; code?: string; cause?: unknown; message?: string };
  if (isCrmProviderError(failure.cause)) return failure.cause;
  if (failure.response) {
    const { status, data, headers = {} } = failure.response;
    const body = typeof data === 'object' && data !== null ? (data as { error?: string; error_info?: string }) : null;
    const words = body?.error ? providerWords(body.error) : typeof data === 'string' ? providerWords(data) : `HTTP ${status}`;
    if (status === 429) {
      const retryAfterMs = retryAfterMsOf(headers['retry-after']) ?? retryAfterMsOf(headers['x-ratelimit-reset']);
      if (retryAfterMs !== null && retryAfterMs > longestRetryWaitMs) return new CrmProviderError(provider, 'daily-limit', `Pipedrive's API budget is spent: ${words}`, { status, resumeAt: new Date(Date.now() + retryAfterMs) });
      return new CrmProviderError(provider, 'rate-limited', `Pipedrive is rate limiting: ${words}`, { status, retryAfterMs });
    }
    if (!body && status < 500 && typeof data === 'string' && /</.test(data)) return new CrmProviderError(provider, 'malformed-response', `Pipedrive answered ${status} with an HTML page instead of JSON.`, { status });
    return new CrmProviderError(provider, kindOfStatus(status), status === 401 ? `Pipedrive refused the API token: ${words}` : `Pipedrive answered ${status}: ${words}`, { status });
  }
  return new CrmProviderError(provider, 'unavailable', `Pipedrive could not be reached${failure.code ? ` (${failure.code})` : ''}.`, { cause: error });
}

/**
 * The SDK's own axios instance keeps only a failed answer's body (its error interceptor drops the
 * status and headers, so a 429's Retry-After is lost). Its API classes take the instance they use
 * from a protected field: these subclasses hand them one through our SSRF-checked agent that keeps
 * every failure whole, and answers with the body as the SDK's does.
 */
function sdkHttpClient(agent: ReturnType<typeof createOutboundAgent>): AxiosInstance {
  const instance = axios.create({ httpAgent: agent, httpsAgent: agent, timeout: 30_000, maxRedirects: 0 });
  instance.interceptors.response.use((response) => response.data);
  return instance;
}

class PersonsApi extends v2.PersonsApi {
  constructor(configuration: v2.Configuration, http: AxiosInstance) {
    super(configuration);
    this.axios = http;
  }
}

class OrganizationsApi extends v2.OrganizationsApi {
  constructor(configuration: v2.Configuration, http: AxiosInstance) {
    super(configuration);
    this.axios = http;
  }
}

class UsersApi extends v1.UsersApi {
  constructor(configuration: v1.Configuration, http: AxiosInstance) {
    super(configuration);
    this.axios = http;
  }
}

class PersonFieldsApi extends v1.PersonFieldsApi {
  constructor(configuration: v1.Configuration, http: AxiosInstance) {
    super(configuration);
    this.axios = http;
  }
}

/**
 * Pipedrive through its official SDK (`pipedrive`: v2 persons and organizations, v1 for the
 * current user and person fields): changes by `updated_since` sorted by `update_time`, cursor
 * pages; a person's organization is its company (found by name or made when we create one).
 * Pipedrive lists no deleted persons: deletes and merges arrive by webhook (v2, `merged_to_id`).
 */
export function createPipedriveAdapter(settings: PipedriveAdapterSettings): CrmAdapter {
  const provider = CrmProvider.PIPEDRIVE;
  const baseUrl = checkBaseUrl(provider, settings.baseUrl ?? pipedriveDefaultBaseUrl, settings.outbound ?? {});
  const root = baseUrl.href.replace(/\/$/, '');
  const agent = createOutboundAgent(provider, baseUrl, settings.outbound ?? {});
  const http = sdkHttpClient(agent);
  const configurationV2 = new v2.Configuration({ apiKey: settings.credentials.apiToken, basePath: `${root}/api/v2` });
  const configurationV1 = new v1.Configuration({ apiKey: settings.credentials.apiToken, basePath: `${root}/api/v1` });
  const persons = new PersonsApi(configurationV2, http);
  const organizationsApi = new OrganizationsApi(configurationV2, http);
  const retryPolicy = createProviderRetry(settings.retry);

  /** One SDK call with retries; an answer without Pipedrive's `success` is garbage (an HTML page). */
  const call = <Answer>(operation: () => Promise<Answer>, signal?: AbortSignal): Promise<Answer> =>
    retryPolicy.execute(async () => {
      let answer: Answer;
      try {
        answer = await operation();
      } catch (error) {
        throw classifyPipedriveError(error);
      }
      if (typeof answer !== 'object' || answer === null || !('success' in answer)) throw new CrmProviderError(provider, 'malformed-response', "Pipedrive answered with something that is not its API's JSON.");
      return answer;
    }, signal);

  const organizationNames = async (people: PipedrivePerson[], signal?: AbortSignal) => {
    const names = new Map<number, string>();
    for (const id of new Set(people.map((person) => person.org_id).filter((organization): organization is number => typeof organization === 'number'))) {
      try {
        const answer = await call(() => organizationsApi.getOrganization({ id }), signal);
        if (answer.data?.name) names.set(id, answer.data.name);
      } catch (error) {
        if (!(isCrmProviderError(error) && error.kind === 'not-found')) throw error;
      }
    }
    return names;
  };



  const organizationId = async (name: string | null, signal?: AbortSignal): Promise<number | null> => {
    if (!name) return null;
    const found = await call(() => organizationsApi.searchOrganization({ term: name, fields: 'name', exact_match: true }), signal);
    const existing = found.data?.items?.[0]?.item?.id;
    if (typeof existing === 'number') return existing;
    const created = await call(() => organizationsApi.addOrganization({ AddOrganizationRequest: { name } }), signal);
    return created.data?.id ?? null;
  };

  /** A person's fields for a write; Pipedrive composes `name` from first and last name when it is not sent. */
  const personBody = async (properties: CrmProperties, signal?: AbortSignal) => {
    const body: Record<string, unknown> = {};
    for (const field of ['first_name', 'last_name', 'job_title', 'name'] as const) if (field in properties) body[field] = properties[field];
    if ('email' in properties) body['emails'] = properties['email'] ? [{ value: properties['email'], primary: true, label: 'work' }] : [];
    if ('phone' in properties) body['phones'] = properties['phone'] ? [{ value: properties['phone'], primary: true, label: 'work' }] : [];
    if ('org_name' in properties) body['org_id'] = await organizationId(properties['org_name'] ?? null, signal);
    return body;
  };

  const write = async (operation: () => Promise<{ data?: unknown }>, fields: readonly string[], signal?: AbortSignal): Promise<CrmWriteOutcome> => {
    try {
      const answer = await call(operation, signal);
      const person = answer.data as PipedrivePerson;
      return { ok: true, record: recordOf(person, await organizationNames([person], signal), fields) };
    } catch (error) {
      if (isCrmProviderError(error) && (error.kind === 'invalid-record' || error.kind === 'not-found')) return { ok: false, error };
      throw error;
    }
  };

  return {
    provider,
    maximumBatchSize: 50,

    async verifyCredentials(signal) {
      const answer = await call(() => new UsersApi(configurationV1, http).getCurrentUser(), signal);
      const user = answer.data as { company_domain?: string; company_name?: string; company_id?: number };
      return { id: user.company_domain ?? String(user.company_id), name: user.company_name ?? 'Pipedrive company' };
    },

    async listFields(signal) {
      const answer = await call(() => new PersonFieldsApi(configurationV1, http).getPersonFields({ limit: 500 }), signal);
      const keys = (answer.data ?? []).map((field) => ({ name: field.key ?? '', label: field.name ?? field.key ?? '', readOnly: /_time$|^id$/.test(field.key ?? '') }));
      // The flattened names this adapter reads and writes, beside the API's own keys.
      return [...keys.filter((field) => field.name !== 'email' && field.name !== 'phone' && field.name !== 'org_id'), { name: 'email', label: 'Email (primary)', readOnly: false }, { name: 'phone', label: 'Phone (primary)', readOnly: false }, { name: 'org_name', label: 'Organization name', readOnly: false }];
    },

    async listChanges({ since, pageToken, pageSize, fields, signal }) {
      const answer = await call(
        () => persons.getPersons({ updated_since: since ? since.toISOString().replace(/\.\d{3}Z$/, 'Z') : undefined, sort_by: 'update_time', sort_direction: 'asc', limit: Math.min(pageSize, 500), cursor: pageToken ?? undefined }),
        signal,
      );
      const people = (answer.data ?? []) as unknown as PipedrivePerson[];
      const organizations = await organizationNames(people, signal);
      const records = people.map((person) => recordOf(person, organizations, fields));
      return {
        changes: records.map((record): CrmChange => ({ kind: 'upsert', record })),
        nextPageToken: answer.additional_data?.next_cursor ?? null,
        checkpoint: records.at(-1)?.modifiedAt ?? null,
        totalEstimate: null,
      };
    },

    async get(externalId, fields, signal) {
      try {
        const answer = await call(() => persons.getPerson({ id: Number(externalId) }), signal);
        const person = answer.data as unknown as PipedrivePerson;
        return recordOf(person, await organizationNames([person], signal), fields);
      } catch (error) {
        if (isCrmProviderError(error) && error.kind === 'not-found') return null;
        throw error;
      }
    },

    async findByEmails(emails, fields, signal) {
      const found: CrmRecord[] = [];
      for (const email of emails) {
        const answer = await call(() => persons.searchPersons({ term: email, fields: 'email', exact_match: true }), signal);
        for (const item of answer.data?.items ?? []) {
          const record = await this.get(String(item.item?.id), fields, signal);
          if (record) found.push(record);
        }
      }
      return found;
    },

    async create(inputs, fields, signal) {
      const outcomes: CrmWriteOutcome[] = [];
      for (const properties of inputs) {
        const body = await personBody(properties, signal);
        const name = (body['name'] as string | undefined) || [properties['first_name'], properties['last_name']].filter(Boolean).join(' ') || properties['email'] || 'Unnamed';
        outcomes.push(await write(() => persons.addPerson({ AddPersonRequest: { ...body, name } as never }), fields, signal));
      }
      return outcomes;
    },

    async update(inputs, fields, signal) {
      const outcomes: CrmWriteOutcome[] = [];
      for (const input of inputs) {
        const body = await personBody(input.properties, signal);
        outcomes.push(await write(() => persons.updatePerson({ id: Number(input.externalId), UpdatePersonRequest: body as never }), fields, signal));
      }
      return outcomes;
    },

    async delete(externalId, signal) {
      try {
        await call(() => persons.deletePerson({ id: Number(externalId) }), signal);
      } catch (error) {
        if (!(isCrmProviderError(error) && error.kind === 'not-found')) throw error;
      }
    },

    recordUrl: () => null,

    verifyWebhook: (request, now) => verifyPipedriveWebhook(request, settings.webhookSecret ?? null, now),
  };
}

/**
 * Pipedrive signs nothing: its webhooks carry the HTTP basic auth set on the webhook, compared here
 * in constant time with the stored `user:password`. Replays are refused by the delivery's bytes
 * (a retry by Pipedrive carries another attempt number), and event ids are taken once.
 */
export function verifyPipedriveWebhook(request: InboundWebhook, secret: string | null, now: Date): WebhookVerification {
  if (!secret || !secret.includes(':')) return { verified: false, reason: 'the connection has no webhook secret (the user:password of the Pipedrive webhook)' };
  const authorization = headerOf(request, 'authorization') ?? '';
  const given = /^Basic (.+)$/i.exec(authorization)?.[1];
  if (!given) return { verified: false, reason: 'the request carries no basic authentication' };
  if (!equalSecrets(Buffer.from(given, 'base64').toString('utf8'), secret)) return { verified: false, reason: 'the basic authentication does not match' };
  let payload: { meta?: { action?: string; entity?: string; entity_id?: string | number; id?: string; timestamp?: string | number; merged_to_id?: string | number } };
  try {
    payload = JSON.parse(request.rawBody.toString('utf8'));
  } catch {
    return { verified: false, reason: 'the body is not JSON' };
  }
  const meta = payload.meta ?? {};
  const events: CrmWebhookEvent[] = [];
  if (meta.entity === 'person' && meta.entity_id !== undefined) {
    const occurredAt = new Date(typeof meta.timestamp === 'number' ? meta.timestamp * 1000 : (meta.timestamp ?? now));
    const eventId = String(meta.id ?? `${meta.entity_id}:${meta.action}:${meta.timestamp}`);
    if (meta.action === 'delete' && meta.merged_to_id !== undefined) events.push({ eventId, kind: 'merge', externalId: String(meta.merged_to_id), occurredAt, mergedExternalIds: [String(meta.entity_id)] });
    else events.push({ eventId, kind: meta.action === 'delete' ? 'delete' : 'upsert', externalId: String(meta.entity_id), occurredAt, mergedExternalIds: [] });
  }
  return { verified: true, events, replayKey: createHash('sha256').update(authorization).update(request.rawBody).digest('base64url'), replayWindowMs };
}
