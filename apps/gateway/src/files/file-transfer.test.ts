import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createFileTickets, fileUrl, type FileTickets, type IssuedFileTicket } from '@gtm/files';
import { startFileTestService, type FileTestService } from '@gtm/files/testing';
import { createLogger } from '@gtm/runtime';
import { createSubgraphTestSetup, type SubgraphTestSetup } from '@gtm/testing';
import { request } from 'undici';
import { openApiKeyRegistry } from '../api-key/api-key.registry.js';
import { Tenant } from '../api-key/tenant.entity.js';
import { createApp, type GatewayApp } from '../app.js';
import { loadConfig } from '../config.js';

const logger = createLogger({ service: 'gateway-files-test', level: 'silent' });
const fileMaxBytes = 300 * 1024 * 1024;

let setup: SubgraphTestSetup;
let gateway: GatewayApp;
let service: FileTestService;
let tickets: FileTickets;
let origin: string;
const keys: Record<'acme' | 'globex', string> = { acme: '', globex: '' };
const tenantIds: Record<'acme' | 'globex', string> = { acme: '', globex: '' };

/** A port nothing listens on: a service that is down. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

beforeAll(async () => {
  setup = await createSubgraphTestSetup();
  const secretsKey = setup.environment['SECRETS_KEY']!;
  tickets = createFileTickets({ secretsKey });
  const registry = await openApiKeyRegistry({ databaseUrl: setup.database.url, logger, poolMax: 1 });
  for (const tenant of ['acme', 'globex'] as const) {
    keys[tenant] = (await registry.apiKeys.createKey({ tenant, tier: 'enterprise' })).key;
    tenantIds[tenant] = (await registry.database.orm.em.fork().findOneOrFail(Tenant, { slug: tenant })).id;
  }
  await registry.close();
  service = await startFileTestService({ service: 'crm', tickets, verifier: setup.callerKeys.verifier, logger, databaseUrl: setup.database.url });
  gateway = await createApp(
    loadConfig({
      NODE_ENV: 'test',
      GATEWAY_PORT: '0',
      DATABASE_URL: setup.database.url,
      DATABASE_POOL_MAX: '2',
      REDIS_URL: setup.environment['REDIS_URL'],
      REDIS_KEY_PREFIX: `test:${randomBytes(6).toString('hex')}:`,
      LOG_LEVEL: 'silent',
      CALLER_TOKEN_PRIVATE_KEY: setup.callerKeys.keys.privateKeyPem,
      SECRETS_KEY: secretsKey,
      FILE_MAX_BYTES: String(fileMaxBytes),
      CRM_SERVICE_URL: service.url,
      ENRICHMENT_SERVICE_URL: `http://127.0.0.1:${await closedPort()}/graphql`,
    }),
    { logger },
  );
  origin = new URL(gateway.url).origin;
}, 120_000);

afterAll(async () => {
  await gateway?.close();
  await service?.close();
  await setup?.dispose();
});

const issueUpload = (purpose: string, extra: { tenant?: 'acme' | 'globex'; maxBytes?: number } = {}) =>
  tickets.issueUpload({ tenantId: tenantIds[extra.tenant ?? 'acme'], service: 'crm', purpose, resourceId: randomBytes(6).toString('hex'), ...(extra.maxBytes ? { maxBytes: extra.maxBytes } : {}) });

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  json: { errors?: Array<{ message: string; extensions: Record<string, unknown> }> } & Record<string, unknown>;
}

async function put(issued: IssuedFileTicket | string, body: Buffer | Readable, options: { key?: string; contentType?: string; headers?: Record<string, string> } = {}): Promise<Answer> {
  const url = typeof issued === 'string' ? issued : fileUrl(origin, issued);
  const response = await request(url, {
    method: 'PUT',
    headers: { authorization: `Bearer ${options.key ?? keys.acme}`, 'content-type': options.contentType ?? 'text/csv', ...options.headers },
    body,
  });
  const text = await response.body.text();
  return { status: response.statusCode, headers: response.headers, json: text ? JSON.parse(text) : {} };
}

/** A CSV of about `bytes` bytes, made as it is read: the test holds no file in memory either. */
function generatedCsv(bytes: number): { stream: Readable; rows: () => number; sent: () => number } {
  let rows = 0;
  let sent = 0;
  const stream = Readable.from(
    (function* () {
      const header = 'email,first_name,last_name,company,website\n';
      sent += header.length;
      yield Buffer.from(header);
      while (sent < bytes) {
        let chunk = '';
        while (chunk.length < 65_536) {
          rows += 1;
          chunk += `person${rows}@company${rows % 9973}.example,Ada ${rows},Lovelace,"Engines ${rows}, Ltd",https://company${rows % 9973}.example\n`;
        }
        sent += chunk.length;
        yield Buffer.from(chunk);
      }
    })(),
    { objectMode: false },
  );
  return { stream, rows: () => rows, sent: () => sent };
}

/** A full garbage collection, so the baseline holds no garbage of earlier tests. */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

const reasonOf = (answer: Answer) => answer.json.errors?.[0]?.extensions['reason'];

describe('uploads through the gateway', () => {
  it('streams a 200 MB CSV to the service with the process growing by less than 100 MB', async () => {
    // A first, smaller upload, parsed as CSV by the service, loads what the path loads once
    // (modules, encoding tables, pools), so what is measured after it is what the file's size costs.
    const warmUp = generatedCsv(8 * 1024 * 1024);
    const parsed = await put(issueUpload('count-rows'), warmUp.stream);
    expect(parsed.status).toBe(200);
    expect(parsed.json).toEqual({ bytes: warmUp.sent(), rows: warmUp.rows(), encoding: 'utf-8', delimiter: ',', columns: ['email', 'first_name', 'last_name', 'company', 'website'] });
    collectGarbage();
    // The big one is only counted by the service: the transport is what is measured here (parsing
    // 200 MB would only make the test slow; the parser streams the same way at any size).
    const issued = issueUpload('drain');
    const csv = generatedCsv(200 * 1024 * 1024);
    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    // What the transfer holds, not what the collector has yet to take back: on a quiet machine the
    // socket buffers already passed on pile up as garbage faster than V8 gets to them, and the peak
    // then says more about GC timing than about streaming. A file held whole stays held through a
    // collection, so this still catches one.
    let ticks = 0;
    const sampler = setInterval(() => {
      ticks += 1;
      if (ticks % 5 === 0) collectGarbage();
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 50);
    try {
      const answer = await put(issued, csv.stream);
      expect(answer.status).toBe(200);
    } finally {
      clearInterval(sampler);
    }
    expect(csv.sent()).toBeGreaterThanOrEqual(200 * 1024 * 1024);
    expect(service.events.find((event) => event.resourceId === issued.claims.resourceId)).toMatchObject({ kind: 'drained', detail: String(csv.sent()) });
    expect(peak - baseline).toBeLessThan(100 * 1024 * 1024);
  }, 300_000);

  it('stages a real lead list and serves it back, gzip-compressed, as often as asked until the link expires', async () => {
    const bytes = await readFile(new URL('../../../../fixtures/leads/contractors-8k.csv', import.meta.url));
    const issued = issueUpload('stage');
    const answer = await put(issued, bytes, { headers: { 'content-length': String(bytes.length) } });
    expect(answer.status).toBe(200);
    expect(answer.json).toMatchObject({ bytes: bytes.length, rows: 8_277, rejectedRows: 0 });
    expect(await service.stagedRows(issued.claims.resourceId)).toBe(8_277);

    const download = tickets.issueDownload({ tenantId: tenantIds.acme, service: 'crm', purpose: 'staged-rows', resourceId: issued.claims.resourceId });
    for (let attempt = 0; attempt < 2; attempt += 1) {
      const response = await request(fileUrl(origin, download), { headers: { authorization: `Bearer ${keys.acme}`, 'accept-encoding': 'gzip' } });
      expect(response.statusCode).toBe(200);
      expect(response.headers['content-encoding']).toBe('gzip');
      expect(response.headers['content-disposition']).toBe(`attachment; filename="${issued.claims.resourceId}.csv"; filename*=UTF-8''${issued.claims.resourceId}.csv`);
      expect(response.headers['content-length']).toBeUndefined();
      const { gunzipSync } = await import('node:zlib');
      const text = gunzipSync(Buffer.from(await response.body.arrayBuffer())).toString('utf8');
      expect(text.startsWith('\uFEFFcolumn 1,column 2')).toBe(true);
      expect(text).toContain('A & A GENPRO INC.');
    }
    const plain = await request(fileUrl(origin, download), { headers: { authorization: `Bearer ${keys.acme}` } });
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.headers['transfer-encoding']).toBe('chunked');
    expect((await plain.body.text()).split('\r\n').length).toBeGreaterThan(8_277);
  }, 120_000);

  it('aborts the service side when the client disconnects mid-upload: nothing is kept, and the link works again', async () => {
    const issued = issueUpload('stage');
    const client = httpRequest(fileUrl(origin, issued), { method: 'PUT', headers: { authorization: `Bearer ${keys.acme}`, 'content-type': 'text/csv', 'transfer-encoding': 'chunked' } });
    client.on('error', () => {});
    client.write('email,name\n');
    for (let index = 0; index < 200; index += 1) client.write(`person${index}@example.com,Person ${index}\n`.repeat(500));
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    client.destroy();
    const seen = () => service.events.find((event) => event.resourceId === issued.claims.resourceId);
    for (let attempt = 0; attempt < 200 && !seen(); attempt += 1) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(seen()).toMatchObject({ kind: 'rolled-back' });
    expect(await service.stagedRows(issued.claims.resourceId)).toBe(0);

    const retry = await put(issued, Buffer.from('email,name\na@example.com,A\n'));
    expect(retry.status).toBe(200);
    expect(retry.json).toMatchObject({ rows: 1 });
  }, 60_000);
});

describe('downloads through the gateway', () => {
  it('passes Content-Length through when the service knows the size and the client takes no gzip', async () => {
    const download = tickets.issueDownload({ tenantId: tenantIds.acme, service: 'crm', purpose: 'sized', resourceId: '42' });
    const response = await request(fileUrl(origin, download), { headers: { authorization: `Bearer ${keys.acme}` } });
    expect(response.statusCode).toBe(200);
    const text = await response.body.text();
    expect(text).toBe('id,name\r\n42,Zoë\r\n');
    expect(response.headers['content-length']).toBe(String(Buffer.byteLength(text)));
    expect(response.headers['transfer-encoding']).toBeUndefined();
    expect(response.headers['content-disposition']).toBe(`attachment; filename="sized.csv"; filename*=UTF-8''sized.csv`);
    expect(response.headers['cache-control']).toBe('private, no-store');
  });

  it("refuses another tenant's download link (403) and an expired one (410)", async () => {
    const download = tickets.issueDownload({ tenantId: tenantIds.acme, service: 'crm', purpose: 'sized', resourceId: '42' });
    const other = await request(fileUrl(origin, download), { headers: { authorization: `Bearer ${keys.globex}` } });
    expect(other.statusCode).toBe(403);
    expect(((await other.body.json()) as Answer['json']).errors?.[0]?.extensions['reason']).toBe('TICKET_OTHER_TENANT');
    const expired = createFileTickets({ secretsKey: setup.environment['SECRETS_KEY']!, now: () => Date.now() - 3 * 3_600_000 }).issueDownload({ tenantId: tenantIds.acme, service: 'crm', purpose: 'sized', resourceId: '42' });
    const late = await request(fileUrl(origin, expired), { headers: { authorization: `Bearer ${keys.acme}` } });
    expect(late.statusCode).toBe(410);
    expect(((await late.body.json()) as Answer['json']).errors?.[0]?.extensions['reason']).toBe('TICKET_EXPIRED');
  });
});

describe('one upload at a time, and a service that is down', () => {
  it('refuses a second upload with a link while the first is in progress (409), then lets the first finish', async () => {
    const issued = issueUpload('count-rows');
    const first = httpRequest(fileUrl(origin, issued), { method: 'PUT', headers: { authorization: `Bearer ${keys.acme}`, 'content-type': 'text/csv', 'transfer-encoding': 'chunked' } });
    const answered = new Promise<{ status: number; body: string }>((resolve, reject) => {
      first.on('response', (response) => {
        let body = '';
        response.on('data', (chunk: Buffer) => (body += chunk.toString()));
        response.on('end', () => resolve({ status: response.statusCode!, body }));
      });
      first.on('error', reject);
    });
    first.write('email\n' + 'a@example.com\n'.repeat(1000));
    // The first upload holds the link once its bytes reach the service.
    for (let attempt = 0; attempt < 400 && !service.started.has(issued.claims.resourceId); attempt += 1) await new Promise((resolve) => setTimeout(resolve, 25));
    const second = await put(issued, Buffer.from('email\nb@example.com\n'));
    expect(second.status).toBe(409);
    expect(second.json.errors?.[0]).toEqual({ message: 'An upload with this link is in progress; wait for it to finish.', extensions: { code: 'CONFLICT', reason: 'TICKET_IN_USE' } });
    first.end('c@example.com\n');
    const result = await answered;
    expect(result.status).toBe(200);
    expect(JSON.parse(result.body)).toMatchObject({ rows: 1001 });
  });

  it('answers 503 when the owning service is down, and the link can be used again later', async () => {
    const issued = tickets.issueUpload({ tenantId: tenantIds.acme, service: 'enrichment', purpose: 'stage', resourceId: 'r' });
    const answer = await put(issued, Buffer.from('a\n1\n'));
    expect(answer.status).toBe(503);
    expect(answer.json.errors?.[0]).toEqual({
      message: 'The enrichment service is unavailable right now; try the upload again shortly with the same link.',
      extensions: { code: 'UPSTREAM_UNAVAILABLE', reason: 'SERVICE_UNAVAILABLE', service: 'enrichment' },
    });
    expect(reasonOf(await put(issued, Buffer.from('a\n1\n')))).toBe('SERVICE_UNAVAILABLE');
  });
});

describe('refusals', () => {
  it('refuses a request without a valid API key, as /graphql does', async () => {
    const answer = await put(issueUpload('stage'), Buffer.from('a\n1\n'), { key: 'gtm_nope' });
    expect(answer.status).toBe(401);
    expect(answer.json.errors?.[0]?.extensions['code']).toBe('UNAUTHENTICATED');
  });

  it('refuses a file declared larger than FILE_MAX_BYTES before reading it (413)', async () => {
    const status = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const client = httpRequest(fileUrl(origin, issueUpload('stage')), { method: 'PUT', headers: { authorization: `Bearer ${keys.acme}`, 'content-type': 'text/csv', 'content-length': String(fileMaxBytes + 1) } }, (response) => {
        let body = '';
        response.on('data', (chunk: Buffer) => (body += chunk.toString()));
        response.on('end', () => resolve({ status: response.statusCode!, body }));
      });
      client.on('error', reject);
      client.write('email\n');
    });
    expect(status.status).toBe(413);
    expect(JSON.parse(status.body)).toEqual({
      errors: [
        {
          message: 'The file is larger than the 300 MiB an upload may be. Split it into smaller files.',
          extensions: { code: 'BAD_USER_INPUT', reason: 'FILE_TOO_LARGE', maximumBytes: fileMaxBytes },
        },
      ],
    });
  });

  it('stops a streamed file at the limit (413), and the service keeps nothing', async () => {
    // Past the buffers on the way (a MiB each), so the service has started on the file when it is cut.
    const issued = issueUpload('stage', { maxBytes: 8 * 1024 * 1024 });
    const csv = generatedCsv(20 * 1024 * 1024);
    const answer = await put(issued, csv.stream);
    expect(answer.status).toBe(413);
    expect(reasonOf(answer)).toBe('FILE_TOO_LARGE');
    expect(answer.json.errors?.[0]?.message).toMatch(/^The file is larger than the 8 MiB an upload may be \(more than [\d,]+ bytes arrived\)/);
    for (let attempt = 0; attempt < 100 && !service.events.some((event) => event.resourceId === issued.claims.resourceId); attempt += 1) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(service.events.find((event) => event.resourceId === issued.claims.resourceId)).toMatchObject({ kind: 'rolled-back' });
    expect(await service.stagedRows(issued.claims.resourceId)).toBe(0);
  });

  it('refuses a content type the link was not issued for (415)', async () => {
    const answer = await put(issueUpload('stage'), Buffer.from('{}'), { contentType: 'application/json' });
    expect(answer.status).toBe(415);
    expect(answer.json.errors?.[0]).toEqual({
      message: 'Send this file with Content-Type text/csv (accepted: text/csv, application/csv, text/plain, application/vnd.ms-excel), not application/json.',
      extensions: { code: 'BAD_USER_INPUT', reason: 'UNSUPPORTED_MEDIA_TYPE', acceptedContentTypes: ['text/csv', 'application/csv', 'text/plain', 'application/vnd.ms-excel'] },
    });
  });

  it('refuses an expired link (410)', async () => {
    const issuedLongAgo = createFileTickets({ secretsKey: setup.environment['SECRETS_KEY']!, now: () => Date.now() - 3_600_000 }).issueUpload({ tenantId: tenantIds.acme, service: 'crm', purpose: 'stage', resourceId: 'old' });
    const answer = await put(issuedLongAgo, Buffer.from('a\n1\n'));
    expect(answer.status).toBe(410);
    expect(reasonOf(answer)).toBe('TICKET_EXPIRED');
    expect(answer.json.errors?.[0]?.message).toMatch(/^This file link expired at .*; request a new one from the API\.$/);
  });

  it('refuses a link used once already (403)', async () => {
    const issued = issueUpload('count-rows');
    expect((await put(issued, Buffer.from('a\n1\n'))).status).toBe(200);
    const again = await put(issued, Buffer.from('a\n2\n'));
    expect(again.status).toBe(403);
    expect(again.json.errors?.[0]).toEqual({ message: 'This upload link was already used: a file arrived with it. Request a new one from the API.', extensions: { code: 'FORBIDDEN', reason: 'TICKET_USED' } });
  });

  it('refuses an altered link (401), also one moved to another service', async () => {
    const issued = issueUpload('stage');
    const url = fileUrl(origin, issued);
    const altered = url.slice(0, -3) + (url.endsWith('AAA') ? 'BBB' : 'AAA');
    const answer = await put(altered, Buffer.from('a\n1\n'));
    expect(answer.status).toBe(401);
    expect(reasonOf(answer)).toBe('TICKET_ALTERED');
    const moved = await put(url.replace('/files/crm/', '/files/enrichment/'), Buffer.from('a\n1\n'));
    expect(moved.status).toBe(401);
    expect(reasonOf(moved)).toBe('TICKET_ALTERED');
    expect((await put(`${origin}/files/crm/not-a-ticket`, Buffer.from('a\n'))).status).toBe(401);
  });

  it("refuses another tenant's link (403), even an expired one", async () => {
    const answer = await put(issueUpload('stage', { tenant: 'acme' }), Buffer.from('a\n1\n'), { key: keys.globex });
    expect(answer.status).toBe(403);
    expect(reasonOf(answer)).toBe('TICKET_OTHER_TENANT');
    const expired = createFileTickets({ secretsKey: setup.environment['SECRETS_KEY']!, now: () => Date.now() - 3_600_000 }).issueUpload({ tenantId: tenantIds.acme, service: 'crm', purpose: 'stage', resourceId: 'old' });
    expect(reasonOf(await put(expired, Buffer.from('a\n1\n'), { key: keys.globex }))).toBe('TICKET_OTHER_TENANT');
  });

  it('refuses a download link used for an upload and the other way round (403)', async () => {
    const download = tickets.issueDownload({ tenantId: tenantIds.acme, service: 'crm', purpose: 'generated', resourceId: '10' });
    const answer = await put(download, Buffer.from('a\n1\n'));
    expect(answer.status).toBe(403);
    expect(reasonOf(answer)).toBe('TICKET_WRONG_METHOD');
    const response = await request(fileUrl(origin, issueUpload('stage')), { headers: { authorization: `Bearer ${keys.acme}` } });
    expect(response.statusCode).toBe(403);
    expect(((await response.body.json()) as Answer['json']).errors?.[0]?.extensions['reason']).toBe('TICKET_WRONG_METHOD');
  });
});
