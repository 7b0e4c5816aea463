import { createRequire } from 'node:module';
import jsforce, { type Connection } from 'jsforce';
import { FetchAllowlist, refusalReasonOf } from '@gtm/runtime';
import { lookup as systemLookup } from 'node:dns';
import { CrmProvider, type CrmAdapter, type CrmChange, type CrmRecord, type CrmWriteOutcome } from '../crm-provider.js';
import { CrmProviderError, isCrmProviderError, kindOfStatus, nextUtcMidnight, providerWords } from '../crm-provider.error.js';
import { checkBaseUrl, type OutboundPolicy } from '../outbound-guard.js';
import { createProviderRetry, type ProviderRetrySettings } from '../provider-retry.js';

export type SalesforceCredentials = { instanceUrl: string; accessToken: string } | { instanceUrl?: string | null; clientId: string; clientSecret: string; refreshToken: string };

export interface SalesforceAdapterSettings {
  credentials: SalesforceCredentials;
  /** The login URL OAuth refreshes against. Default: `https://login.salesforce.com`. */
  baseUrl?: string | null;
  outbound?: OutboundPolicy;
  retry?: ProviderRetrySettings;
}

export const salesforceDefaultLoginUrl = 'https://login.salesforce.com';
const apiVersion = '62.0';
/** What the sync reads besides the mapped fields. */
const syncFields = ['Id', 'SystemModstamp'];

/** One record's answer in an sObject Collections call. */
interface SaveResult {
  id?: string;
  success: boolean;
  errors: Array<{ statusCode?: string; message?: string; fields?: string[] }>;
}

/** Records per sObject Collections call (Salesforce's limit). */
const maximumBatch = 200;

type PageToken = { phase: 'query'; next: string | null; since: number | null; startedAt: number } | { phase: 'deleted'; since: number; startedAt: number };
const encode = (token: PageToken) => Buffer.from(JSON.stringify(token)).toString('base64url');
const decode = (token: string) => JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as PageToken;

/** A SOQL string literal. */
const literal = (value: string) => `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
/** A SOQL datetime literal (no quotes, UTC). */
const soqlDate = (date: Date) => date.toISOString().replace(/\.\d{3}Z$/, 'Z');

/** A `lookup` refusing private addresses when `checked`. */
const lookupFor = (checked: boolean) => (hostname: string, options: { all?: boolean }, callback: (error: Error | null, address: any, family?: number) => void) =>
  systemLookup(hostname, { all: true, verbatim: true }, (error, addresses) => {
    if (error) return callback(error, '', 0);
    if (checked) {
      for (const { address } of addresses) {
        const reason = refusalReasonOf(address);
        if (reason) return callback(new CrmProviderError(CrmProvider.SALESFORCE, 'refused-address', `${hostname} resolves to a ${reason}, which is never called.`), '', 0);
      }
    }
    if (options.all) callback(null, addresses);
    else callback(null, addresses[0]!.address, addresses[0]!.family);
  });

/** The SOQL field list: the mapped fields and what the sync needs. */
const select = (fields: readonly string[]) => [...new Set([...syncFields, ...fields])].join(', ');

let dispatcherInstalled = false;

/**
 * jsforce sends every request through one process-wide undici dispatcher (`setDispatcher`, from
 * its own copy of undici). Ours routes each origin to a pool whose connections learn their address
 * from a lookup that refuses private addresses, unless the origin is allowlisted.
 */
function installGuardedDispatcher(policy: OutboundPolicy): void {
  if (dispatcherInstalled) return;
  const requireFromJsforce = createRequire(createRequire(import.meta.url).resolve('jsforce'));
  const undici = requireFromJsforce('undici') as typeof import('undici');
  const allowlist = new FetchAllowlist(policy.allowlist ?? []);
  const dispatcher = new undici.Agent({
    factory: (origin: string | URL, options: object) => new undici.Pool(origin, { ...options, connect: { allowH2: false, lookup: lookupFor(!allowlist.admits(new URL(String(origin)))) } as never }),
  });
  requireFromJsforce('./lib/request').setDispatcher(dispatcher);
  dispatcherInstalled = true;
}

/** jsforce's errors (`errorCode`, `name`, HTTP status) → our classification, in Salesforce's words. */
export function classifySalesforceError(error: unknown): CrmProviderError {
  const provider = CrmProvider.SALESFORCE;
  if (isCrmProviderError(error)) return error;
  const failure = error as { errorCode?: string; name?: string; message?: string; data?: unknown; content?: unknown; cause?: unknown; code?: string };
  if (isCrmProviderError(failure.cause)) return failure.cause;
  const code = failure.errorCode ?? failure.name ?? '';
  const words = providerWords(failure.message ?? String(error));
  if (code === 'REQUEST_LIMIT_EXCEEDED') {
    if (/TotalRequests/i.test(words)) return new CrmProviderError(provider, 'daily-limit', `Salesforce's API request limit is spent: ${words}`, { status: 403, resumeAt: nextUtcMidnight() });
    return new CrmProviderError(provider, 'rate-limited', `Salesforce is limiting requests: ${words}`, { status: 403 });
  }
  if (code === 'INVALID_SESSION_ID' || code === 'invalid_grant' || /invalid_grant|expired access\/refresh token/i.test(words)) return new CrmProviderError(provider, 'unauthorized', `Salesforce refused the credentials: ${words}`, { status: 401 });
  if (code === 'NOT_FOUND' || code === 'ENTITY_IS_DELETED') return new CrmProviderError(provider, 'not-found', `Salesforce: ${words}`, { status: 404 });
  if (/^(INVALID_EMAIL_ADDRESS|REQUIRED_FIELD_MISSING|STRING_TOO_LONG|FIELD_CUSTOM_VALIDATION_EXCEPTION|INVALID_FIELD|DUPLICATES_DETECTED)$/.test(code)) return new CrmProviderError(provider, 'invalid-record', `Salesforce refused the values: ${words}`, { status: 400 });
  const status = /^ERROR_HTTP_(\d{3})$/.exec(code)?.[1];
  if (status) {
    const content = String(failure.content ?? failure.data ?? '');
    if (/</.test(content) && Number(status) < 500) return new CrmProviderError(provider, 'malformed-response', `Salesforce answered ${status} with an HTML page instead of JSON.`, { status: Number(status) });
    return new CrmProviderError(provider, kindOfStatus(Number(status)), `Salesforce answered ${status}: ${words}`, { status: Number(status) });
  }
  if (failure instanceof SyntaxError || /Unexpected token|JSON/i.test(words)) return new CrmProviderError(provider, 'malformed-response', "Salesforce answered with something that is not its API's JSON.", { cause: error });
  return new CrmProviderError(provider, 'unavailable', `Salesforce call failed: ${words}`, { cause: error });
}

function recordOf(row: Record<string, unknown>, fields: readonly string[]): CrmRecord {
  return {
    externalId: String(row['Id']),
    properties: Object.fromEntries(fields.map((field) => [field, row[field] === undefined || row[field] === null ? null : String(row[field])])),
    modifiedAt: new Date(String(row['SystemModstamp'])),
    mergedExternalIds: [],
  };
}

/**
 * Salesforce through jsforce, on the Lead object: changes by SOQL on `SystemModstamp` (ascending,
 * `nextRecordsUrl` pages of the asked batch size), then `getDeleted` for the same window, whose
 * merged rows (`MasterRecordId`, read with `queryAll`) become merges. Salesforce is polled, never
 * called back (decision 0042).
 */
export function createSalesforceAdapter(settings: SalesforceAdapterSettings): CrmAdapter {
  const provider = CrmProvider.SALESFORCE;
  const policy = settings.outbound ?? {};
  const loginUrl = checkBaseUrl(provider, settings.baseUrl ?? salesforceDefaultLoginUrl, policy).href.replace(/\/$/, '');
  const credentials = settings.credentials;
  const instanceUrl = credentials.instanceUrl ? checkBaseUrl(provider, credentials.instanceUrl, policy).href.replace(/\/$/, '') : loginUrl;
  installGuardedDispatcher(policy);
  const connection: Connection =
    'accessToken' in credentials
      ? new jsforce.Connection({ instanceUrl, accessToken: credentials.accessToken, version: apiVersion })
      : new jsforce.Connection({ oauth2: { loginUrl, clientId: credentials.clientId, clientSecret: credentials.clientSecret }, instanceUrl, refreshToken: credentials.refreshToken, version: apiVersion });
  const retryPolicy = createProviderRetry(settings.retry);
  const call = <Answer>(operation: () => Promise<Answer>, signal?: AbortSignal): Promise<Answer> =>
    retryPolicy.execute(async () => {
      try {
        return await operation();
      } catch (error) {
        throw classifySalesforceError(error);
      }
    }, signal);
  const soql = (query: string, batchSize = 2000) => call(() => connection.request<{ records: Array<Record<string, unknown>>; done: boolean; totalSize: number; nextRecordsUrl?: string }>({ method: 'GET', url: `/query?q=${encodeURIComponent(query)}`, headers: { 'Sforce-Query-Options': `batchSize=${batchSize}` } }));

  /**
   * Writes a batch through sObject Collections (jsforce sends up to 200 records in one
   * `/composite/sobjects` call, `allOrNone: false`: a refused record fails alone), then reads the
   * written leads back in one query for their values and `SystemModstamp` as Salesforce now holds them.
   */
  const saveMany = async (send: () => Promise<SaveResult[]>, fields: readonly string[], signal?: AbortSignal): Promise<CrmWriteOutcome[]> => {
    const results = await call(send, signal);
    const ids = results.filter((result) => result.success && result.id).map((result) => result.id!);
    const rows = ids.length === 0 ? [] : (await soql(`SELECT ${select(fields)} FROM Lead WHERE Id IN (${ids.map(literal).join(', ')})`)).records;
    const written = new Map(rows.map((row) => [String(row['Id']), recordOf(row, fields)]));
    return results.map((result): CrmWriteOutcome => {
      const record = result.success && result.id ? written.get(result.id) : undefined;
      if (record) return { ok: true, record };
      const [refusal] = result.errors;
      const error = classifySalesforceError(Object.assign(new Error(refusal?.message ?? 'Salesforce did not say why'), { errorCode: refusal?.statusCode ?? (result.success ? 'ENTITY_IS_DELETED' : undefined) }));
      return { ok: false, error };
    });
  };

  return {
    provider,
    maximumBatchSize: maximumBatch,

    async verifyCredentials(signal) {
      const answer = await call(async () => (await connection.query('SELECT Id, Name FROM Organization LIMIT 1')) as { records: Array<{ Id: string; Name: string }> }, signal);
      const organization = answer.records[0];
      if (!organization) throw new CrmProviderError(provider, 'forbidden', 'Salesforce answered that these credentials see no organization.');
      return { id: organization.Id, name: organization.Name };
    },

    async listFields(signal) {
      const described = await call(() => connection.sobject('Lead').describe(), signal);
      return described.fields.map((field) => ({ name: field.name, label: field.label, readOnly: !field.updateable && !field.createable }));
    },

    async listChanges({ since, pageToken, pageSize, fields, signal }) {
      const token: PageToken = pageToken ? decode(pageToken) : { phase: 'query', next: null, since: since?.getTime() ?? null, startedAt: Date.now() };
      if (token.phase === 'query') {
        const answer = token.next
          ? await call(() => connection.request<{ records: Array<Record<string, unknown>>; done: boolean; totalSize: number; nextRecordsUrl?: string }>({ method: 'GET', url: token.next!, headers: { 'Sforce-Query-Options': `batchSize=${Math.max(200, pageSize)}` } }), signal)
          : await soql(`SELECT ${select(fields)} FROM Lead${token.since === null ? '' : ` WHERE SystemModstamp >= ${soqlDate(new Date(token.since))}`} ORDER BY SystemModstamp ASC, Id ASC`, Math.max(200, pageSize));
        if (!Array.isArray(answer?.records)) throw new CrmProviderError(provider, 'malformed-response', "Salesforce answered a query with something that is not its API's JSON.");
        const records = answer.records.map((row) => recordOf(row, fields));
        const next: PageToken | null = answer.nextRecordsUrl ? { ...token, next: answer.nextRecordsUrl } : token.since === null ? null : { phase: 'deleted', since: token.since, startedAt: token.startedAt };
        return { changes: records.map((record): CrmChange => ({ kind: 'upsert', record })), nextPageToken: next ? encode(next) : null, checkpoint: records.at(-1)?.modifiedAt ?? null, totalEstimate: answer.totalSize ?? null };
      }
      // Salesforce keeps deleted rows' ids for a while: read the window, then which were merges.
      const end = new Date(Math.max(Date.now(), token.since + 60_000));
      const deleted = await call(() => connection.sobject('Lead').deleted(new Date(token.since), end), signal);
      const ids = deleted.deletedRecords.map((row) => row.id);
      const masters = new Map<string, string>();
      if (ids.length > 0) {
        const merged = await call(() => connection.request<{ records: Array<{ Id: string; MasterRecordId: string | null }> }>({ method: 'GET', url: `/queryAll?q=${encodeURIComponent(`SELECT Id, MasterRecordId FROM Lead WHERE Id IN (${ids.map(literal).join(', ')})`)}` }), signal);
        for (const row of merged.records ?? []) if (row.MasterRecordId) masters.set(row.Id, row.MasterRecordId);
      }
      const changes: CrmChange[] = [];
      for (const row of deleted.deletedRecords) {
        const master = masters.get(row.id);
        if (master) {
          const survivor = await this.get(master, fields, signal);
          if (survivor) changes.push({ kind: 'upsert', record: { ...survivor, mergedExternalIds: [row.id] } });
        } else changes.push({ kind: 'delete', externalId: row.id, deletedAt: new Date(row.deletedDate), mergedInto: null });
      }
      return { changes, nextPageToken: null, checkpoint: null, totalEstimate: null };
    },

    async get(externalId, fields, signal) {
      try {
        const row = await call(() => connection.sobject('Lead').retrieve(externalId, { fields: [...new Set([...syncFields, ...fields])] }) as unknown as Promise<Record<string, unknown>>, signal);
        return recordOf(row, fields);
      } catch (error) {
        if (isCrmProviderError(error) && error.kind === 'not-found') return null;
        throw error;
      }
    },

    async findByEmails(emails, fields, signal) {
      if (emails.length === 0) return [];
      const answer = await soql(`SELECT ${select(fields)} FROM Lead WHERE Email IN (${emails.map(literal).join(', ')})`);
      void signal;
      return answer.records.map((row) => recordOf(row, fields));
    },

    async create(inputs, fields, signal) {
      // Salesforce's Lead needs a last name and a company; a lead here may have neither.
      const records = inputs.map((properties) => ({ ...properties, LastName: properties['LastName'] ?? properties['Email'] ?? '[not provided]', Company: properties['Company'] ?? '[not provided]' }));
      return saveMany(() => connection.sobject('Lead').create(records, { allOrNone: false }) as Promise<SaveResult[]>, fields, signal);
    },

    async update(inputs, fields, signal) {
      const records = inputs.map((input) => ({ Id: input.externalId, ...input.properties }));
      return saveMany(() => connection.sobject('Lead').update(records, { allOrNone: false }) as Promise<SaveResult[]>, fields, signal);
    },

    async delete(externalId, signal) {
      try {
        await call(() => connection.sobject('Lead').destroy(externalId), signal);
      } catch (error) {
        if (!(isCrmProviderError(error) && error.kind === 'not-found')) throw error;
      }
    },

    recordUrl: (externalId) => `${instanceUrl}/lightning/r/Lead/${encodeURIComponent(externalId)}/view`,

    // Salesforce is polled (decision 0042): no webhook of it is ever accepted.
    verifyWebhook: () => ({ verified: false, reason: 'Salesforce connections are synced by polling; they take no webhooks' }),
  };
}
