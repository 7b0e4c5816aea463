// A job over a crm-service lead list reads the list itself, a page at a time, with the caller's
// delegated token: the mutation answers at once, and a worker killed outright while it reads the
// list leaves a job that a new worker finishes with every lead of the list once, in the list's
// order. The list is real (imported into crm-service through the gateway); the worker runs in a
// process of its own (the stack's enrichment-service runs no worker), reaching crm-service through
// a gate that lets two pages of leads through and holds the third until the process is gone.
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { startTypeScriptService } from '@gtm/testing';
import pg from 'pg';
import { request } from 'undici';
import { startStack, type Stack } from './stack.js';

const listSize = 350;
let stack: Stack;
let client: pg.Client;
let gate: CrmGate;
const children: ChildProcess[] = [];

/** A pass-through to crm-service that answers the first `open` lead pages and holds the rest until `release`. */
interface CrmGate {
  url: string;
  pagesAsked: number;
  open: number;
  release(): void;
  close(): Promise<void>;
}

async function startCrmGate(target: string, open: number): Promise<CrmGate> {
  const held: Array<() => void> = [];
  const state: CrmGate = {
    url: '',
    pagesAsked: 0,
    open,
    release() {
      state.open = Number.POSITIVE_INFINITY;
      for (const resolve of held.splice(0)) resolve();
    },
    async close() {
      state.release();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
  const forward = async (incoming: IncomingMessage, outgoing: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of incoming) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    if (body.includes('LeadListLeads')) {
      state.pagesAsked += 1;
      if (state.pagesAsked > state.open) await new Promise<void>((resolve) => held.push(resolve));
    }
    if (outgoing.destroyed) return;
    const headers = Object.fromEntries(Object.entries(incoming.headers).filter(([name]) => !['host', 'connection', 'content-length'].includes(name))) as Record<string, string>;
    const answer = await request(target, { method: 'POST', headers, body });
    outgoing.writeHead(answer.statusCode, { 'content-type': String(answer.headers['content-type'] ?? 'application/json') });
    outgoing.end(Buffer.from(await answer.body.arrayBuffer()));
  };
  const server: Server = createServer((incoming, outgoing) => {
    forward(incoming, outgoing).catch(() => outgoing.destroy());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  return state;
}

beforeAll(async () => {
  // The stack's enrichment-service answers the API but runs no job: the worker is the test's process.
  stack = await startStack({ subgraphEnvironment: { enrichment: { JOB_WORKER_CONCURRENCY: '0', LLM_PROVIDERS: 'offline' } } });
  client = new pg.Client({ connectionString: stack.setup.environment['DATABASE_URL'] });
  await client.connect();
  gate = await startCrmGate(stack.subgraphUrls.crm, 2);
}, 120_000);

afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await client?.end();
  await gate?.close();
  await stack?.close();
});

/** An enrichment worker in a process of its own, on the stack's database and Redis, reaching crm-service through the gate. */
async function startWorkerProcess(): Promise<ChildProcess> {
  const { child } = await startTypeScriptService(new URL('../../apps/enrichment-service/src/enrichment-job/testing/enrichment-process.ts', import.meta.url), {
    ...process.env,
    ...stack.setup.environment,
    REDIS_KEY_PREFIX: stack.redisKeyPrefix,
    CRM_SERVICE_URL: gate.url,
    CONTENT_SERVICE_URL: stack.subgraphUrls.content,
    CAMPAIGN_SERVICE_URL: stack.subgraphUrls.campaign,
    LLM_PROVIDERS: 'offline',
    ENRICHMENT_RECORD_CONCURRENCY: '4',
    JOB_WORKER_CONCURRENCY: '1',
    LOG_LEVEL: 'warn',
  });
  children.push(child);
  return child;
}

async function eventually(check: () => Promise<boolean>, timeoutMs = 120_000): Promise<void> {
  for (const started = Date.now(); !(await check()); ) {
    if (Date.now() - started > timeoutMs) throw new Error('the condition did not hold in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function jobRow(jobId: string): Promise<{ status: string; total: number; completed: number; failed: number; message: string | null; leads_read: number; records: number }> {
  const { rows } = await client.query(
    `select j.status, j.total, j.completed, j.failed, j.message, e.leads_read, (select count(*)::int from enrichment.enrichment_record r where r.job_id = j.id) as records
       from enrichment.job j join enrichment.enrichment_job e on e.id = j.id where j.id = $1`,
    [jobId],
  );
  return rows[0];
}

async function importList(): Promise<{ listId: string; leadIds: string[] }> {
  const lines = Array.from({ length: listSize }, (_, index) => `Person ${index},person${index}@firm${index}.example,Firm ${index},firm${index}.example`);
  const started = await stack.gql(`mutation { importLeads(input: { fileName: "big.csv", listName: "Big list" }) { id uploadUrl } }`);
  expect(started.errors).toBeUndefined();
  const uploaded = await request(started.data!['importLeads'].uploadUrl, {
    method: 'PUT',
    headers: { authorization: `Bearer ${stack.apiKey}`, 'content-type': 'text/csv' },
    body: `First Name,Email,Company,Website\r\n${lines.join('\r\n')}\r\n`,
  });
  expect(uploaded.statusCode).toBe(200);
  await uploaded.body.text();
  let imported: any;
  await eventually(async () => {
    imported = (await stack.gql(`query ($id: ID!) { leadImport(id: $id) { status imported list { id } } }`, { id: started.data!['importLeads'].id })).data!['leadImport'];
    return ['SUCCEEDED', 'FAILED'].includes(imported?.status);
  }, 60_000);
  expect(imported).toMatchObject({ status: 'SUCCEEDED', imported: listSize });
  const leadIds: string[] = [];
  for (let after: string | null = null; ; ) {
    const page: any = (await stack.gql(`query ($id: ID!, $after: String) { leadList(id: $id) { leads(first: 100, after: $after) { edges { node { id } } pageInfo { hasNextPage endCursor } } } }`, { id: imported.list.id, after })).data!['leadList'].leads;
    leadIds.push(...page.edges.map((edge: { node: { id: string } }) => edge.node.id));
    if (!page.pageInfo.hasNextPage) break;
    after = page.pageInfo.endCursor;
  }
  return { listId: imported.list.id, leadIds };
}

it('answers at once, reads the list in the job, and resumes a worker killed mid-list with every lead once, in order', async () => {
  const { listId, leadIds } = await importList();
  expect(leadIds).toHaveLength(listSize);

  // No worker yet: the mutation's answer owes nothing to the job, and only checked the list.
  const created = await stack.gql(`mutation ($input: CreateEnrichmentJobInput!) { createEnrichmentJob(input: $input) { id status source total recordsRead } }`, {
    input: { name: 'big list', leadListId: listId, steps: ['QUALIFICATION'] },
  });
  expect(created.errors).toBeUndefined();
  expect(created.data!['createEnrichmentJob']).toMatchObject({ status: 'QUEUED', source: 'LEAD_LIST', total: listSize, recordsRead: 0 });
  const jobId = created.data!['createEnrichmentJob'].id as string;
  expect((await jobRow(jobId)).records).toBe(0);
  expect(gate.pagesAsked).toBe(0);

  const first = await startWorkerProcess();
  // Two pages read and stored, the third asked for and held; what was read is being enriched meanwhile.
  await eventually(async () => {
    const row = await jobRow(jobId);
    return gate.pagesAsked === 3 && row.leads_read === 200 && row.completed >= 1 && /200 of 350 leads read/.test(row.message ?? '');
  });
  const reading = await stack.gql(`query ($id: ID!) { enrichmentJob(id: $id) { status total recordsRead message } }`, { id: jobId });
  expect(reading.data!['enrichmentJob']).toMatchObject({ status: 'RUNNING', total: listSize, recordsRead: 200 });
  expect(reading.data!['enrichmentJob'].message).toMatch(/Reading the lead list: 200 of 350 leads read/);
  first.kill('SIGKILL');
  await once(first, 'exit');
  expect(await jobRow(jobId)).toMatchObject({ status: 'RUNNING', leads_read: 200, records: 200 });

  gate.release();
  await startWorkerProcess();
  await eventually(async () => (await jobRow(jobId)).status !== 'RUNNING');

  expect(await jobRow(jobId)).toMatchObject({ status: 'SUCCEEDED', total: listSize, completed: listSize, failed: 0, leads_read: listSize, records: listSize });
  const { rows: records } = await client.query('select lead_id, position, status from enrichment.enrichment_record where job_id = $1 order by position', [jobId]);
  expect(records.map((record) => record.position)).toEqual(Array.from({ length: listSize }, (_, index) => index));
  expect(records.map((record) => record.lead_id)).toEqual(leadIds);
  expect(new Set(records.map((record) => record.status))).toEqual(new Set(['ENRICHED']));
  const { rows: items } = await client.query('select count(*)::int as count, count(distinct item_key)::int as keys from enrichment.job_item where job_id = $1', [jobId]);
  expect(items[0]).toEqual({ count: listSize, keys: listSize });
  const done = await stack.gql(`query ($id: ID!) { enrichmentJob(id: $id) { status total completed recordsRead message } }`, { id: jobId });
  expect(done.data!['enrichmentJob']).toMatchObject({ status: 'SUCCEEDED', total: listSize, completed: listSize, recordsRead: listSize });
  expect(done.data!['enrichmentJob'].message).toMatch(/^Enriched 350/);
}, 240_000);
