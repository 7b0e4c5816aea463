// Upload throughput through the gateway (`PUT /files/crm/<ticket>`: API key, ticket checks, the
// Redis single-use claim, a byte counter, the stream forwarded to the service with a caller token)
// against the same bytes PUT straight to the service's own `/files/<ticket>` (caller token made
// by the benchmark). Both end at the same handler of the same service. The client (this thread),
// the gateway and the service each run on their own thread, as they run in their own processes
// when deployed; the two variants alternate round by round so both see the same machine noise.
//
//   npm run bench:files                                  (builds first; needs PostgreSQL and Redis)
//   BENCH_ROUNDS=9 BENCH_MEGABYTES=200 npm run bench:files
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { Readable } from 'node:stream';
import { Worker } from 'node:worker_threads';
import { callerTokenHeader } from '@gtm/caller';
import { createFileTickets, fileUrl } from '@gtm/files';
import { openApiKeyRegistry } from '@gtm/gateway/api-key-registry';
import { createLogger } from '@gtm/runtime';
import { createSubgraphTestSetup, uniqueRedisPrefix } from '@gtm/testing';
import { Agent, request } from 'undici';

const rounds = Number(process.env['BENCH_ROUNDS'] ?? 7);
const megabytes = Number(process.env['BENCH_MEGABYTES'] ?? 100);
const parseMegabytes = Number(process.env['BENCH_PARSE_MEGABYTES'] ?? 10);

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

const service = await startWorker('./file-service.worker.ts', { secretsKey, publicKeyPem: setup.callerKeys.keys.publicKeyPem });
const gateway = await startWorker('./gateway.worker.ts', {
  NODE_ENV: 'production',
  GATEWAY_PORT: '0',
  DATABASE_URL: setup.environment['DATABASE_URL'],
  REDIS_URL: setup.environment['REDIS_URL'],
  REDIS_KEY_PREFIX: uniqueRedisPrefix(),
  LOG_LEVEL: 'silent',
  CALLER_TOKEN_PRIVATE_KEY: setup.callerKeys.keys.privateKeyPem,
  SECRETS_KEY: secretsKey,
  CRM_SERVICE_URL: service.url,
  RATE_LIMIT_ENTERPRISE_PER_MINUTE: '1000000000',
  RATE_LIMIT_ENTERPRISE_PER_DAY: '1000000000',
});
const gatewayOrigin = new URL(gateway.url).origin;
const serviceOrigin = new URL(service.url).origin;
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

async function upload(variant: Variant, purpose: string, totalMegabytes: number): Promise<number> {
  const issued = tickets.issueUpload({ tenantId, service: 'crm', purpose, resourceId: randomBytes(6).toString('hex') });
  const caller = { tenantId, tenantSlug: 'bench', keyId: null, tier: 'enterprise' as const, scopes: ['read' as const, 'write' as const], requestId: randomBytes(8).toString('hex') };
  const url = variant === 'gateway' ? fileUrl(gatewayOrigin, issued) : `${serviceOrigin}/files/${issued.ticket}`;
  const startedAt = performance.now();
  // Timed on both paths: a direct caller needs the token the gateway otherwise signs, and the
  // service verifies it on both.
  const headers: Record<string, string> =
    variant === 'gateway' ? { authorization: `Bearer ${key}`, 'content-type': 'text/csv' } : { [callerTokenHeader]: await setup.callerKeys.signer.sign(caller), 'content-type': 'text/csv' };
  const response = await request(url, { method: 'PUT', dispatcher: agent, headers, body: body(totalMegabytes) });
  const answer = (await response.body.json()) as { bytes?: number };
  const seconds = (performance.now() - startedAt) / 1000;
  if (response.statusCode !== 200 || answer.bytes !== bytesOf(totalMegabytes)) throw new Error(`unexpected answer ${response.statusCode}: ${JSON.stringify(answer).slice(0, 200)}`);
  return bytesOf(totalMegabytes) / 1024 / 1024 / seconds;
}

async function threadCpuMicroseconds(worker: Worker): Promise<number> {
  // A worker's postMessage takes a transfer list, not a target origin.
  worker.postMessage('cpu', []);
  const [message] = (await once(worker, 'message')) as [{ cpuMicroseconds: number }];
  return message.cpuMicroseconds;
}

type Stage = 'client' | 'gateway' | 'service';

/** CPU time so far of each thread: this one (the client), the gateway's and the service's. */
async function cpuMicroseconds(): Promise<Record<Stage, number>> {
  const own = process.threadCpuUsage();
  return { client: own.user + own.system, gateway: await threadCpuMicroseconds(gateway.worker), service: await threadCpuMicroseconds(service.worker) };
}

function median(values: number[]): number {
  const sorted = values.toSorted((left, right) => left - right);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

const results: string[] = [];
for (const [label, purpose, size, count] of [
  [`transport: the handler counts the bytes (${megabytes} MiB)`, 'drain', megabytes, rounds],
  [`with the CSV parsed by the handler (${parseMegabytes} MiB)`, 'count-rows', parseMegabytes, Math.max(3, Math.ceil(rounds / 2))],
] as const) {
  await upload('gateway', purpose, Math.min(size, 10));
  await upload('direct', purpose, Math.min(size, 10));
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
      const cpuBefore = await cpuMicroseconds();
      measured[variant] = await upload(variant, purpose, size);
      const cpuAfter = await cpuMicroseconds();
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
for (const { worker } of [gateway, service]) {
  worker.postMessage('close', []);
  await once(worker, 'exit');
}
await setup.dispose();
