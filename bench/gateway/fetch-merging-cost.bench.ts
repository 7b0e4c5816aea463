// What the merging path of the subgraph fetcher costs a request that has nothing to merge with:
// the same fetcher, once with a merge key (key built, looked up, entered and removed) and once
// without, answered by undici's in-process MockAgent so no network or subgraph time is in it.
// Blocks of each alternate; reports the median per-fetch time of each and their difference.
//
//   nx run gateway:build && node bench/gateway/fetch-merging-cost.bench.ts
import { createSubgraphFetcher } from '@gtm/gateway/subgraph-fetcher';
import { MockAgent, type Agent } from 'undici';

const blocks = Number(process.env['BENCH_BLOCKS'] ?? 40);
const fetchesPerBlock = Number(process.env['BENCH_FETCHES'] ?? 2_000);
const url = 'http://subgraph.test/graphql';
// The nested benchmark query's crm fetch, as Apollo sends it.
const body = JSON.stringify({
  query: 'query Leads__crm__0{leads(first:50){edges{node{id email status company{__typename id websiteUrl name}__typename}}}}',
  variables: {},
  operationName: 'Leads__crm__0',
});
const answer = JSON.stringify({ data: { leads: { edges: Array.from({ length: 50 }, (_, index) => ({ node: { id: `lead-${index}`, email: `lead${index}@bench.example`, status: 'NEW' } })) } } });

const mock = new MockAgent({ connections: 1 });
mock.disableNetConnect();
mock.get('http://subgraph.test').intercept({ path: '/graphql', method: 'POST' }).reply(200, answer, { headers: { 'content-type': 'application/json' } }).persist();

const fetcher = createSubgraphFetcher({ agent: mock as unknown as Agent, timeoutMs: 5_000 });
const callerKey = 'tenant-id|key-id|enterprise|read,write|http://127.0.0.1:4000';

async function block(merging: boolean): Promise<number> {
  const mergeKey = merging ? callerKey : undefined;
  const startedAt = performance.now();
  for (let index = 0; index < fetchesPerBlock; index += 1) {
    const fetched = await fetcher({ url, headers: { 'content-type': 'application/json' }, body, mergeKey });
    JSON.parse(fetched.body.toString('utf8'));
  }
  return ((performance.now() - startedAt) / fetchesPerBlock) * 1_000;
}

const median = (values: number[]) => values.toSorted((a, b) => a - b)[Math.floor(values.length / 2)]!;
await block(true);
await block(false);
const times = { merging: [] as number[], notMerging: [] as number[] };
for (let index = 0; index < blocks; index += 1) {
  const first = index % 2 === 0;
  times[first ? 'merging' : 'notMerging'].push(await block(first));
  times[first ? 'notMerging' : 'merging'].push(await block(!first));
}
const merging = median(times.merging);
const notMerging = median(times.notMerging);
process.stdout.write(`${blocks} blocks of ${fetchesPerBlock} fetches each way, medians of the blocks' per-fetch time:\n`);
process.stdout.write(`  with a merge key   ${merging.toFixed(2)} µs\n  without            ${notMerging.toFixed(2)} µs\n  merging path adds  ${(merging - notMerging).toFixed(2)} µs per fetch\n`);
await mock.close();
