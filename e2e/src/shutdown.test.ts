// A gateway told to stop (SIGTERM runs `close()`, see runMain) while a slow mutation is in flight:
// the client gets its answer, because the grace covers the longest operation the gateway allows.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { fileURLToPath } from 'node:url';
import { loadConfig, shutdownGraceMsOf } from '@gtm/gateway/config';
import { startFixtureSite, type FixtureSite } from '@gtm/testing';
import { startStack, type Stack } from './stack.js';

let site: FixtureSite;
let stack: Stack;
let robotsRequested!: () => void;
const robotsArrived = new Promise<void>((resolve) => (robotsRequested = resolve));
let releaseRobots!: () => void;
const robotsReleased = new Promise<void>((resolve) => (releaseRobots = resolve));

beforeAll(async () => {
  // The site holds its robots.txt until the test lets it go: the analysis is in flight as long as
  // the test wants, without guessing at delays.
  site = await startFixtureSite(fileURLToPath(new URL('../../apps/content-service/fixtures/northwind-site', import.meta.url)), {
    '/robots.txt': (_request, response) => {
      robotsRequested();
      void robotsReleased.then(() => response.writeHead(200, { 'content-type': 'text/plain' }).end('User-agent: *\nAllow: /\n'));
    },
  });
  stack = await startStack({
    subgraphEnvironment: { content: { CONTENT_FETCH_ALLOWLIST: site.host } },
    // A setting the gateway no longer has: its grace is derived from OPERATION_TIMEOUT_MS, so a
    // short one left over in a deployment's environment cannot cut a mutation off.
    gatewayEnvironment: { SHUTDOWN_GRACE_MS: '300' },
  });
});

afterAll(async () => {
  releaseRobots();
  await stack?.close();
  await site?.close();
});

describe('shutdown', () => {
  it('waits, by default, for the longest operation the gateway allows, which no single fetch may outlast', () => {
    const environment = { DATABASE_URL: 'postgres://localhost/gtm', REDIS_URL: 'redis://localhost', CALLER_TOKEN_PRIVATE_KEY: stack.setup.callerKeys.keys.privateKeyPem, SECRETS_KEY: stack.setup.environment['SECRETS_KEY'] };
    const defaults = loadConfig(environment);
    expect(shutdownGraceMsOf(defaults)).toBeGreaterThan(defaults.OPERATION_TIMEOUT_MS);
    expect(defaults.OPERATION_TIMEOUT_MS).toBeGreaterThanOrEqual(defaults.SUBGRAPH_TIMEOUT_MS);
    expect(() => loadConfig({ ...environment, SUBGRAPH_TIMEOUT_MS: '60000', OPERATION_TIMEOUT_MS: '30000' })).toThrow(/SUBGRAPH_TIMEOUT_MS must not be longer than OPERATION_TIMEOUT_MS/);
  });

  it('answers a mutation that is in flight when the gateway is told to stop', async () => {
    const mutation = stack.gql('mutation ($url: String!) { analyzeWebsite(url: $url) { url pages { kind } } }', { url: site.origin });
    await robotsArrived;
    const stopping = stack.gateway.close();
    // Longer than the leftover SHUTDOWN_GRACE_MS: a gateway using it would have cut the client off.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    releaseRobots();
    const answer = await mutation;
    expect(answer.errors).toBeUndefined();
    expect(answer.status).toBe(200);
    expect(answer.data?.['analyzeWebsite']).toMatchObject({ url: site.origin });
    await stopping;
    // Stopped for good: no new request is taken.
    await expect(fetch(stack.gatewayUrl)).rejects.toThrow();
  });
});
