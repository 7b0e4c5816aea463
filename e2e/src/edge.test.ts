import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { PassThrough } from 'node:stream';
import pg from 'pg';
import { startStack, type Stack } from './stack.js';

const allowedOrigin = 'https://app.example.com';
const metricsToken = 'scrape-token-0123456789abcdef';
const databasePassword = 'database-password-never-logged';

let stack: Stack;
const logLines: string[] = [];

beforeAll(async () => {
  const logs = new PassThrough();
  logs.on('data', (chunk: Buffer) => logLines.push(...chunk.toString('utf8').split('\n').filter(Boolean)));
  stack = await startStack({
    gatewayEnvironment: { CORS_ORIGINS: `${allowedOrigin}, http://localhost:5173`, METRICS_TOKEN: metricsToken, INTROSPECTION_ENABLED: 'false' },
    logDestination: logs,
    databasePassword,
  });
});

afterAll(async () => {
  await stack?.close();
});

const preflight = (origin: string) =>
  fetch(stack.gatewayUrl, {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
  });

describe('CORS by configuration', () => {
  it('answers the preflight of a listed origin without a key, and lets it read the rate-limit headers', async () => {
    const answer = await preflight(allowedOrigin);
    expect(answer.status).toBe(204);
    expect(answer.headers.get('access-control-allow-origin')).toBe(allowedOrigin);
    expect(answer.headers.get('access-control-allow-headers')).toMatch(/authorization/);
    expect(answer.headers.get('access-control-allow-methods')).toMatch(/POST/);

    const request = await fetch(stack.gatewayUrl, {
      method: 'POST',
      headers: { origin: allowedOrigin, 'content-type': 'application/json', authorization: `Bearer ${stack.apiKey}` },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    expect(request.status).toBe(200);
    expect(request.headers.get('access-control-allow-origin')).toBe(allowedOrigin);
    expect(request.headers.get('access-control-expose-headers')).toMatch(/RateLimit-Remaining/);
  });

  it('gives an origin that is not listed no CORS headers, so the browser blocks the page', async () => {
    const answer = await preflight('https://evil.example.net');
    expect(answer.headers.get('access-control-allow-origin')).toBeNull();
    const request = await fetch(stack.gatewayUrl, {
      method: 'POST',
      headers: { origin: 'https://evil.example.net', 'content-type': 'application/json', authorization: `Bearer ${stack.apiKey}` },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    expect(request.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('refuses a request a page could forge without a preflight (CSRF)', async () => {
    const simplePost = await fetch(stack.gatewayUrl, {
      method: 'POST',
      headers: { 'content-type': 'text/plain', authorization: `Bearer ${stack.apiKey}` },
      body: JSON.stringify({ query: 'mutation { createLead(input: { email: "csrf@example.com" }) { id } }' }),
    });
    expect(simplePost.status).toBe(400);
    const simpleGet = await fetch(`${stack.gatewayUrl}?query=${encodeURIComponent('{ __typename }')}`, { headers: { authorization: `Bearer ${stack.apiKey}` } });
    expect(simpleGet.status).toBe(400);
    expect(await simpleGet.text()).toMatch(/CSRF/i);
    const leads = await stack.gql('{ leads(filter: { search: "csrf@" }) { edges { node { id } } } }');
    expect(leads.data!['leads'].edges).toEqual([]);
  });
});

const metricsUrl = () => stack.gatewayUrl.replace('/graphql', '/metrics');
/** The part of an API key after its public prefix: gtm_<prefix>_<secret>, where the secret (base64url) may itself contain _. */
const secretOfKey = (key: string) => key.split('_').slice(2).join('_');

describe('the metrics scrape token', () => {
  it('refuses a scrape without the token or with another one', async () => {
    expect((await fetch(metricsUrl())).status).toBe(401);
    expect((await fetch(metricsUrl(), { headers: { authorization: 'Bearer not-the-token-at-all' } })).status).toBe(401);
    expect((await fetch(metricsUrl(), { headers: { authorization: `Bearer ${stack.apiKey}` } })).status).toBe(401);
  });

  it('serves the metrics with the token', async () => {
    const answer = await fetch(metricsUrl(), { headers: { authorization: `Bearer ${metricsToken}` } });
    expect(answer.status).toBe(200);
    expect(await answer.text()).toMatch(/gtm_gateway_http_requests_total/);
  });
});

describe('introspection turned off', () => {
  it('refuses schema introspection and still answers __typename', async () => {
    const answer = await stack.gql('{ __schema { types { name } } }');
    expect(answer.errors?.[0]?.extensions?.['code']).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(answer.errors?.[0]?.message).toMatch(/introspection/i);
    expect((await stack.gql('{ __typename }')).data).toEqual({ __typename: 'Query' });
  });
});

describe('an unexpected failure', () => {
  it('reaches the client as INTERNAL_SERVER_ERROR with the request id and nothing else, and the logs keep the detail', async () => {
    const database = new pg.Client({ connectionString: stack.setup.environment['DATABASE_URL'] });
    await database.connect();
    // A table gone from under the CRM service: its SQL fails, as it would after a bad migration.
    await database.query('alter table crm.company rename to company_gone');
    try {
      const requestId = 'masking-test-0001';
      const answer = await stack.gql('query Companies { companies(first: 1) { edges { node { id name } } } }', undefined, {
        authorization: `Bearer ${stack.apiKey}`,
        'x-request-id': requestId,
      });
      const error = answer.errors?.[0];
      expect(error?.extensions).toEqual({ code: 'INTERNAL_SERVER_ERROR', requestId });
      expect(error?.message).toBe(`Internal server error. Quote request id ${requestId} when reporting it.`);
      expect(JSON.stringify(answer)).not.toMatch(/company_gone|relation|select|crm\.|stack/i);
      const detail = logLines.find((line) => line.includes(requestId) && line.includes('unexpected error'));
      expect(detail).toMatch(/company/);
    } finally {
      await database.query('alter table crm.company_gone rename to company');
      await database.end();
    }
  });
});

describe('logs', () => {
  it('never contain a key, a caller token, the database password or the signing key, whatever happens', async () => {
    const { key: revoked, apiKey } = await stack.gateway.services.apiKeys.createKey({ tenant: 'logs-revoked', tier: 'pro' });
    await stack.gateway.services.apiKeys.revokeKey(apiKey.id);
    await stack.gql('mutation CreateLead { createLead(input: { email: "logged@example.com", firstName: "Ada" }) { id } }');
    await stack.gql('{ leads { edges { node { id company { name website { url } } conversations { subject } } } } }');
    await stack.gql('{ __typename }', undefined, { authorization: `Bearer ${revoked}` });
    await stack.gql('{ __typename }', undefined, { 'x-api-key': `${stack.apiKey}x` });
    await stack.gql('{ lead(id: "not-a-uuid") { id } }');
    await stack.gql('query { usage(from: "2026-02-01T00:00:00Z", to: "2026-01-01T00:00:00Z") { from } }');
    // A subgraph that goes away mid-stream: warnings with the failed fetch, headers and all.
    await stack.stopSubgraph('conversation');
    await stack.gql('{ leads { edges { node { id conversations { subject } } } } }');

    const logs = logLines.join('\n');
    expect(logLines.length).toBeGreaterThan(20);
    expect(logs).toMatch(/subgraph unavailable/);
    for (const secret of [stack.apiKey, secretOfKey(stack.apiKey), revoked, secretOfKey(revoked), databasePassword, stack.setup.callerKeys.keys.privateKeyPem.split('\n')[1]!]) {
      expect(logs).not.toContain(secret);
    }
    // Caller tokens are JWTs: three base64url parts, the first starting eyJ.
    expect(logs).not.toMatch(/eyJ[\w-]{10,}\.[\w-]{10,}\.[\w-]{10,}/);
  });
});
