// What the gateway sends a subgraph with each fetch (the caller's token always, the longer-lived
// delegation token only with mutations to the subgraphs configured to start background work), and
// what Apollo gets back.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RemoteGraphQLDataSource } from '@apollo/gateway';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { callerDelegationHeader, callerTokenHeader, createCallerTokenSigner } from '@gtm/caller';
import { createLogger } from '@gtm/runtime';
import { createTestCaller, createTestCallerKeys } from '@gtm/testing';
import { GraphQLError } from 'graphql';
import { decodeJwt } from 'jose';
import { createSubgraphAgent, SubgraphDataSource } from './subgraph-data-source.js';

async function headersSent(options: { delegatesCaller: boolean; operation: 'query' | 'mutation' }) {
  const keys = await createTestCallerKeys();
  const delegationSigner = await createCallerTokenSigner({ privateKeyPem: keys.keys.privateKeyPem, ttlSeconds: 3_600, delegated: true });
  const caller = createTestCaller();
  const agent = createSubgraphAgent();
  const dataSource = new SubgraphDataSource({ name: 'enrichment', url: 'http://127.0.0.1:1/graphql', agent, timeoutMs: 1_000, delegatesCaller: options.delegatesCaller });
  let signed = 0;
  const sent = await dataSource.headersFor({
    kind: 'incoming operation',
    request: { query: '{ __typename }' },
    context: {
      caller,
      callerToken: await keys.signer.sign(caller),
      requestId: caller.requestId,
      logger: createLogger({ service: 'test', level: 'silent' }),
      delegatedCallerToken: () => {
        signed += 1;
        return delegationSigner.sign(caller);
      },
    },
    incomingRequestContext: { operation: { operation: options.operation } },
  } as never);
  await agent.close();
  return { headers: new Map(Object.entries(sent)), signed, verifier: keys.verifier, caller };
}

describe('the caller tokens a subgraph fetch carries', () => {
  it('adds a longer-lived token of the same caller to a mutation for a delegating subgraph', async () => {
    const { headers, verifier, caller } = await headersSent({ delegatesCaller: true, operation: 'mutation' });
    expect(headers.get(callerTokenHeader)).toBeDefined();
    const delegated = headers.get(callerDelegationHeader);
    expect(await verifier.verify(delegated)).toEqual(caller);
    const lifetime = decodeJwt(delegated!).exp! - decodeJwt(delegated!).iat!;
    expect(lifetime).toBe(3_600);
    expect(decodeJwt(headers.get(callerTokenHeader)!).exp! - decodeJwt(headers.get(callerTokenHeader)!).iat!).toBe(60);
  });

  it('signs none for a query, nor for a subgraph that is not trusted with one', async () => {
    const query = await headersSent({ delegatesCaller: true, operation: 'query' });
    expect(query.headers.has(callerDelegationHeader)).toBe(false);
    expect(query.signed).toBe(0);
    const untrusted = await headersSent({ delegatesCaller: false, operation: 'mutation' });
    expect(untrusted.headers.has(callerDelegationHeader)).toBe(false);
    expect(untrusted.signed).toBe(0);
  });
});

/** A data source's result without its `http` member, or its error: UPSTREAM_UNAVAILABLE, or message and extensions. */
const outcome = async (process: () => Promise<unknown>) => {
  try {
    const { http: _http, ...response } = (await process()) as Record<string, unknown>;
    return { response };
  } catch (error) {
    const { message, extensions } = error as GraphQLError;
    return { error: extensions['code'] === 'UPSTREAM_UNAVAILABLE' ? 'UPSTREAM_UNAVAILABLE' : { message, extensions } };
  }
};

// Apollo's RemoteGraphQLDataSource is what the gateway's data source replaces: over the same
// subgraph answers, both send the same bytes and hand Apollo the same result, errors and cache hints.
describe('what Apollo gets from a subgraph fetch, as from RemoteGraphQLDataSource', () => {
  const answers: Record<string, { status: number; headers: Record<string, string>; body: string }> = {
    '/ok': { status: 200, headers: { 'content-type': 'application/graphql-response+json; charset=utf-8', 'cache-control': 'max-age=60, private' }, body: '{"data":{"lead":{"id":"1"}},"extensions":{"cost":3}}' },
    '/public': { status: 200, headers: { 'content-type': 'application/json', 'cache-control': 'public, max-age="30"' }, body: '{"data":{"ok":true}}' },
    '/field-error': { status: 200, headers: { 'content-type': 'application/json' }, body: '{"data":null,"errors":[{"message":"No lead","extensions":{"code":"NOT_FOUND"}}]}' },
    '/bad-request': { status: 400, headers: { 'content-type': 'application/json' }, body: '{"errors":[{"message":"Variable \\"$id\\" got invalid value","extensions":{"code":"BAD_USER_INPUT"}}]}' },
    '/forbidden': { status: 403, headers: { 'content-type': 'text/plain' }, body: 'no' },
    '/unauthenticated': { status: 401, headers: { 'content-type': 'application/json' }, body: '{"errors":[{"message":"Unauthenticated"}]}' },
    '/crashed': { status: 502, headers: { 'content-type': 'text/html' }, body: '<html>Bad gateway</html>' },
    '/garbage': { status: 200, headers: { 'content-type': 'application/json' }, body: '{"data":' },
    '/not-json': { status: 200, headers: { 'content-type': 'text/plain' }, body: 'hello' },
    '/array': { status: 200, headers: { 'content-type': 'application/json' }, body: '[1,2]' },
  };
  const requests: { path: string; headers: Record<string, unknown>; body: string }[] = [];
  let server: Server;
  let origin: string;
  const agent = createSubgraphAgent();

  beforeAll(async () => {
    server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        requests.push({ path: request.url!, headers: request.headers, body });
        const answer = answers[request.url!]!;
        response.writeHead(answer.status, answer.headers).end(answer.body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await agent.close();
    await new Promise((resolve) => server.close(resolve));
  });

  const caller = createTestCaller();
  const context = { caller, callerToken: 'token', requestId: caller.requestId, publicUrl: 'http://gateway.test', logger: createLogger({ service: 'test', level: 'silent' }) };
  const optionsFor = (hints: unknown[]) => ({
    kind: 'incoming operation',
    request: { query: 'query Lead__crm__0($id:ID!){lead(id:$id){id}}', variables: { id: '1' }, operationName: 'Lead__crm__0' },
    context,
    incomingRequestContext: { operation: { operation: 'query' }, overallCachePolicy: { restrict: (hint: unknown) => hints.push(hint) } },
  });

  class ApolloWithCallerHeaders extends RemoteGraphQLDataSource {
    override willSendRequest({ request }: Parameters<NonNullable<RemoteGraphQLDataSource['willSendRequest']>>[0]) {
      for (const [name, value] of Object.entries({ [callerTokenHeader]: 'token', 'x-request-id': caller.requestId, 'x-gtm-public-url': 'http://gateway.test' })) request.http!.headers.set(name, value);
    }
    // As the gateway's own did before: a 4xx other than 401 passes through, the rest is unavailable.
    override didEncounterError(error: Error, _request: unknown, response?: { status: number }) {
      if (response && response.status >= 400 && response.status < 500 && response.status !== 401 && error instanceof GraphQLError) throw error;
      throw new GraphQLError('unavailable', { extensions: { code: 'UPSTREAM_UNAVAILABLE' } });
    }
  }

  it.each(Object.keys(answers))('%s', async (path) => {
    const ours = new SubgraphDataSource({ name: 'crm', url: `${origin}${path}`, agent, timeoutMs: 2_000 });
    const apollo = new ApolloWithCallerHeaders({ url: `${origin}${path}` });
    const ourHints: unknown[] = [];
    const apolloHints: unknown[] = [];
    requests.length = 0;
    const ourOutcome = await outcome(() => ours.process(optionsFor(ourHints) as never));
    const apolloOutcome = await outcome(() => apollo.process(optionsFor(apolloHints) as never));

    expect(ourOutcome).toEqual(apolloOutcome);
    expect(ourHints).toEqual(apolloHints);
    const [ourRequest, apolloRequest] = requests;
    expect(ourRequest!.body).toBe(apolloRequest!.body);
    for (const name of ['content-type', callerTokenHeader, 'x-request-id', 'x-gtm-public-url']) expect(ourRequest!.headers[name]).toBe(apolloRequest!.headers[name]);
  });

  it('answers UPSTREAM_UNAVAILABLE, naming the subgraph, when it cannot be reached', async () => {
    const unreachable = new SubgraphDataSource({ name: 'crm', url: 'http://127.0.0.1:1/graphql', agent, timeoutMs: 2_000 });
    await expect(unreachable.process(optionsFor([]) as never)).rejects.toMatchObject({ extensions: { code: 'UPSTREAM_UNAVAILABLE', service: 'crm' } });
  });
});
