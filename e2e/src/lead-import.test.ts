// A lead import through the gateway, as a client makes it: importLeads, the file PUT to the
// upload link with the API key, progress read with jobProgress, the list exported with its
// download link — the file streamed gateway → crm-service → COPY, and back out as CSV.
import { readFile } from 'node:fs/promises';
import { request } from 'node:http';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { startStack, type Stack } from './stack.js';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
});

afterAll(() => stack?.close());

async function waitForImport(id: string): Promise<Record<string, any>> {
  for (let attempt = 0; attempt < 1_200; attempt += 1) {
    const result = await stack.gql(`query ($id: ID!) { leadImport(id: $id) { status total imported merged rejected leadsUpdated uploadUrl list { id name leadCount downloadUrl } } }`, { id });
    const found = result.data!['leadImport'];
    if (['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(found.status)) return found;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`import ${id} did not end`);
}

it('imports the trade-show file through the gateway and exports the list back', async () => {
  const file = await readFile(new URL('../../fixtures/leads/companies-200.csv', import.meta.url));
  const started = await stack.gql(`mutation { importLeads(input: { fileName: "companies-200.csv", listName: "Trade show", country: "US" }) { id status uploadUrl } }`);
  expect(started.errors).toBeUndefined();
  const { id, uploadUrl } = started.data!['importLeads'];
  expect(uploadUrl).toMatch(new RegExp(`^${stack.gatewayUrl.replace(/\/graphql$/, '')}/files/crm/`));

  const waiting = await stack.gql(`query ($jobId: ID!) { jobProgress(jobId: $jobId) { kind status message } }`, { jobId: id });
  expect(waiting.data!['jobProgress']).toEqual({ kind: 'lead-import', status: 'QUEUED', message: 'Waiting for the file.' });

  const anonymous = await fetch(uploadUrl, { method: 'PUT', headers: { 'content-type': 'text/csv' }, body: new Uint8Array(file) });
  expect(anonymous.status).toBe(401);
  const uploaded = await fetch(uploadUrl, { method: 'PUT', headers: { authorization: `Bearer ${stack.apiKey}`, 'content-type': 'text/csv' }, body: new Uint8Array(file) });
  expect(uploaded.status).toBe(200);
  expect(await uploaded.json()).toMatchObject({ bytes: file.length, rows: 200, rejectedRows: 0 });

  const done = await waitForImport(id);
  expect(done).toMatchObject({ status: 'SUCCEEDED', total: 200, imported: 197, merged: 3, rejected: 0, uploadUrl: null, list: { name: 'Trade show', leadCount: 197 } });
  const progress = await stack.gql(`query ($jobId: ID!) { jobProgress(jobId: $jobId) { status total completed failed message } }`, { jobId: id });
  expect(progress.data!['jobProgress']).toMatchObject({ status: 'SUCCEEDED', total: 200, completed: 200, failed: 0 });
  expect(progress.data!['jobProgress'].message).toMatch(/197 new leads, 3 merged, 0 rejected/);

  const exported = await fetch(done['list'].downloadUrl, { headers: { authorization: `Bearer ${stack.apiKey}` } });
  expect(exported.status).toBe(200);
  expect(exported.headers.get('content-type')).toMatch(/^text\/csv/);
  const text = (await exported.text()).replace(/^\uFEFF/, '');
  const lines = text.trimEnd().split('\r\n');
  expect(lines[0]).toBe('company_name,company_website,company_size,industry,contact_name,contact_email,contact_phone,contact_title,notes,Lead ID,First name,Last name,Email,Phone,Title,Company,Company domain,Status');
  // One line per lead (a few cells hold quoted line breaks, so count records by their lead id).
  expect(text.match(/,[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12},/g)).toHaveLength(197);
  expect(lines[1]).toContain('A & A GENPRO INC.,https://www.aagenpro.com/');
  expect(lines[1]).toContain('+17138303280');

  const again = await fetch(uploadUrl, { method: 'PUT', headers: { authorization: `Bearer ${stack.apiKey}`, 'content-type': 'text/csv' }, body: new Uint8Array(file) });
  expect(again.status).toBe(403);
});

it('refuses a declared 3 GB file at once (413) and leaves the import waiting for the real one', async () => {
  const started = await stack.gql(`mutation { importLeads(input: { fileName: "everything.csv" }) { id uploadUrl } }`);
  const { id, uploadUrl } = started.data!['importLeads'];
  const refused = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    const upload = request(uploadUrl, { method: 'PUT', headers: { authorization: `Bearer ${stack.apiKey}`, 'content-type': 'text/csv', 'content-length': String(3 * 1024 ** 3) } }, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => resolve({ status: response.statusCode!, body }));
    });
    upload.on('error', reject);
    upload.write('Email,Company\n');
  });
  expect(refused.status).toBe(413);
  expect(JSON.parse(refused.body).errors[0]).toMatchObject({ message: expect.stringMatching(/^The file is larger than the .* an upload may be\. Split it into smaller files\.$/), extensions: { code: 'BAD_USER_INPUT', reason: 'FILE_TOO_LARGE' } });

  const waiting = await stack.gql(`query ($id: ID!) { leadImport(id: $id) { status total uploadUrl } }`, { id });
  expect(waiting.data!['leadImport']).toMatchObject({ status: 'QUEUED', total: 0 });
  const retried = await fetch(waiting.data!['leadImport'].uploadUrl, { method: 'PUT', headers: { authorization: `Bearer ${stack.apiKey}`, 'content-type': 'text/csv' }, body: 'Email,Company\nsplit@example.com,Split\n' });
  expect(retried.status).toBe(200);
  expect(await waitForImport(id)).toMatchObject({ status: 'SUCCEEDED', total: 1, imported: 1 });
});
