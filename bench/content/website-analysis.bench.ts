// The content service end to end, through its GraphQL endpoint as the gateway calls it: a whole
// analysis of the Northwind fixture site (robots.txt, sitemap, seven pages read, extracted,
// cleaned, chunked, scored, summarised offline and stored), and the cached path (an analysis
// within its TTL) beside the plain `website(url)` read of the same row, interleaved so both see
// the same machine noise. The fixture's Crawl-delay is left out: it would measure our politeness.
//
//   npm run bench:analysis            (builds first; needs PostgreSQL and Redis like the tests)
//   BENCH_ANALYSES=20 BENCH_CACHED_REQUESTS=500 npm run bench:analysis
import { fileURLToPath } from 'node:url';
import { createApp } from '@gtm/content-service/app';
import { loadConfig } from '@gtm/content-service/config';
import { createLogger } from '@gtm/runtime';
import { createSubgraphClient, createSubgraphTestSetup, createTestCaller, startFixtureSite } from '@gtm/testing';

const analyses = Number(process.env['BENCH_ANALYSES'] ?? 15);
const cachedRequests = Number(process.env['BENCH_CACHED_REQUESTS'] ?? 300);

const site = await startFixtureSite(fileURLToPath(new URL('../../apps/content-service/fixtures/northwind-site', import.meta.url)), {
  '/robots.txt': (_request, response) => void response.writeHead(200, { 'content-type': 'text/plain' }).end(`User-agent: *\nDisallow: /private\nSitemap: ${site.origin}/sitemap.xml\n`),
});
const setup = await createSubgraphTestSetup();
const app = await createApp(loadConfig({ ...setup.environment, CONTENT_FETCH_ALLOWLIST: site.host }), { logger: createLogger({ service: 'bench', level: 'silent' }) });
const call = createSubgraphClient(app.url, setup.callerKeys.signer);
const caller = createTestCaller();

const analyze = `mutation ($url: String!, $refresh: Boolean) { analyzeWebsite(url: $url, refresh: $refresh) { url analyzedAt quality { score } pages { kind } } }`;
const read = `query ($url: String!) { website(url: $url) { url analyzedAt quality { score } pages { kind } } }`;

async function timed(query: string, variables: Record<string, unknown>): Promise<number> {
  const startedAt = performance.now();
  const result = await call(caller, query, variables);
  const elapsed = performance.now() - startedAt;
  if (result.errors) throw new Error(JSON.stringify(result.errors));
  return elapsed;
}

const percentile = (samples: number[], fraction: number) => {
  const sorted = samples.toSorted((first, second) => first - second);
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))]!;
};

// Warm-up: connections, JIT, the first migration-time caches.
for (let index = 0; index < 3; index += 1) await timed(analyze, { url: site.origin, refresh: true });

const whole: number[] = [];
for (let index = 0; index < analyses; index += 1) whole.push(await timed(analyze, { url: site.origin, refresh: true }));

const cached: number[] = [];
const plainRead: number[] = [];
for (let index = 0; index < cachedRequests; index += 1) {
  // Alternate which goes first.
  if (index % 2 === 0) {
    cached.push(await timed(analyze, { url: site.origin }));
    plainRead.push(await timed(read, { url: site.origin }));
  } else {
    plainRead.push(await timed(read, { url: site.origin }));
    cached.push(await timed(analyze, { url: site.origin }));
  }
}

const row = (label: string, samples: number[]) => `| ${label} | ${samples.length} | ${percentile(samples, 0.5).toFixed(2)} | ${percentile(samples, 0.95).toFixed(2)} |`;
process.stdout.write(`Node ${process.version}; fixture site of 7 readable pages, crawled over loopback\n\n`);
process.stdout.write('| path | runs | median (ms) | p95 (ms) |\n|---|---|---|---|\n');
process.stdout.write(`${[row('whole-site analysis (refresh: true)', whole), row('cached analysis (within TTL)', cached), row('plain website(url) read', plainRead)].join('\n')}\n\n`);
process.stdout.write(`cached analysis / plain read, ratio of medians: ${(percentile(cached, 0.5) / percentile(plainRead, 0.5)).toFixed(2)}\n`);

await app.close();
await site.close();
await setup.dispose();
