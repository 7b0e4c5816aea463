// Identical subgraph fetches in flight for the same caller identity are sent once; never across
// tenants or keys, never for mutations. crm-service runs for real behind a small HTTP relay that
// records every fetch the gateway sends it (with the caller its token names) and holds each one
// briefly, so concurrent requests are in flight together as under load.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { callerTokenHeader, requestIdHeader } from '@gtm/caller';
import { createApp as createConversationApp } from '@gtm/conversation-service/app';
import { loadConfig as loadConversationConfig } from '@gtm/conversation-service/config';
import { createApp as createCrmApp } from '@gtm/crm-service/app';
import { loadConfig as loadCrmConfig } from '@gtm/crm-service/config';
import { openApiKeyRegistry } from '@gtm/gateway/api-key-registry';
import { createApp as createGatewayApp } from '@gtm/gateway/app';
import { loadConfig as loadGatewayConfig } from '@gtm/gateway/config';
import { createLogger } from '@gtm/runtime';
import { createSubgraphTestSetup, postGraphQL, uniqueRedisPrefix, type SubgraphTestSetup } from '@gtm/testing';
import { decodeJwt } from 'jose';
import { request } from 'undici';

interface SeenFetch {
  tenantSlug: string;
  token: string;
  requestId: string | undefined;
  body: string;
}

async function readBody(incoming: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of incoming) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Forwards every request to crm-service after `holdMs`, recording what the gateway sent. */
async function startRecordingRelay(targetUrl: string, holdMs: number) {
  const seen: SeenFetch[] = [];
  const server: Server = createServer(async (incoming, outgoing) => {
    const body = await readBody(incoming);
    const token = String(incoming.headers[callerTokenHeader] ?? '');
    if (token) seen.push({ tenantSlug: (decodeJwt(token)['caller'] as { tenantSlug: string }).tenantSlug, token, requestId: incoming.headers[requestIdHeader] as string | undefined, body });
    await new Promise((resolve) => setTimeout(resolve, holdMs));
    const headers = Object.fromEntries(Object.entries(incoming.headers).filter(([name]) => !['host', 'connection', 'content-length'].includes(name))) as Record<string, string>;
    const answer = await request(targetUrl, { method: incoming.method as 'POST', headers, body: incoming.method === 'POST' ? body : undefined });
    const text = await answer.body.text();
    outgoing.writeHead(answer.statusCode, { 'content-type': String(answer.headers['content-type'] ?? 'application/json') });
    outgoing.end(text);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`,
    seen,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const leadsQuery = 'query Leads { leads(first: 10) { edges { node { id email } } } }';
const fetchesOf = (seen: SeenFetch[], text: string) => seen.filter((fetch) => fetch.body.includes(text));
const ask = (url: string, key: string, query: string, variables?: Record<string, unknown>) => postGraphQL<{ leads: { edges: { node: { email: string } }[] } }>(url, { query, variables }, { authorization: `Bearer ${key}` });
const emailsOf = (answer: Awaited<ReturnType<typeof ask>>) => answer.data!.leads.edges.map((edge) => edge.node.email).toSorted();

describe('merged subgraph fetches', () => {
  let setup: SubgraphTestSetup;
  let crm: { url: string; close(): Promise<void> };
  let conversation: { url: string; close(): Promise<void> };
  let relay: Awaited<ReturnType<typeof startRecordingRelay>>;
  const gateways: { url: string; close(): Promise<void> }[] = [];
  const keys: Record<'alpha' | 'alphaReader' | 'beta', string> = { alpha: '', alphaReader: '', beta: '' };
  let merging: string;
  let notMerging: string;

  beforeAll(async () => {
    setup = await createSubgraphTestSetup();
    crm = await createCrmApp(loadCrmConfig(setup.environment));
    // Held long enough that requests sent together are in flight together, even on a loaded machine.
    relay = await startRecordingRelay(crm.url, 400);
    // Conversations read leads from crm-service with the caller's token: a hop between subgraphs.
    conversation = await createConversationApp(
      loadConversationConfig({ ...setup.environment, CRM_SERVICE_URL: relay.url, CAMPAIGN_SERVICE_URL: 'http://127.0.0.1:9/graphql', ENRICHMENT_SERVICE_URL: 'http://127.0.0.1:9/graphql' }),
    );
    const registry = await openApiKeyRegistry({ databaseUrl: setup.environment['DATABASE_URL']!, logger: createLogger({ service: 'e2e', level: 'silent' }), poolMax: 1 });
    keys.alpha = (await registry.apiKeys.createKey({ tenant: 'alpha', tier: 'enterprise', scopes: ['read', 'write'] })).key;
    keys.alphaReader = (await registry.apiKeys.createKey({ tenant: 'alpha', tier: 'enterprise', scopes: ['read'] })).key;
    keys.beta = (await registry.apiKeys.createKey({ tenant: 'beta', tier: 'enterprise', scopes: ['read', 'write'] })).key;
    await registry.close();
    const environment = (merge: boolean) => ({
      NODE_ENV: 'test',
      GATEWAY_PORT: '0',
      DATABASE_URL: setup.environment['DATABASE_URL'],
      REDIS_URL: setup.environment['REDIS_URL'],
      REDIS_KEY_PREFIX: uniqueRedisPrefix(),
      LOG_LEVEL: 'silent',
      CALLER_TOKEN_PRIVATE_KEY: setup.callerKeys.keys.privateKeyPem,
      SECRETS_KEY: setup.environment['SECRETS_KEY'],
      CRM_SERVICE_URL: relay.url,
      CONVERSATION_SERVICE_URL: conversation.url,
      SUBGRAPH_FETCH_MERGING: String(merge),
    });
    gateways.push(await createGatewayApp(loadGatewayConfig(environment(true))), await createGatewayApp(loadGatewayConfig(environment(false))));
    [merging, notMerging] = gateways.map((gateway) => gateway.url) as [string, string];
    for (const [tenant, key] of [['alpha', keys.alpha], ['beta', keys.beta]] as const) {
      for (const index of [1, 2]) {
        const created = await postGraphQL(merging, { query: 'mutation Create($input: CreateLeadInput!) { createLead(input: $input) { id } }', variables: { input: { email: `lead${index}@${tenant}.example` } } }, { authorization: `Bearer ${key}` });
        expect(created.errors).toBeUndefined();
      }
    }
  }, 60_000);

  afterAll(async () => {
    await Promise.all(gateways.map((gateway) => gateway.close()));
    await conversation?.close();
    await relay?.close();
    await crm?.close();
    await setup?.dispose();
  });


  it('sends one fetch for the same caller asking the same query at once, and gives each tenant its own data', async () => {
    relay.seen.length = 0;
    const asked = [...Array.from({ length: 4 }, () => ['alpha', keys.alpha] as const), ...Array.from({ length: 4 }, () => ['beta', keys.beta] as const)];
    const answers = await Promise.all(asked.map(([tenant, key]) => ask(merging, key, leadsQuery).then((answer) => ({ tenant, answer }))));
    for (const { tenant, answer } of answers) {
      expect(answer.errors).toBeUndefined();
      expect(emailsOf(answer)).toEqual([`lead1@${tenant}.example`, `lead2@${tenant}.example`]);
    }
    const fetches = fetchesOf(relay.seen, 'leads(first:');
    const alphaFetches = fetches.filter((fetch) => fetch.tenantSlug === 'alpha');
    const betaFetches = fetches.filter((fetch) => fetch.tenantSlug === 'beta');
    // Each tenant's requests were answered by fetches under its own token; fewer fetches than requests.
    expect(alphaFetches.length + betaFetches.length).toBe(fetches.length);
    expect(alphaFetches.length).toBeGreaterThanOrEqual(1);
    expect(alphaFetches.length).toBeLessThan(4);
    expect(betaFetches.length).toBeGreaterThanOrEqual(1);
    expect(betaFetches.length).toBeLessThan(4);
    expect(new Set(alphaFetches.map((fetch) => fetch.token)).size).toBe(1);
    // The request id travels beside the shared token.
    expect(fetches.every((fetch) => fetch.requestId && fetch.requestId.length > 0)).toBe(true);
  });

  it('never merges the fetches of two keys of one tenant with different scopes', async () => {
    relay.seen.length = 0;
    const [full, reader] = await Promise.all([ask(merging, keys.alpha, leadsQuery), ask(merging, keys.alphaReader, leadsQuery)]);
    expect(emailsOf(full)).toEqual(emailsOf(reader));
    const fetches = fetchesOf(relay.seen, 'leads(first:');
    expect(fetches).toHaveLength(2);
    expect(new Set(fetches.map((fetch) => JSON.stringify((decodeJwt(fetch.token)['caller'] as { scopes: string[] }).scopes)))).toEqual(new Set(['["read","write"]', '["read"]']));
  });

  it('never merges a mutation, even the same one sent by the same caller at once', async () => {
    const leads = await postGraphQL<{ leads: { edges: { node: { id: string } }[] } }>(merging, { query: leadsQuery }, { authorization: `Bearer ${keys.alpha}` });
    const id = leads.data!.leads.edges[0]!.node.id;
    relay.seen.length = 0;
    const mutation = 'mutation Touch($id: ID!) { updateLead(id: $id, input: { title: "Buyer" }) { id title } }';
    const answers = await Promise.all(Array.from({ length: 3 }, () => ask(merging, keys.alpha, mutation, { id })));
    for (const answer of answers) expect(answer.errors).toBeUndefined();
    expect(fetchesOf(relay.seen, 'updateLead')).toHaveLength(3);
  });

  it('sends every fetch on its own when merging is switched off', async () => {
    relay.seen.length = 0;
    const answers = await Promise.all(Array.from({ length: 3 }, () => ask(notMerging, keys.alpha, leadsQuery)));
    for (const answer of answers) expect(emailsOf(answer)).toEqual(['lead1@alpha.example', 'lead2@alpha.example']);
    expect(fetchesOf(relay.seen, 'leads(first:')).toHaveLength(3);
  });

  it('keeps a shared token bound to its tenant: presented by anyone with any request id, it reads that tenant only, and an altered one is refused', async () => {
    relay.seen.length = 0;
    await ask(merging, keys.alpha, leadsQuery);
    const alphaToken = fetchesOf(relay.seen, 'leads(first:')[0]!.token;
    const direct = (token: string, requestId: string) =>
      postGraphQL<{ leads: { edges: { node: { email: string } }[] } }>(crm.url, { query: leadsQuery }, { [callerTokenHeader]: token, [requestIdHeader]: requestId });
    const replayed = await direct(alphaToken, 'beta-request-1');
    expect(emailsOf(replayed)).toEqual(['lead1@alpha.example', 'lead2@alpha.example']);
    // Another tenant's identity written into the token's claims breaks its signature.
    relay.seen.length = 0;
    await ask(merging, keys.beta, leadsQuery);
    const betaCaller = decodeJwt(fetchesOf(relay.seen, 'leads(first:')[0]!.token)['caller'];
    const [header, payload, signature] = alphaToken.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
    const altered = `${header}.${Buffer.from(JSON.stringify({ ...claims, caller: betaCaller })).toString('base64url')}.${signature}`;
    const refused = await direct(altered, 'beta-request-2');
    expect(refused.status).toBe(401);
    expect(refused.errors?.[0]?.extensions?.['code']).toBe('UNAUTHENTICATED');
  });

  it('keeps one request id across a hop between subgraphs, beside the shared token', async () => {
    const leads = await ask(merging, keys.alpha, 'query Leads { leads(first: 1) { edges { node { id } } } }');
    const leadId = (leads.data!.leads.edges[0]!.node as unknown as { id: string }).id;
    relay.seen.length = 0;
    const started = await postGraphQL(
      merging,
      { query: 'mutation Start($input: StartConversationInput!) { startConversation(input: $input) { id leadEmail } }', variables: { input: { leadId, subject: 'Hello' } } },
      { authorization: `Bearer ${keys.alpha}`, [requestIdHeader]: 'trace-hop-1' },
    );
    expect(started.errors).toBeUndefined();
    // conversation-service asked crm-service for the lead under the client's request id.
    const hop = relay.seen.find((fetch) => fetch.body.includes('ConversationLeads'));
    expect(hop).toMatchObject({ tenantSlug: 'alpha', requestId: 'trace-hop-1' });
  });
});
