// The content client against a local HTTP server that answers as content-service would, or not:
// what passes the boundary is typed, and anything else is content-service's failure, never a
// website read half right.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ContentClient } from './content.client.js';
import { ContentServiceError } from './website-context.js';

let server: Server;
let url: string;
/** What the server answers next, as a JSON-serialisable body. */
let answer: unknown;
let lastQuery: { query: string; variables: Record<string, unknown> } | null = null;

beforeAll(async () => {
  server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      lastQuery = JSON.parse(body) as typeof lastQuery;
      response.writeHead(200, { 'content-type': 'application/json' }).end(typeof answer === 'string' ? answer : JSON.stringify(answer));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const passage = { text: 'We close the books in two days.', pageUrl: 'https://acme.example/', heading: 'Close', score: 0.9 };
const website = { url: 'https://acme.example', title: 'Acme', summary: 'Month-end close.', analyzedAt: '2026-11-20T10:00:00.000Z', quality: { level: 'SUFFICIENT', score: 0.8, gaps: [] } };

function load(queries: string[]) {
  return new ContentClient({ url, timeoutMs: 2_000 }).forCaller('caller-token').load('https://acme.example', queries);
}

describe('ContentClient', () => {
  it('reads the analysis and each search of a website in one request', async () => {
    answer = { data: { _entities: [{ ...website, s0: [passage], s1: [] }] } };
    const context = await load(['pricing', 'customers']);
    expect(context).toEqual({
      url: 'https://acme.example',
      title: 'Acme',
      summary: 'Month-end close.',
      analyzedAt: new Date('2026-11-20T10:00:00.000Z'),
      quality: { level: 'SUFFICIENT', score: 0.8, gaps: [] },
      searches: { pricing: [passage], customers: [] },
    });
    expect(lastQuery?.variables).toMatchObject({ q0: 'pricing', q1: 'customers', representations: [{ __typename: 'Website', url: 'https://acme.example' }] });
  });

  it('refuses a website whose fields are not what content-service promises, naming the field', async () => {
    answer = { data: { _entities: [{ ...website, s0: [{ ...passage, score: 'high' }] }] } };
    await expect(load(['pricing'])).rejects.toThrow(ContentServiceError);
    await expect(load(['pricing'])).rejects.toThrow(/s0\.0\.score/);

    answer = { data: { _entities: [{ ...website, analyzedAt: 'yesterday' }] } };
    await expect(load(['pricing'])).rejects.toThrow(/analyzedAt/);

    answer = { data: { _entities: [{ ...website, quality: { level: 'SUFFICIENT' } }] } };
    await expect(load(['pricing'])).rejects.toThrow(/quality/);
  });

  it('refuses an answer that is no GraphQL response at all', async () => {
    answer = [1, 2, 3];
    await expect(load(['pricing'])).rejects.toThrow(/something other than a GraphQL response/);
    answer = { data: { _entities: 'Acme' } };
    await expect(load(['pricing'])).rejects.toThrow(/does not know https:\/\/acme\.example as a website/);
    answer = 'not json';
    await expect(load(['pricing'])).rejects.toThrow(/without JSON/);
  });
});
