// What the gateway sends a subgraph with each fetch: the caller's token always, the longer-lived
// delegation token only with mutations to the subgraphs configured to start background work.
import { describe, expect, it } from '@jest/globals';
import { callerDelegationHeader, callerTokenHeader, createCallerTokenSigner } from '@gtm/caller';
import { createLogger } from '@gtm/runtime';
import { createTestCaller, createTestCallerKeys } from '@gtm/testing';
import { decodeJwt } from 'jose';
import { createSubgraphAgent, SubgraphDataSource } from './subgraph-data-source.js';

async function headersSent(options: { delegatesCaller: boolean; operation: 'query' | 'mutation' }) {
  const keys = await createTestCallerKeys();
  const delegationSigner = await createCallerTokenSigner({ privateKeyPem: keys.keys.privateKeyPem, ttlSeconds: 3_600, delegated: true });
  const caller = createTestCaller();
  const agent = createSubgraphAgent();
  const dataSource = new SubgraphDataSource({ name: 'enrichment', url: 'http://127.0.0.1:1/graphql', agent, timeoutMs: 1_000, delegatesCaller: options.delegatesCaller });
  const headers = new Map<string, string>();
  let signed = 0;
  await dataSource.willSendRequest({
    kind: 0,
    request: { query: '{ __typename }', http: { method: 'POST', url: '', headers: { set: (name: string, value: string) => headers.set(name, value) } } },
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
  return { headers, signed, verifier: keys.verifier, caller };
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
