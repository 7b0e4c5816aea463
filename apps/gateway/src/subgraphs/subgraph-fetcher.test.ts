// A subgraph's answer as the fetcher hands it to Apollo: its headers read as WHATWG `Headers` reads them.
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSubgraphAgent } from './subgraph-data-source.js';
import { createSubgraphFetcher } from './subgraph-fetcher.js';

let server: Server;
let url: string;
const agent = createSubgraphAgent();

beforeAll(async () => {
  server = createServer((_request, response) => {
    response.setHeader('Content-Type', 'application/json; charset=utf-8');
    response.setHeader('Cache-Control', 'max-age=0, private');
    response.setHeader('Set-Cookie', ['first=1; Path=/', 'second=2; Path=/']);
    response.setHeader('X-Repeated', ['a', 'b']);
    response.end(JSON.stringify({ data: { ok: true } }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
});

afterAll(async () => {
  await agent.close();
  await new Promise((resolve) => server.close(resolve));
});

// Each answer carries its own date.
const withoutDate = (entries: [string, string][]) => entries.filter(([name]) => name !== 'date');

it("reads an answer's headers as WHATWG Headers reads them, and its body as JSON", async () => {
  const fetcher = createSubgraphFetcher({ agent, timeoutMs: 1_000, scope: () => undefined });
  const answer = await fetcher(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ ok }"}' });
  // The same answer through WHATWG fetch, whose Headers the fetcher's used to be.
  const reference = (await fetch(url, { method: 'POST', body: '{"query":"{ ok }"}' })).headers;

  expect(await answer.json()).toEqual({ data: { ok: true } });
  expect(answer.headers.get('Content-Type')).toBe('application/json; charset=utf-8');
  expect(answer.headers.get('cache-control')).toBe('max-age=0, private');
  expect(answer.headers.get('X-REPEATED')).toBe('a, b');
  expect(answer.headers.get('set-cookie')).toBe(reference.get('set-cookie'));
  expect(answer.headers.get('x-absent')).toBeNull();
  expect(answer.headers.get('constructor')).toBeNull();
  expect(answer.headers.has('content-length')).toBe(true);
  expect(withoutDate([...answer.headers])).toEqual(withoutDate([...reference]));
  expect(reference.getSetCookie()).toEqual(['first=1; Path=/', 'second=2; Path=/']);

  answer.headers.append('X-Repeated', 'c');
  answer.headers.set('x-new', 'value');
  answer.headers.delete('cache-control');
  expect(answer.headers.get('x-repeated')).toBe('a, b, c');
  expect(answer.headers.get('x-new')).toBe('value');
  expect(answer.headers.has('Cache-Control')).toBe(false);
});
