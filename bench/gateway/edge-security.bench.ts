// What API-key authentication and rate limiting add to a request at the gateway, on the cached
// key path: the same requests against two gateways in one process, one with the edge security
// on, one with it off (`benchmarkWithoutEdgeSecurity`), alternating round by round so both see
// the same machine noise. Reports median and p99 per variant and their ratios.
//
//   npm run bench:gateway            (builds first; needs PostgreSQL and Redis like the tests)
//   BENCH_ROUNDS=30 BENCH_REQUESTS_PER_ROUND=200 npm run bench:gateway
import { createApp as createCrmApp } from '@gtm/crm-service/app';
import { loadConfig as loadCrmConfig } from '@gtm/crm-service/config';
import { openApiKeyRegistry } from '@gtm/gateway/api-key-registry';
import { createApp as createGatewayApp } from '@gtm/gateway/app';
import { loadConfig as loadGatewayConfig } from '@gtm/gateway/config';
import { createLogger } from '@gtm/runtime';
import { createSubgraphTestSetup, uniqueRedisPrefix } from '@gtm/testing';
import { Agent, request } from 'undici';
import { tenantIdOf } from './bench-tenant.ts';

const rounds = Number(process.env['BENCH_ROUNDS'] ?? 20);
const requestsPerRound = Number(process.env['BENCH_REQUESTS_PER_ROUND'] ?? 150);
const warmupRequests = 300;

const operations = {
  'typename (no subgraph)': '{ __typename }',
  'leads(first: 5) (one subgraph)': 'query Leads { leads(first: 5) { edges { node { id email } } } }',
};

const setup = await createSubgraphTestSetup();
const silent = createLogger({ service: 'bench', level: 'silent' });
const crm = await createCrmApp(loadCrmConfig(setup.environment), { logger: silent });
const registry = await openApiKeyRegistry({ databaseUrl: setup.environment['DATABASE_URL']!, logger: silent, poolMax: 1 });
const { key, apiKey } = await registry.apiKeys.createKey({ tenant: 'bench', tier: 'enterprise', scopes: ['read', 'write'] });
await registry.close();

const gatewayEnvironment = {
  NODE_ENV: 'production',
  GATEWAY_PORT: '0',
  DATABASE_URL: setup.environment['DATABASE_URL'],
  REDIS_URL: setup.environment['REDIS_URL'],
  REDIS_KEY_PREFIX: uniqueRedisPrefix(),
  LOG_LEVEL: 'silent',
  CALLER_TOKEN_PRIVATE_KEY: setup.callerKeys.keys.privateKeyPem,
  SECRETS_KEY: setup.environment['SECRETS_KEY'],
  CRM_SERVICE_URL: crm.url,
  // High enough that no request of the run is refused: the limiter still counts every one.
  RATE_LIMIT_ENTERPRISE_PER_MINUTE: '1000000000',
  RATE_LIMIT_ENTERPRISE_PER_DAY: '1000000000',
};
const secured = await createGatewayApp(loadGatewayConfig(gatewayEnvironment), { logger: silent });
// The caller the secured gateway builds for this key, so both variants do the same work after the edge.
const tenantId = await tenantIdOf(setup.environment['DATABASE_URL']!);
const open = await createGatewayApp(loadGatewayConfig(gatewayEnvironment), {
  logger: silent,
  benchmarkWithoutEdgeSecurity: { tenantId, tenantSlug: 'bench', keyId: apiKey.id, tier: 'enterprise', scopes: ['read', 'write'], requestId: 'bench' },
});

const agent = new Agent({ keepAliveTimeout: 30_000, connections: 1 });

async function timeRequest(url: string, query: string): Promise<number> {
  const startedAt = performance.now();
  const response = await request(url, {
    method: 'POST',
    dispatcher: agent,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ query }),
  });
  const body = await response.body.text();
  const elapsed = performance.now() - startedAt;
  if (response.statusCode !== 200 || body.includes('"errors"')) throw new Error(`unexpected answer ${response.statusCode}: ${body.slice(0, 200)}`);
  return elapsed;
}

function percentile(sorted: number[], fraction: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))]!;
}

const rows: string[] = [];
for (const [label, query] of Object.entries(operations)) {
  for (let index = 0; index < warmupRequests; index += 1) {
    await timeRequest(secured.url, query);
    await timeRequest(open.url, query);
  }
  const samples = { secured: [] as number[], open: [] as number[] };
  for (let round = 0; round < rounds; round += 1) {
    // Alternate which variant goes first, so neither always runs on a warmer or cooler machine.
    const order = round % 2 === 0 ? (['secured', 'open'] as const) : (['open', 'secured'] as const);
    for (const variant of order) {
      const url = variant === 'secured' ? secured.url : open.url;
      for (let index = 0; index < requestsPerRound; index += 1) samples[variant].push(await timeRequest(url, query));
    }
  }
  const securedSorted = samples.secured.toSorted((a, b) => a - b);
  const openSorted = samples.open.toSorted((a, b) => a - b);
  const medianSecured = percentile(securedSorted, 0.5);
  const medianOpen = percentile(openSorted, 0.5);
  const p99Secured = percentile(securedSorted, 0.99);
  const p99Open = percentile(openSorted, 0.99);
  rows.push(
    `| ${label} | ${medianOpen.toFixed(3)} | ${medianSecured.toFixed(3)} | ${((medianSecured - medianOpen) * 1000).toFixed(0)} µs | ${(medianSecured / medianOpen).toFixed(3)} | ` +
      `${p99Open.toFixed(3)} | ${p99Secured.toFixed(3)} | ${(p99Secured / p99Open).toFixed(3)} |`,
  );
}

process.stdout.write(`${rounds} rounds × ${requestsPerRound} sequential requests per variant and operation (keep-alive, one connection), Node ${process.version}\n\n`);
process.stdout.write('| operation | median off (ms) | median on (ms) | added (median) | ratio (median) | p99 off (ms) | p99 on (ms) | ratio (p99) |\n');
process.stdout.write('|---|---|---|---|---|---|---|---|\n');
process.stdout.write(`${rows.join('\n')}\n`);

await agent.close();
await Promise.all([secured.close(), open.close()]);
await crm.close();
await setup.dispose();
