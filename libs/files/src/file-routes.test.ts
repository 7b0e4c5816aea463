import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { callerTokenHeader } from '@gtm/caller';
import { createLogger } from '@gtm/runtime';
import { createTestCaller, createTestCallerKeys, createTestDatabase, type TestCallerKeys, type TestDatabase } from '@gtm/testing';
import { createFileTickets, type FileTickets } from './file-ticket.js';
import { startFileTestService, type FileTestService } from './testing/file-test-service.js';

const florida = new URL('../../../fixtures/leads/florida-dealers-10k.csv', import.meta.url);

let database: TestDatabase;
let keys: TestCallerKeys;
let tickets: FileTickets;
let service: FileTestService;
let origin: string;
const caller = createTestCaller();

beforeAll(async () => {
  database = await createTestDatabase();
  keys = await createTestCallerKeys();
  tickets = createFileTickets({ secretsKey: randomBytes(32).toString('base64') });
  service = await startFileTestService({ service: 'crm', tickets, verifier: keys.verifier, logger: createLogger({ service: 'files-test', level: 'silent' }), databaseUrl: database.url });
  origin = new URL(service.url).origin;
});

afterAll(async () => {
  await service?.close();
  await database?.drop();
});

async function send(ticket: string, init: { method?: string; body?: Buffer | string; contentType?: string; as?: typeof caller; headers?: Record<string, string> } = {}) {
  const token = await keys.signer.sign(init.as ?? caller);
  return fetch(`${origin}/files/${ticket}`, {
    method: init.method ?? 'PUT',
    headers: { [callerTokenHeader]: token, 'content-type': init.contentType ?? 'text/csv', ...init.headers },
    ...(init.body !== undefined ? { body: typeof init.body === 'string' ? init.body : new Uint8Array(init.body) } : {}),
  });
}

const upload = (purpose: string, resourceId = randomBytes(4).toString('hex'), extra = {}) => tickets.issueUpload({ tenantId: caller.tenantId, service: 'crm', purpose, resourceId, ...extra });
const download = (purpose: string, resourceId: string) => tickets.issueDownload({ tenantId: caller.tenantId, service: 'crm', purpose, resourceId });

describe('file routes of a service', () => {
  it('stages a real 10,000-row list in PostgreSQL and answers what it received', async () => {
    const bytes = await readFile(florida);
    const issued = upload('stage');
    const response = await send(issued.ticket, { body: bytes });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { bytes: number; rows: number; mapping: Array<{ column: string; field: string }> };
    expect(body).toMatchObject({ bytes: bytes.length, rows: 10_246, rejectedRows: 0, encoding: 'utf-8' });
    expect(body.mapping).toContainEqual({ column: 'DEALER NAME', field: 'companyName' });
    expect(await service.stagedRows(issued.claims.resourceId)).toBe(10_246);

    // And back out as a download, gzip-compressed when the client accepts it.
    const compressed = await send(download('staged-rows', issued.claims.resourceId).ticket, { method: 'GET', headers: { 'accept-encoding': 'gzip' } });
    expect(compressed.status).toBe(200);
    expect(compressed.headers.get('content-encoding')).toBe('gzip');
    expect(compressed.headers.get('content-disposition')).toBe(`attachment; filename="${issued.claims.resourceId}.csv"; filename*=UTF-8''${issued.claims.resourceId}.csv`);
    // fetch decompresses by itself: the lines are the rows.
    const text = await compressed.text();
    expect(text.trimEnd().split('\r\n')).toHaveLength(10_247);
    expect(text).toContain('BROADWAY AUTO BROKERS INC');
  });

  it('sends a download uncompressed to a client that does not accept gzip, with formulas escaped', async () => {
    const response = await new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }>((resolve, reject) => {
      void keys.signer.sign(caller).then((token) => {
        const request = httpRequest(`${origin}/files/${download('generated', '25').ticket}`, { headers: { [callerTokenHeader]: token } }, (incoming) => {
          const chunks: Buffer[] = [];
          incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
          incoming.on('end', () => resolve({ status: incoming.statusCode!, headers: incoming.headers, body: Buffer.concat(chunks) }));
        });
        request.on('error', reject);
        request.end();
      });
    });
    expect(response.status).toBe(200);
    expect(response.headers['content-encoding']).toBeUndefined();
    expect(response.headers['transfer-encoding']).toBe('chunked');
    expect(response.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(response.headers['content-disposition']).toBe(`attachment; filename="generated 25 _ leads.csv"; filename*=UTF-8''generated%2025%20_%20leads.csv`);
    const text = response.body.toString('utf8');
    expect(text.split('\r\n')[10]).toBe(`Company 10,https://company-10.example,'=1+1`);
  });

  it('refuses a request the gateway did not sign', async () => {
    const response = await fetch(`${origin}/files/${upload('stage').ticket}`, { method: 'PUT', headers: { 'content-type': 'text/csv' }, body: 'a\n1\n' });
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ errors: [{ extensions: { code: 'UNAUTHENTICATED', reason: 'UNAUTHENTICATED' } }] });
  });

  it('refuses another tenant, the wrong method and a purpose it has no handler for', async () => {
    const other = await send(upload('stage').ticket, { body: 'a\n1\n', as: createTestCaller() });
    expect(other.status).toBe(403);
    expect(await other.json()).toMatchObject({ errors: [{ extensions: { code: 'FORBIDDEN', reason: 'TICKET_OTHER_TENANT' } }] });
    const wrongMethod = await send(upload('stage').ticket, { method: 'GET' });
    expect(wrongMethod.status).toBe(403);
    expect(await wrongMethod.json()).toMatchObject({ errors: [{ message: 'This is an upload link: send the file with PUT.' }] });
    const noHandler = await send(upload('avatar').ticket, { body: 'x' });
    expect(noHandler.status).toBe(404);
    expect(await noHandler.json()).toMatchObject({ errors: [{ extensions: { reason: 'NO_HANDLER' } }] });
  });

  it('answers a file the handler cannot read as CSV with 422 and the reason', async () => {
    const response = await send(upload('count-rows').ticket, { body: Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0x00, 0x06, 0x00]) });
    expect(response.status).toBe(422);
    expect(await response.json()).toEqual({
      errors: [
        {
          message: 'The file is a ZIP archive (an Excel .xlsx workbook is one), not CSV text. Save or export it as CSV (comma-separated values) and upload that.',
          extensions: { code: 'BAD_USER_INPUT', reason: 'FILE_REJECTED', csvCode: 'CSV_BINARY' },
        },
      ],
    });
  });

  it('stops a file over its ticket\'s limit, declared or streamed, with 413', async () => {
    const declared = await send(upload('stage', undefined, { maxBytes: 1000 }).ticket, { body: 'a\n' + '1\n'.repeat(1000) });
    expect(declared.status).toBe(413);
    expect(await declared.json()).toMatchObject({ errors: [{ extensions: { code: 'BAD_USER_INPUT', reason: 'FILE_TOO_LARGE', maximumBytes: 1000 } }] });

    const issued = upload('stage', undefined, { maxBytes: 100_000 });
    const token = await keys.signer.sign(caller);
    const status = await new Promise<number>((resolve, reject) => {
      const request = httpRequest(`${origin}/files/${issued.ticket}`, { method: 'PUT', headers: { [callerTokenHeader]: token, 'content-type': 'text/csv', 'transfer-encoding': 'chunked' } }, (incoming) => {
        incoming.resume();
        resolve(incoming.statusCode!);
      });
      request.on('error', reject);
      request.write('a\n');
      for (let index = 0; index < 100; index += 1) request.write('1234567890\n'.repeat(100));
      request.end();
    });
    expect(status).toBe(413);
    expect(await service.stagedRows(issued.claims.resourceId)).toBe(0);
  });

  it('rolls the staging back when the client disconnects mid-upload', async () => {
    const issued = upload('stage');
    const token = await keys.signer.sign(caller);
    const request = httpRequest(`${origin}/files/${issued.ticket}`, { method: 'PUT', headers: { [callerTokenHeader]: token, 'content-type': 'text/csv', 'transfer-encoding': 'chunked' } });
    request.on('error', () => {});
    request.write('email,name\n');
    for (let index = 0; index < 2_000; index += 1) request.write(`person${index}@example.com,Person ${index}\n`.repeat(50));
    await new Promise((resolve) => setTimeout(resolve, 500));
    request.destroy();
    for (let attempt = 0; attempt < 100 && !service.events.some((event) => event.resourceId === issued.claims.resourceId); attempt += 1) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(service.events.filter((event) => event.resourceId === issued.claims.resourceId)).toEqual([{ kind: 'rolled-back', resourceId: issued.claims.resourceId, detail: expect.stringMatching(/aborted|premature|ECONNRESET/i) }]);
    expect(await service.stagedRows(issued.claims.resourceId)).toBe(0);
  });
});
