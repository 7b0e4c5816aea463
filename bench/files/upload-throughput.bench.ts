// Upload throughput through the gateway (`PUT /files/crm/<ticket>`: API key, ticket checks, the
// Redis single-use claim, a byte counter, the stream forwarded to the service with a caller token)
// against the same bytes PUT straight to the service's own `/files/<ticket>` (caller token made
// by the benchmark). Both end at the same handler of the same service. The client (this thread),
// the gateway and the service each run on their own thread, as they run in their own processes
// when deployed; the two variants alternate round by round so both see the same machine noise.
// Three uploads: `drain` (the test service counts the bytes: the transport alone), `count-rows`
// (the test service parses the CSV) and `lead-import` (the real crm-service, its own gateway in
// front, with a lead import's ticket: CSV reader → normaliser → COPY into staging, committed
// before the answer; the import's merge job runs between uploads, untimed).
//
//   npm run bench:files                                  (builds first; needs PostgreSQL and Redis)
//   BENCH_ROUNDS=9 BENCH_MEGABYTES=200 BENCH_IMPORT_MEGABYTES=10 BENCH_UPLOADS=drain,count-rows,lead-import npm run bench:files
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { Readable } from 'node:stream';
import { Worker } from 'node:worker_threads';
import { callerTokenHeader } from '@gtm/caller';
import { createFileTickets } from '@gtm/files';
import { openApiKeyRegistry } from '@gtm/gateway/api-key-registry';
import { createLogger } from '@gtm/runtime';
import { createSubgraphClient, createSubgraphTestSetup, uniqueRedisPrefix } from '@gtm/testing';
import pg from 'pg';
import { Agent, request } from 'undici';

const rounds = Number(process.env['BENCH_ROUNDS'] ?? 7);
const megabytes = Number(process.env['BENCH_MEGABYTES'] ?? 100);
const parseMegabytes = Number(process.env['BENCH_PARSE_MEGABYTES'] ?? 10);
const importMegabytes = Number(process.env['BENCH_IMPORT_MEGABYTES'] ?? 10);
const uploads = (process.env['BENCH_UPLOADS'] ?? 'drain,count-rows,lead-import').split(',');

const setup = await createSubgraphTestSetup();
const silent = createLogger({ service: 'bench', level: 'silent' });
const secretsKey = setup.environment['SECRETS_KEY']!;
const tickets = createFileTickets({ secretsKey });
const registry = await openApiKeyRegistry({ databaseUrl: setup.environment['DATABASE_URL']!, logger: silent, poolMax: 1 });
const { key } = await registry.apiKeys.createKey({ tenant: 'bench', tier: 'enterprise', scopes: ['read', 'write'] });
const tenantId = (await registry.database.orm.em.getConnection().execute<Array<{ id: string }>>(`select id from gateway.tenant where slug = 'bench'`))[0]!.id;
await registry.close();

async function startWorker(file: string, data: unknown): Promise<{ worker: Worker; url: string }> {
  const worker = new Worker(new URL(file, import.meta.url), { workerData: data });
  const [message] = (await once(worker, 'message')) as [{ url: string }];
  return { worker, url: message.url };
}

const gatewayEnvironment = (serviceUrl: string) => ({
  NODE_ENV: 'production',
  GATEWAY_PORT: '0',
  DATABASE_URL: setup.environment['DATABASE_URL'],
  REDIS_URL: setup.environment['REDIS_URL'],
  REDIS_KEY_PREFIX: uniqueRedisPrefix(),
  LOG_LEVEL: 'silent',
  CALLER_TOKEN_PRIVATE_KEY: setup.callerKeys.keys.privateKeyPem,
  SECRETS_KEY: secretsKey,
  CRM_SERVICE_URL: serviceUrl,
  RATE_LIMIT_ENTERPRISE_PER_MINUTE: '1000000000',
  RATE_LIMIT_ENTERPRISE_PER_DAY: '1000000000',
});
const service = await startWorker('./file-service.worker.ts', { secretsKey, publicKeyPem: setup.callerKeys.keys.publicKeyPem });
const gateway = await startWorker('./gateway.worker.ts', gatewayEnvironment(service.url));
// The real crm-service and a gateway of its own in front of it, for the lead import uploads.
const crm = uploads.includes('lead-import')
  ? await startWorker('./crm-service.worker.ts', { ...setup.environment, LOG_LEVEL: 'silent', JOB_WORKER_CONCURRENCY: '1', DATABASE_POOL_MAX: '6' })
  : null;
const crmGateway = crm ? await startWorker('./gateway.worker.ts', gatewayEnvironment(crm.url)) : null;
const callCrm = crm ? createSubgraphClient(crm.url, setup.callerKeys.signer) : null;
/** The caller of every upload: the tenant of the gateway's API key. */
const callerOfTenant = () => ({ tenantId, tenantSlug: 'bench', keyId: null, tier: 'enterprise' as const, scopes: ['read' as const, 'write' as const], requestId: randomBytes(8).toString('hex') });
const agent = new Agent({ keepAliveTimeout: 30_000, connections: 1 });

// One MiB of CSV rows, sent again and again: making the bytes costs the same in both variants
// and next to nothing, so the difference is the path.
let rowNumber = 0;
let block = 'email,first_name,last_name,company,website\n';
while (block.length < 1024 * 1024) {
  rowNumber += 1;
  block += `person${rowNumber}@company${rowNumber % 9973}.example,Ada ${rowNumber},Lovelace,"Engines ${rowNumber}, Ltd",https://company${rowNumber % 9973}.example\n`;
}
const lastNewline = block.lastIndexOf('\n', 1024 * 1024 - 1);
const header = Buffer.from('email,first_name,last_name,company,website\n');
const rowsBlock = Buffer.from(block.slice(header.length, lastNewline + 1));

function body(totalMegabytes: number): Readable {
  return Readable.from(
    (function* () {
      yield header;
      for (let index = 0; index < totalMegabytes; index += 1) yield rowsBlock;
    })(),
    { objectMode: false },
  );
}
const bytesOf = (totalMegabytes: number) => header.length + rowsBlock.length * totalMegabytes;

type Variant = 'direct' | 'gateway';

/** An upload of the benchmark: where it goes and what ticket it takes. */
interface Upload {
  label: string;
  size: number;
  count: number;
  gateway: { worker: Worker; url: string };
  service: { worker: Worker; url: string };
  /** A fresh ticket for one upload (untimed), and what to do once it is answered (untimed). */
  issue(): Promise<{ ticket: string; after?: () => Promise<void> }>;
  /** Whether the answer is the whole upload received. */
  accepted(answer: Record<string, unknown>, size: number): boolean;
}

/** One upload, timed from the request to the answer; `after` is the upload's untimed epilogue, for the caller to run outside its CPU measurement. */
async function upload(variant: Variant, target: Upload, totalMegabytes: number): Promise<{ mebibytesPerSecond: number; after: () => Promise<void> }> {
  const { ticket, after } = await target.issue();
  const url = `${new URL(variant === 'gateway' ? target.gateway.url : target.service.url).origin}/files/${variant === 'gateway' ? 'crm/' : ''}${ticket}`;
  const startedAt = performance.now();
  // Timed on both paths: a direct caller needs the token the gateway otherwise signs, and the
  // service verifies it on both.
  const headers: Record<string, string> =
    variant === 'gateway' ? { authorization: `Bearer ${key}`, 'content-type': 'text/csv' } : { [callerTokenHeader]: await setup.callerKeys.signer.sign(callerOfTenant()), 'content-type': 'text/csv' };
  const response = await request(url, { method: 'PUT', dispatcher: agent, headers, body: body(totalMegabytes) });
  const answer = (await response.body.json()) as Record<string, unknown>;
  const seconds = (performance.now() - startedAt) / 1000;
  if (response.statusCode !== 200 || !target.accepted(answer, totalMegabytes)) throw new Error(`unexpected answer ${response.statusCode}: ${JSON.stringify(answer).slice(0, 200)}`);
  return { mebibytesPerSecond: bytesOf(totalMegabytes) / 1024 / 1024 / seconds, after: after ?? (async () => undefined) };
}

const testServiceUpload = (label: string, purpose: string, size: number, count: number): Upload => ({
  label,
  size,
  count,
  gateway,
  service,
  issue: async () => ({ ticket: tickets.issueUpload({ tenantId, service: 'crm', purpose, resourceId: randomBytes(6).toString('hex') }).ticket }),
  accepted: (answer, totalMegabytes) => answer['bytes'] === bytesOf(totalMegabytes),
});

const database = new pg.Pool({ connectionString: setup.environment['DATABASE_URL'], max: 1 });
/** Until the lead.created events of a merge are relayed and handled by crm-service's own consumer (its lead push), which would otherwise run during the next upload. */
async function eventsSettled(): Promise<void> {
  for (let tries = 0; tries < 6_000; tries += 1) {
    const { rows } = await database.query<{ waiting: string }>(
      `select (select count(*) from crm.event_outbox) + (select count(*) from gtm_events.delivery where parked_at is null) as waiting`,
    );
    if (Number(rows[0]!.waiting) === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('the import’s events were not handled within 10 minutes');
}

/** A lead import started by its mutation (as a client does), its ticket used for the upload; its merge awaited after. */
async function startImport(): Promise<{ ticket: string; after: () => Promise<void> }> {
  const caller = callerOfTenant();
  const started = await callCrm!(caller, `mutation { importLeads(input: { fileName: "leads.csv" }) { id uploadUrl } }`);
  if (started.errors) throw new Error(JSON.stringify(started.errors));
  const { id, uploadUrl } = started.data!['importLeads'] as { id: string; uploadUrl: string };
  return {
    ticket: uploadUrl.split('/').at(-1)!,
    // The merge runs on the service's job worker: awaited, so it does not run during the next upload.
    after: async () => {
      for (let tries = 0; tries < 6_000; tries += 1) {
        const read = await callCrm!(caller, `query ($id: ID!) { leadImport(id: $id) { status } }`, { id });
        const status = (read.data?.['leadImport'] as { status?: string } | undefined)?.status;
        if (status === 'SUCCEEDED') return await eventsSettled();
        if (status === 'FAILED' || status === 'CANCELLED') throw new Error(`the import ended ${status}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      throw new Error('the import did not end within 10 minutes');
    },
  };
}

async function threadCpuMicroseconds(worker: Worker): Promise<number> {
  // A worker's postMessage takes a transfer list, not a target origin.
  worker.postMessage('cpu', []);
  const [message] = (await once(worker, 'message')) as [{ cpuMicroseconds: number }];
  return message.cpuMicroseconds;
}

type Stage = 'client' | 'gateway' | 'service';

/** CPU time so far of each thread: this one (the client), the gateway's and the service's. */
async function cpuMicroseconds(target: Upload): Promise<Record<Stage, number>> {
  const own = process.threadCpuUsage();
  return { client: own.user + own.system, gateway: await threadCpuMicroseconds(target.gateway.worker), service: await threadCpuMicroseconds(target.service.worker) };
}

function median(values: number[]): number {
  const sorted = values.toSorted((left, right) => left - right);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

const results: string[] = [];
const targets: Upload[] = [];
if (uploads.includes('drain')) targets.push(testServiceUpload(`transport: the handler counts the bytes (${megabytes} MiB)`, 'drain', megabytes, rounds));
if (uploads.includes('count-rows')) targets.push(testServiceUpload(`with the CSV parsed by the handler (${parseMegabytes} MiB)`, 'count-rows', parseMegabytes, Math.max(3, Math.ceil(rounds / 2))));
if (crm && crmGateway) {
  targets.push({
    label: `the real lead import: crm-service's handler, CSV → normaliser → COPY (${importMegabytes} MiB)`,
    size: importMegabytes,
    count: Math.max(3, Math.ceil(rounds / 2)),
    gateway: crmGateway,
    service: crm,
    issue: startImport,
    accepted: (answer, totalMegabytes) => answer['bytes'] === bytesOf(totalMegabytes) && typeof answer['rows'] === 'number' && answer['rows'] > 0,
  });
}
for (const target of targets) {
  const { label, size, count } = target;
  await (await upload('gateway', target, Math.min(size, 10))).after();
  await (await upload('direct', target, Math.min(size, 10))).after();
  const samples: Record<Variant, number[]> = { direct: [], gateway: [] };
  const ratios: number[] = [];
  // CPU ms per MiB of each thread, per variant: what each hop costs, whatever the machine's load.
  const cpuPerMebibyte: Record<Variant, Record<Stage, number[]>> = {
    direct: { client: [], gateway: [], service: [] },
    gateway: { client: [], gateway: [], service: [] },
  };
  for (let round = 0; round < count; round += 1) {
    const order: Variant[] = round % 2 === 0 ? ['direct', 'gateway'] : ['gateway', 'direct'];
    const measured: Partial<Record<Variant, number>> = {};
    for (const variant of order) {
      const cpuBefore = await cpuMicroseconds(target);
      const uploaded = await upload(variant, target, size);
      const cpuAfter = await cpuMicroseconds(target);
      await uploaded.after();
      measured[variant] = uploaded.mebibytesPerSecond;
      for (const stage of ['client', 'gateway', 'service'] as const) cpuPerMebibyte[variant][stage].push((cpuAfter[stage] - cpuBefore[stage]) / 1000 / (bytesOf(size) / 1024 / 1024));
    }
    samples.direct.push(measured.direct!);
    samples.gateway.push(measured.gateway!);
    ratios.push(measured.gateway! / measured.direct!);
  }
  results.push(
    `| ${label} | ${count} | ${median(samples.direct).toFixed(1)} | ${median(samples.gateway).toFixed(1)} | ${(median(samples.gateway) / median(samples.direct)).toFixed(2)} | ${median(ratios).toFixed(2)} | ${Math.min(...ratios).toFixed(2)} | ${(['client', 'gateway', 'service'] as const).map((stage) => median(cpuPerMebibyte.direct[stage]).toFixed(2)).join(' / ')} | ${(['client', 'gateway', 'service'] as const).map((stage) => median(cpuPerMebibyte.gateway[stage]).toFixed(2)).join(' / ')} |`,
  );
}

process.stdout.write(`Node ${process.version}, one keep-alive connection, variants alternating round by round\n\n`);
process.stdout.write(
  '| upload | rounds | direct to the service, median MiB/s | through the gateway, median MiB/s | ratio of medians | median of per-round ratios | worst round ratio | CPU ms per MiB direct: client / gateway / service | CPU ms per MiB through the gateway: client / gateway / service |\n',
);
process.stdout.write('|---|---:|---:|---:|---:|---:|---:|---:|---:|\n');
process.stdout.write(`${results.join('\n')}\n`);

await agent.close();
await database.end();
for (const { worker } of [gateway, service, ...(crmGateway ? [crmGateway] : []), ...(crm ? [crm] : [])]) {
  worker.postMessage('close', []);
  await once(worker, 'exit');
}
await setup.dispose();
