// What the campaign generation engine adds to the model calls it waits for. The campaign subgraph is
// called as the gateway calls it (signed caller token) to generate all five assets of a new
// campaign (`generateAsset(EMAIL_SEQUENCE)`: its four prerequisites first, one model call each, in
// dependency order) against a local OpenAI-protocol server that answers every call in exactly
// 300 ms, on its own thread. The real content service serves the website context (the Northwind fixture, analysed
// once beforehand); the LLM cache is off so that every run calls the model five times.
//
// The five calls form a chain (each asset reads the one before it), so the model time on the
// critical path is 5 × 300 ms; everything above it is the engine's: reading the campaign and
// its assets, the website context (one content-service round trip), planning, prompts, the SDK,
// validation, grounding, user notes, and one transaction per version.
//
// The same five assets are then built as a generateCampaign job, interleaved run by run with the
// request: mutation to terminal progress event, through the worker and the progress store.
//
//   npm run bench:orchestration              (builds first; needs PostgreSQL and Redis like the tests)
//   BENCH_RUNS=30 npm run bench:orchestration
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { createApp as createCampaignApp } from '@gtm/campaign-service/app';
import { loadConfig as loadCampaignConfig } from '@gtm/campaign-service/config';
import { createApp as createContentApp } from '@gtm/content-service/app';
import { loadConfig as loadContentConfig } from '@gtm/content-service/config';
import { createJobProgressFeed, type JobProgressEvent } from '@gtm/jobs';
import { createLogger } from '@gtm/runtime';
import { createSubgraphClient, createSubgraphTestSetup, createTestCaller, startFixtureSite } from '@gtm/testing';

const runs = Number(process.env['BENCH_RUNS'] ?? 12);
const modelMs = 300;
const calls = 5;

const site = await startFixtureSite(fileURLToPath(new URL('../../apps/content-service/fixtures/northwind-site', import.meta.url)), {
  // Without the fixture's Crawl-delay: the analysis happens once, before the timed runs.
  '/robots.txt': (_request, response) => void response.writeHead(200, { 'content-type': 'text/plain' }).end(`User-agent: *\nSitemap: ${site.origin}/sitemap.xml\n`),
});
const model = new Worker(new URL('./model-server.worker.ts', import.meta.url), { workerData: { delayMs: modelMs } });
const { baseURL } = await new Promise<{ baseURL: string }>((resolve) => model.once('message', resolve));
/** Asks the model server's thread something and waits for its answer. */
const ask = <Answer>(message: string) =>
  new Promise<Answer>((resolve) => {
    model.once('message', resolve);
    // A worker's postMessage takes a transfer list, not a target origin.
    model.postMessage(message, []);
  });
const setup = await createSubgraphTestSetup();
const logger = createLogger({ service: 'bench', level: 'silent' });
const content = await createContentApp(loadContentConfig({ ...setup.environment, CONTENT_FETCH_ALLOWLIST: site.host }), { logger });
const campaign = await createCampaignApp(
  loadCampaignConfig({
    ...setup.environment,
    CONTENT_SERVICE_URL: content.url,
    CONTENT_FETCH_ALLOWLIST: site.host,
    LLM_PROVIDERS: 'openai',
    OPENAI_API_KEY: 'sk-bench',
    OPENAI_BASE_URL: baseURL,
    LLM_CACHE_TTL_SECONDS: '0',
    LLM_MAX_RETRIES: '0',
  }),
  { logger },
);
const call = createSubgraphClient(campaign.url, setup.callerKeys.signer);
const feed = createJobProgressFeed({ redis: campaign.redis, logger });
const caller = createTestCaller();

interface Sample {
  total: number;
  /** From the mutation's start to the first model request. */
  beforeFirstCall: number;
  /** Between one model answer and the next request, summed over the four gaps. */
  betweenCalls: number;
  /** From the last model answer to the mutation's response. */
  afterLastCall: number;
  /**
   * CPU time the process spent during the run (both services, the model server's thread): the
   * work itself, which other processes on the machine delay but do not add to.
   */
  cpu: number;
}

/** Model arrivals of the last run, split around the model time as a Sample. */
async function sampleOf(startedAt: number, endedAt: number, cpuAtStart: NodeJS.CpuUsage): Promise<Sample> {
  const cpu = process.cpuUsage(cpuAtStart);
  const { arrivals } = await ask<{ arrivals: number[] }>('arrivals');
  if (arrivals.length !== calls) throw new Error(`expected ${calls} model calls, got ${arrivals.length}`);
  const gaps = arrivals.slice(1).map((arrival, index) => arrival - arrivals[index]! - modelMs);
  return {
    total: endedAt - startedAt,
    beforeFirstCall: arrivals[0]! - startedAt,
    betweenCalls: gaps.reduce((sum, gap) => sum + gap, 0),
    afterLastCall: endedAt - arrivals.at(-1)! - modelMs,
    cpu: (cpu.user + cpu.system) / 1000,
  };
}

/**
 * The same five assets as a generateCampaign job on the campaign worker: from the mutation to the
 * terminal progress event a subscriber would get (graphile-worker's LISTEN, one transaction per
 * item, the progress store in Redis).
 */
async function generateAllAsJob(): Promise<Sample> {
  const created = await call(caller, `mutation ($url: String!) { createCampaign(input: { websiteUrl: $url }) { id } }`, { url: site.origin });
  const id = created.data!['createCampaign'].id as string;
  model.postMessage('reset', []);
  const cpuAtStart = process.cpuUsage();
  const startedAt = Date.now();
  let finish!: (status: string) => void;
  const finished = new Promise<string>((resolve) => (finish = resolve));
  const result = await call(caller, `mutation ($id: ID!) { generateCampaign(campaignId: $id) { id } }`, { id });
  if (result.errors) throw new Error(JSON.stringify(result.errors));
  const jobId = result.data!['generateCampaign'].id as string;
  const take = (event: JobProgressEvent) => {
    if (['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(event.snapshot.status)) finish(event.snapshot.status);
  };
  const stop = await feed.follow(jobId, take);
  const current = await feed.read(jobId);
  if (current) take(current);
  const status = await finished;
  const endedAt = Date.now();
  await stop();
  if (status !== 'SUCCEEDED') throw new Error(`the job ended ${status}`);
  return sampleOf(startedAt, endedAt, cpuAtStart);
}

async function generateAll(): Promise<Sample> {
  const created = await call(caller, `mutation ($url: String!) { createCampaign(input: { websiteUrl: $url }) { id } }`, { url: site.origin });
  const id = created.data!['createCampaign'].id as string;
  model.postMessage('reset', []);
  const cpuAtStart = process.cpuUsage();
  const startedAt = Date.now();
  const result = await call(caller, `mutation ($id: ID!) { generateAsset(campaignId: $id, kind: EMAIL_SEQUENCE) { id assets { state provider } } }`, { id });
  const endedAt = Date.now();
  if (result.errors) throw new Error(JSON.stringify(result.errors));
  const states = result.data!['generateAsset'].assets.map((asset: { state: string; provider: string }) => `${asset.state}/${asset.provider}`);
  if (states.some((state: string) => state !== 'READY/openai')) throw new Error(`not every asset was built by the model: ${states.join(', ')}`);
  return sampleOf(startedAt, endedAt, cpuAtStart);
}

const median = (values: number[]) => {
  const sorted = values.toSorted((first, second) => first - second);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

// Warm-up: the website analysis (once), connections, JIT.
for (let index = 0; index < 2; index += 1) {
  await generateAll();
  await generateAllAsJob();
}

// Interleaved, so that both paths see the same machine.
const samples: Sample[] = [];
const jobSamples: Sample[] = [];
for (let index = 0; index < runs; index += 1) {
  samples.push(await generateAll());
  jobSamples.push(await generateAllAsJob());
}

const floor = calls * modelMs;
const totals = samples.map((sample) => sample.total);
const overhead = median(totals) - floor;
process.stdout.write(`Node ${process.version}; ${runs} runs after 2 warm-ups; model answers in ${modelMs} ms; ${calls} calls on the critical path (${floor} ms)\n\n`);
process.stdout.write('| measure | median (ms) | min (ms) | max (ms) |\n|---|---|---|---|\n');
const row = (label: string, values: number[]) => `| ${label} | ${median(values).toFixed(0)} | ${Math.min(...values).toFixed(0)} | ${Math.max(...values).toFixed(0)} |`;
process.stdout.write(
  `${[
    row('generateAsset(EMAIL_SEQUENCE), five assets, end to end', totals),
    row('before the first model call (campaign, assets, website context, plan)', samples.map((sample) => sample.beforeFirstCall)),
    row('between model calls, four gaps summed (validation, grounding, version write, next prompt)', samples.map((sample) => sample.betweenCalls)),
    row('after the last model call (last write, response)', samples.map((sample) => sample.afterLastCall)),
    row('process CPU time during the run', samples.map((sample) => sample.cpu)),
  ].join('\n')}\n\n`,
);
process.stdout.write(`overhead over the model time on the critical path: ${overhead.toFixed(0)} ms, ${((overhead / floor) * 100).toFixed(1)} % (goal: under 5 %)\n\n`);
const jobTotals = jobSamples.map((sample) => sample.total);
const jobOverhead = median(jobTotals) - floor;
process.stdout.write(
  `${[
    '| measure | median (ms) | min (ms) | max (ms) |',
    '|---|---|---|---|',
    row('generateCampaign job, five assets, mutation to the terminal progress event', jobTotals),
    row('before the first model call (plan, website context, job row, worker pickup)', jobSamples.map((sample) => sample.beforeFirstCall)),
    row('between model calls, four gaps summed (item commit, progress, next step\'s reads)', jobSamples.map((sample) => sample.betweenCalls)),
    row('after the last model call (last commit, conclusion, terminal event)', jobSamples.map((sample) => sample.afterLastCall)),
    row('process CPU time during the run', jobSamples.map((sample) => sample.cpu)),
  ].join('\n')}\n\n`,
);
process.stdout.write(`job overhead over the model time on the critical path: ${jobOverhead.toFixed(0)} ms, ${((jobOverhead / floor) * 100).toFixed(1)} % (goal: under 5 %); job / request median: ${(median(jobTotals) / median(totals)).toFixed(3)}\n`);
await feed.close();

await campaign.close();
await content.close();
model.postMessage('close', []);
await Promise.all([site.close(), new Promise((resolve) => model.once('exit', resolve))]);
await setup.dispose();
