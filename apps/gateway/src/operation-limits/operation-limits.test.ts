// Every limit through real HTTP: an ApolloServer with a schema shaped like the supergraph (Relay
// connections with `first`), behind the request-limits middleware, as the gateway mounts them.
// The limits are the defaults from the environment schema, so these tests also pin the defaults.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { expressMiddleware } from '@as-integrations/express5';
import { parseEnvironment } from '@gtm/runtime';
import express from 'express';
import { getIntrospectionQuery } from 'graphql';
import { operationLimitsEnvironmentSchema, operationLimitsFrom, type OperationLimits } from './operation-limits.config.js';
import { useOperationLimits } from './operation-limits.plugin.js';
import { requestLimits } from './request-limits.middleware.js';

const typeDefs = `#graphql
  type Query { leads(first: Int, after: String): LeadConnection! }
  type PageInfo { hasNextPage: Boolean! endCursor: String }
  type LeadConnection { edges: [LeadEdge!]! pageInfo: PageInfo! totalCount: Int! }
  type LeadEdge { node: Lead! cursor: String! }
  type Lead { id: ID! email: String! company: Company! }
  type Company { id: ID! name: String! leads(first: Int, after: String): LeadConnection! }
`;

interface LeadRow {
  id: string;
  email: string;
}

// Counts resolver calls so a test can show that a refused operation fetched nothing.
let connectionsResolved = 0;

function connection(prefix: string, first: number | null | undefined) {
  connectionsResolved += 1;
  const count = Math.min(first ?? 20, 100);
  return {
    edges: Array.from({ length: count }, (_, index) => ({ cursor: String(index), node: { id: `${prefix}-${index}`, email: `lead${index}@example.com` } })),
    pageInfo: { hasNextPage: false, endCursor: null },
    totalCount: count,
  };
}

const resolvers = {
  Query: { leads: (_source: unknown, { first }: { first?: number | null }) => connection('lead', first) },
  Lead: { company: (lead: LeadRow) => ({ id: `company-of-${lead.id}`, name: 'Acme' }) },
  Company: { leads: (company: { id: string }, { first }: { first?: number | null }) => connection(company.id, first) },
};

interface RunningServer {
  url: string;
  close(): Promise<void>;
}

async function startServer(limits: OperationLimits, batchedRequestsAllowed: boolean): Promise<RunningServer> {
  const app = express();
  const httpServer = createServer(app);
  const apollo = new ApolloServer({
    typeDefs,
    resolvers,
    introspection: true,
    allowBatchedHttpRequests: batchedRequestsAllowed,
    plugins: [ApolloServerPluginDrainHttpServer({ httpServer }), useOperationLimits(limits)],
  });
  await apollo.start();
  app.use('/graphql', ...requestLimits({ ...limits, batchedRequestsAllowed }), expressMiddleware(apollo));
  await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
  const { port } = httpServer.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/graphql`, close: () => apollo.stop() };
}

interface GraphqlReply {
  status: number;
  contentType: string;
  // `any`: a test reads whatever the server sent and asserts on its shape.
  body: any;
}

async function postRaw(url: string, body: BodyInit, headers: Record<string, string> = {}): Promise<GraphqlReply> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body, duplex: 'half' } as RequestInit);
  const text = await response.text();
  const contentType = response.headers.get('content-type') ?? '';
  return { status: response.status, contentType, body: contentType.includes('json') ? JSON.parse(text) : text };
}

const post = (url: string, payload: unknown) => postRaw(url, JSON.stringify(payload));

function expectRefused(reply: GraphqlReply, limit: string, maximum: number, actual: number): void {
  expect(reply.status).toBe(400);
  expect(reply.contentType).toContain('json');
  expect(reply.body.data).toBeUndefined();
  expect(reply.body.errors).toHaveLength(1);
  const [error] = reply.body.errors;
  // `extensions.http` only sets the status; it must not reach the client.
  expect(error.extensions).toEqual({ code: 'OPERATION_LIMIT_EXCEEDED', limit, maximum, actual });
  expect(error.message).toContain(`the maximum is ${maximum}`);
  expect(error.message).toContain(String(actual));
}

function expectAnswered(reply: GraphqlReply): void {
  expect(reply.body.errors).toBeUndefined();
  expect(reply.status).toBe(200);
}

// Field levels that can follow each other forever: leads → edges → node → company → leads …,
// each with a leaf of the same type for when the chain stops there (Query, at the start only, has none).
const chain = [
  { field: 'leads(first: 1)', leaf: 'id' },
  { field: 'edges', leaf: 'totalCount' },
  { field: 'node', leaf: 'cursor' },
  { field: 'company', leaf: 'id' },
];

/** A selection exactly `levels` deep, starting at chain position `start`. */
function nested(levels: number, start = 0): string {
  const step = chain[start % chain.length];
  if (!step) throw new Error('unreachable: the index is taken modulo the chain length');
  return levels === 1 ? step.leaf : `${step.field} { ${nested(levels - 1, start + 1)} }`;
}

/** An operation `levels` deep: leads, edges, node, then the fragment's levels. */
const deepThroughFragment = (levels: number) => `{ leads(first: 1) { edges { node { ...Deep } } } } fragment Deep on Lead { ${nested(levels - 3, 3)} }`;

/** Introspection 8 levels deep plus the levels of `leaf`. */
const deepIntrospection = (leaf: string) => `{ __schema { types { fields { args { type { fields { args { type { ${leaf} } } } } } } } } }`;

const aliased = (count: number) => Array.from({ length: count }, (_, index) => `a${index}: id`).join(' ');

/** An operation padded with a GraphQL comment to exactly `bytes` bytes of JSON. */
function bodyOfSize(bytes: number): string {
  const prefix = '{"query":"{ leads(first: 1) { totalCount } }\\n#';
  const suffix = '"}';
  return `${prefix}${'x'.repeat(bytes - prefix.length - suffix.length)}${suffix}`;
}

const operations = (count: number) => Array.from({ length: count }, (_, index) => ({ query: `query Q${index} { leads(first: 1) { totalCount } }` }));

const limits = operationLimitsFrom(parseEnvironment(operationLimitsEnvironmentSchema, {}));
let server: RunningServer;
let batchingServer: RunningServer;

beforeAll(async () => {
  server = await startServer(limits, false);
  batchingServer = await startServer(limits, true);
});

afterAll(async () => {
  await server?.close();
  await batchingServer?.close();
});

describe('configuration', () => {
  it('defaults to depth 12, 30 aliases, cost 5000, batches of 10 and 1 MiB bodies', () => {
    expect(limits).toEqual({ maximumDepth: 12, maximumAliases: 30, maximumCost: 5_000, maximumBatchLength: 10, maximumBodyBytes: 1_048_576 });
  });

  it('reads each limit from its variable and refuses nonsense, naming the variable', () => {
    const environment = { MAX_QUERY_DEPTH: '8', MAX_ALIASES: '0', MAX_QUERY_COST: '900', MAX_BATCH_LENGTH: '2', MAX_BODY_BYTES: '65536' };
    expect(operationLimitsFrom(parseEnvironment(operationLimitsEnvironmentSchema, environment))).toEqual({
      maximumDepth: 8,
      maximumAliases: 0,
      maximumCost: 900,
      maximumBatchLength: 2,
      maximumBodyBytes: 65_536,
    });
    expect(() => parseEnvironment(operationLimitsEnvironmentSchema, { MAX_QUERY_DEPTH: 'deep' })).toThrow(/MAX_QUERY_DEPTH/);
    expect(() => parseEnvironment(operationLimitsEnvironmentSchema, { MAX_BODY_BYTES: '10' })).toThrow(/MAX_BODY_BYTES/);
  });
});

describe('depth', () => {
  it('answers an operation exactly 12 levels deep and refuses 13, before resolving anything', async () => {
    expectAnswered(await post(server.url, { query: `{ ${nested(12)} }` }));

    const resolvedBefore = connectionsResolved;
    const reply = await post(server.url, { query: `{ ${nested(13)} }` });
    expectRefused(reply, 'depth', 12, 13);
    expect(reply.body.errors[0].message).toBe('This operation is 13 levels deep; the maximum is 12. Split it or ask for fewer nested fields.');
    expect(connectionsResolved).toBe(resolvedBefore);
  });

  it('follows fragments', async () => {
    expectAnswered(await post(server.url, { query: deepThroughFragment(12) }));
    expectRefused(await post(server.url, { query: deepThroughFragment(13) }), 'depth', 12, 13);
  });

  it('lets the standard introspection query of tools and GraphiQL through', async () => {
    const standard = await post(server.url, { query: getIntrospectionQuery({ descriptions: true, inputValueDeprecation: true, specifiedByUrl: true }) });
    expectAnswered(standard);
    expect(standard.body.data['__schema'].types.length).toBeGreaterThan(5);
  });

  it('counts introspection fields like any other', async () => {
    // graphql's own MaxIntrospectionDepthRule allows two nested `fields` lists, which keeps
    // introspection under 12 levels; a server with a lower limit shows the levels are counted.
    const strict = await startServer({ ...limits, maximumDepth: 9 }, false);
    try {
      expectAnswered(await post(strict.url, { query: deepIntrospection('name') }));
      expectRefused(await post(strict.url, { query: deepIntrospection('enumValues { name }') }), 'depth', 9, 10);
    } finally {
      await strict.close();
    }
  });

  it('answers a fragment cycle with the validation error, and keeps serving', async () => {
    const reply = await post(server.url, {
      query: '{ leads { edges { node { ...A } } } } fragment A on Lead { company { leads { edges { node { ...A } } } } }',
    });
    expect(reply.status).toBe(400);
    expect(reply.body.errors[0].extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(reply.body.errors[0].message).toContain('Cannot spread fragment "A" within itself');
    expectAnswered(await post(server.url, { query: '{ leads(first: 1) { totalCount } }' }));
  });
});

describe('aliases', () => {
  it('answers 30 aliases and refuses 31', async () => {
    expectAnswered(await post(server.url, { query: `{ leads(first: 1) { edges { node { ${aliased(30)} } } } }` }));
    expectRefused(await post(server.url, { query: `{ leads(first: 1) { edges { node { ${aliased(31)} } } } }` }), 'aliases', 30, 31);
  });

  it('counts the aliases of a fragment every place it is spread', async () => {
    const query = `{ leads(first: 1) { edges { node { ...Aliased company { leads(first: 1) { edges { node { ...Aliased } } } } } } } }
      fragment Aliased on Lead { ${aliased(16)} }`;
    expectRefused(await post(server.url, { query }), 'aliases', 30, 32);
  });
});

describe('cost', () => {
  // leads 1 + edges (1 + n × (node 1 + id 1 + company (1 + leads 1 + edges (1 + m × (node 1 + id 1)))))
  //   = 2 + n × (5 + 2m)
  const query = `query Leads($n: Int, $m: Int) {
    leads(first: $n) { edges { node { id company { leads(first: $m) { edges { node { id } } } } } } }
  }`;

  it('prices page sizes from the variables: the same document is answered at cost 5000 and refused at 5068', async () => {
    const answered = await post(server.url, { query, variables: { n: 34, m: 71 } });
    expectAnswered(answered);
    expect(answered.body.data.leads.edges).toHaveLength(34);

    const resolvedBefore = connectionsResolved;
    const refused = await post(server.url, { query, variables: { n: 34, m: 72 } });
    expectRefused(refused, 'cost', 5_000, 5_068);
    expect(refused.body.errors[0].message).toBe(
      'This operation has an estimated cost of 5068; the maximum is 5000. Ask for smaller pages (first/last) or fewer nested lists, or split it into several operations.',
    );
    expect(connectionsResolved).toBe(resolvedBefore);
  });

  it('assumes 20 per page when no page size is given, and at most 100 whatever is asked', async () => {
    expectAnswered(await post(server.url, { query })); // 2 + 20 × 45 = 902
    expectRefused(await post(server.url, { query, variables: { n: 1_000_000, m: 1_000_000 } }), 'cost', 5_000, 2 + 100 * 205);
  });
});

describe('body size', () => {
  it('answers a body of exactly 1 MiB and refuses one byte more with a JSON error, not an HTML page', async () => {
    expectAnswered(await postRaw(server.url, bodyOfSize(1_048_576)));
    const reply = await postRaw(server.url, bodyOfSize(1_048_577));
    expectRefused(reply, 'body', 1_048_576, 1_048_577);
    expect(reply.body.errors[0].message).toBe('This request body is 1048577 bytes; the maximum is 1048576 bytes. Send a smaller document or smaller variables.');
  });

  it('refuses a streamed body without Content-Length once it passes the limit', async () => {
    const oversized = new TextEncoder().encode(bodyOfSize(1_200_000));
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let offset = 0; offset < oversized.length; offset += 64 * 1_024) controller.enqueue(oversized.subarray(offset, offset + 64 * 1_024));
        controller.close();
      },
    });
    const reply = await postRaw(server.url, stream);
    expect(reply.status).toBe(400);
    expect(reply.body.errors[0].extensions).toMatchObject({ code: 'OPERATION_LIMIT_EXCEEDED', limit: 'body', maximum: 1_048_576 });
    expect(reply.body.errors[0].extensions.actual).toBeGreaterThan(1_048_576);
    expect(reply.body.errors[0].message).toMatch(/^This request body is at least \d+ bytes; the maximum is 1048576 bytes\./);
  });

  it('answers malformed JSON with a JSON BAD_REQUEST error', async () => {
    const reply = await postRaw(server.url, '{"query": ');
    expect(reply.status).toBe(400);
    expect(reply.contentType).toContain('json');
    expect(reply.body.errors[0].extensions).toEqual({ code: 'BAD_REQUEST' });
    expect(reply.body.errors[0].message).toMatch(/^The request body is not valid JSON/);
  });
});

describe('batches', () => {
  it('refuses a batch longer than 10 as the batch limit', async () => {
    expectRefused(await post(server.url, operations(11)), 'batch', 10, 11);
    expectRefused(await post(batchingServer.url, operations(11)), 'batch', 10, 11);
  });

  it('says batching is not supported when the server does not batch', async () => {
    const reply = await post(server.url, operations(2));
    expect(reply.status).toBe(400);
    expect(reply.body.errors[0].extensions).toEqual({ code: 'BAD_REQUEST' });
    expect(reply.body.errors[0].message).toContain('Batched requests (a JSON array of operations) are not supported');
  });

  it('passes a batch of 10 through when batching is on', async () => {
    const reply = await post(batchingServer.url, operations(10));
    expect(reply.status).toBe(200);
    expect(reply.body).toHaveLength(10);
    expect(reply.body[9]).toEqual({ data: { leads: { totalCount: 1 } } });
  });
});
