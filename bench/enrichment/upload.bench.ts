// An uploaded list into enrichment records: the real 10,246-row Florida dealer register PUT to the
// enrichment service's `/files/<ticket>` of a job created with `upload: true` (read with @gtm/csv,
// mapped, written a thousand records per `insert … select from jsonb_to_recordset`, the job
// submitted, one transaction), against the same bytes PUT to @gtm/files' `stage` handler (read with
// @gtm/csv and COPYed into a staging table, one transaction: the first half of a lead import).
// Both run in this process against the same PostgreSQL; the variants alternate round by round.
//
//   npm run bench:enrichment-upload              (builds the enrichment service first)
//   BENCH_ROUNDS=9 npm run bench:enrichment-upload
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { callerTokenHeader, type CallerContext } from '@gtm/caller';
import { createApp } from '@gtm/enrichment-service/app';
import { loadConfig } from '@gtm/enrichment-service/config';
import { createFileTickets } from '@gtm/files';
import { startFileTestService } from '@gtm/files/testing';
import { createLogger } from '@gtm/runtime';
import { createSubgraphClient, createSubgraphTestSetup } from '@gtm/testing';
import { request } from 'undici';

const rounds = Number(process.env['BENCH_ROUNDS'] ?? 7);
const file = readFileSync(new URL('../../fixtures/leads/florida-dealers-10k.csv', import.meta.url));
const rows = file.toString('utf8').split('\r\n').filter(Boolean).length - 1;

const setup = await createSubgraphTestSetup();
const silent = createLogger({ service: 'bench', level: 'silent' });
const tickets = createFileTickets({ secretsKey: setup.environment['SECRETS_KEY']! });
// No worker: the jobs are submitted, not run; what is measured is the file becoming records.
const enrichment = await createApp(loadConfig({ ...setup.environment, JOB_WORKER_CONCURRENCY: '0', LOG_LEVEL: 'silent' }), { logger: silent });
const staging = await startFileTestService({ service: 'crm', tickets, verifier: setup.callerKeys.verifier, logger: silent, databaseUrl: setup.environment['DATABASE_URL'] });
const call = createSubgraphClient(enrichment.url, setup.callerKeys.signer);
const caller: CallerContext = { tenantId: '4d2c3b1a-0000-4000-8000-000000000001', tenantSlug: 'bench', keyId: null, tier: 'enterprise', scopes: ['read', 'write'], requestId: 'bench' };

type Variant = 'records' | 'staging';

async function upload(variant: Variant): Promise<number> {
  let url: string;
  if (variant === 'records') {
    const created = await call(caller, `mutation { createEnrichmentJob(input: { name: "florida-dealers.csv", upload: true }) { uploadUrl } }`);
    const ticket = String(created.data?.['createEnrichmentJob']?.uploadUrl).split('/').at(-1);
    url = `${new URL(enrichment.url).origin}/files/${ticket}`;
  } else {
    const issued = tickets.issueUpload({ tenantId: caller.tenantId, service: 'crm', purpose: 'stage', resourceId: randomBytes(6).toString('hex') });
    url = `${new URL(staging.url).origin}/files/${issued.ticket}`;
  }
  const startedAt = performance.now();
  const response = await request(url, { method: 'PUT', headers: { [callerTokenHeader]: await setup.callerKeys.signer.sign(caller), 'content-type': 'text/csv' }, body: file });
  const answer = (await response.body.json()) as { rows?: number };
  const seconds = (performance.now() - startedAt) / 1000;
  if (response.statusCode !== 200 || answer.rows !== rows) throw new Error(`unexpected answer ${response.statusCode}: ${JSON.stringify(answer).slice(0, 300)}`);
  return seconds;
}

const median = (values: number[]) => {
  const sorted = values.toSorted((left, right) => left - right);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

await upload('records');
await upload('staging');
const samples: Record<Variant, number[]> = { records: [], staging: [] };
const ratios: number[] = [];
for (let round = 0; round < rounds; round += 1) {
  const order: Variant[] = round % 2 === 0 ? ['records', 'staging'] : ['staging', 'records'];
  const measured: Partial<Record<Variant, number>> = {};
  for (const variant of order) measured[variant] = await upload(variant);
  samples.records.push(measured.records!);
  samples.staging.push(measured.staging!);
  ratios.push(measured.staging! / measured.records!);
}

process.stdout.write(`Node ${process.version}, ${rows.toLocaleString('en-US')} rows (${(file.length / 1024 / 1024).toFixed(1)} MiB), ${rounds} rounds, variants alternating\n\n`);
process.stdout.write('| variant | median seconds | median rows/s | fastest seconds |\n|---|---:|---:|---:|\n');
for (const [variant, label] of [['records', 'enrichment job: rows → records (jsonb_to_recordset, 1,000 a statement) + job submitted'], ['staging', '@gtm/files stageCsv: rows → staging table (COPY)']] as const) {
  process.stdout.write(`| ${label} | ${median(samples[variant]).toFixed(2)} | ${Math.round(rows / median(samples[variant])).toLocaleString('en-US')} | ${Math.min(...samples[variant]).toFixed(2)} |\n`);
}
process.stdout.write(`\nthroughput of records relative to COPY staging: ratio of medians ${(median(samples.staging) / median(samples.records)).toFixed(2)}, median of per-round ratios ${median(ratios).toFixed(2)}\n`);

await enrichment.close();
await staging.close();
await setup.dispose();
