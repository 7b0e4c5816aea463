import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createApp as createGatewayApp } from '@gtm/gateway/app';
import { loadConfig as loadGatewayConfig } from '@gtm/gateway/config';
import { postGraphQL } from '@gtm/testing';
import pg from 'pg';
import { startStack, type Stack } from './stack.js';

let stack: Stack;
const workspaceRoot = fileURLToPath(new URL('../../', import.meta.url));

beforeAll(async () => {
  stack = await startStack();
});

afterAll(async () => {
  await stack?.close();
});

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

/** Runs the built `npm run apikey` command against the stack's database. */
function runApiKeyCommand(...args: string[]) {
  return spawnSync(process.execPath, [`${workspaceRoot}apps/gateway/dist/cli/apikey.js`, ...args], {
    env: { PATH: process.env['PATH'], DATABASE_URL: stack.setup.environment['DATABASE_URL'] },
    encoding: 'utf8',
    timeout: 30_000,
  });
}

describe('API keys at the gateway', () => {
  it('answers a missing, malformed, unknown or revoked key with the same 401', async () => {
    const { key: revoked, apiKey } = await stack.gateway.services.apiKeys.createKey({ tenant: 'revoked-co', tier: 'free' });
    await stack.gateway.services.apiKeys.revokeKey(apiKey.id);
    const unknown = `gtm_AAAAAAAAAA_${'x'.repeat(43)}`;
    const answers = await Promise.all([
      stack.gql('{ __typename }', undefined, {}),
      stack.gql('{ __typename }', undefined, bearer('not-a-key')),
      stack.gql('{ __typename }', undefined, bearer(unknown)),
      stack.gql('{ __typename }', undefined, bearer(revoked)),
    ]);
    for (const answer of answers) {
      expect(answer.status).toBe(401);
      expect(answer).toEqual(answers[0]);
      expect(answer.errors?.[0]?.extensions?.['code']).toBe('UNAUTHENTICATED');
    }
  });

  it('accepts the key as x-api-key too, and keeps each tenant in its own data', async () => {
    const { key: keyOfA } = await stack.gateway.services.apiKeys.createKey({ tenant: 'tenant-a', tier: 'pro' });
    const { key: keyOfB } = await stack.gateway.services.apiKeys.createKey({ tenant: 'tenant-b', tier: 'pro' });
    const created = await stack.gql(`mutation { createLead(input: { email: "only-a@example.com" }) { id } }`, undefined, { 'x-api-key': keyOfA });
    expect(created.errors).toBeUndefined();
    const leadId = created.data!['createLead'].id;
    const asA = await stack.gql(`query ($id: ID!) { lead(id: $id) { email } }`, { id: leadId }, { 'x-api-key': keyOfA });
    expect(asA.data!['lead']).toEqual({ email: 'only-a@example.com' });
    const asB = await stack.gql(`query ($id: ID!) { lead(id: $id) { email } leads { edges { node { id } } } }`, { id: leadId }, bearer(keyOfB));
    expect(asB.data).toEqual({ lead: null, leads: { edges: [] } });
  });

  it('refuses a mutation to a read-only key with FORBIDDEN and lets it read', async () => {
    const { key } = await stack.gateway.services.apiKeys.createKey({ tenant: 'reader', tier: 'pro', scopes: ['read'] });
    expect((await stack.gql('{ leads { edges { cursor } } }', undefined, bearer(key))).errors).toBeUndefined();
    const write = await stack.gql(`mutation { createLead(input: { email: "x@example.com" }) { id } }`, undefined, bearer(key));
    expect(write.status).toBe(403);
    expect(write.errors?.[0]).toMatchObject({ extensions: { code: 'FORBIDDEN', requiredScope: 'write' } });
  });

  it('stores only a SHA-256 of each key', async () => {
    const { key, apiKey } = await stack.gateway.services.apiKeys.createKey({ tenant: 'hashing', tier: 'free' });
    const client = new pg.Client({ connectionString: stack.setup.database.url });
    await client.connect();
    try {
      const { rows } = await client.query('select * from gateway.api_key where id = $1', [apiKey.id]);
      expect(rows[0].key_hash).toBe(createHash('sha256').update(key).digest('hex'));
      // The secret is everything after the second underscore: base64url may itself contain '_'.
      const secret = key.slice(`gtm_${apiKey.prefix}_`.length);
      expect(secret).toHaveLength(43);
      expect(JSON.stringify(rows[0])).not.toContain(secret);
    } finally {
      await client.end();
    }
  });

  it('stops a revoked key on every gateway process within the cache time', async () => {
    const second = await createGatewayApp(
      loadGatewayConfig({
        NODE_ENV: 'test',
        GATEWAY_PORT: '0',
        LOG_LEVEL: 'silent',
        DATABASE_URL: stack.setup.environment['DATABASE_URL'],
        REDIS_URL: stack.setup.environment['REDIS_URL'],
        CALLER_TOKEN_PRIVATE_KEY: stack.setup.callerKeys.keys.privateKeyPem,
        SECRETS_KEY: stack.setup.environment['SECRETS_KEY'],
        ...Object.fromEntries(Object.entries(stack.subgraphUrls).map(([name, url]) => [`${name.toUpperCase()}_SERVICE_URL`, url])),
      }),
    );
    try {
      const { key, apiKey } = await stack.gateway.services.apiKeys.createKey({ tenant: 'two-gateways', tier: 'pro' });
      const both = async () => Promise.all([stack.gatewayUrl, second.url].map(async (url) => (await postGraphQL(url, { query: '{ __typename }' }, bearer(key))).status));
      expect(await both()).toEqual([200, 200]);
      await second.services.apiKeys.revokeKey(apiKey.prefix);
      const revokedAt = Date.now();
      let statuses = await both();
      while (statuses.some((status) => status !== 401) && Date.now() - revokedAt < 6_000) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        statuses = await both();
      }
      expect(statuses).toEqual([401, 401]);
      expect(Date.now() - revokedAt).toBeLessThan(5_000);
    } finally {
      await second.close();
    }
    // A second gateway process is built and started (its supergraph, pools, GraphiQL): on a loaded
    // machine that alone can take most of a minute.
  }, 180_000);

  it('manages keys from the command line', () => {
    const created = runApiKeyCommand('create', '--tenant', 'cli-co', '--tier', 'pro');
    expect(created.status).toBe(0);
    const key = created.stdout.split('\n')[0]!;
    expect(key).toMatch(/^gtm_[A-Za-z0-9]{10}_[A-Za-z0-9_-]{43}$/);
    const listed = runApiKeyCommand('list', '--tenant', 'cli-co');
    expect(listed.stdout).toContain(key.split('_')[1]);
    expect(listed.stdout).not.toContain(key);
    expect(runApiKeyCommand('revoke', key.split('_')[1]!).stdout).toMatch(/Revoked/);
    const badTier = runApiKeyCommand('create', '--tenant', 'cli-co', '--tier', 'gold');
    expect(badTier.status).toBe(2);
    expect(badTier.stderr).toMatch(/tier must be one of free, pro, enterprise/);
  });
});
