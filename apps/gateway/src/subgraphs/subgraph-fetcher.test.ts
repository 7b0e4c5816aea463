// The subgraph fetcher: an answer read whole, identical fetches of one merge key sent once while in
// flight, and a fetch cut off at its operation's deadline.
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSubgraphAgent } from './subgraph-data-source.js';
import { createSubgraphFetcher } from './subgraph-fetcher.js';

let server: Server;
let url: string;
const agent = createSubgraphAgent();
const received: string[] = [];
// Answers wait until released, so fetches are in flight together.
let release: () => void = () => {};
let released = Promise.resolve();
const holdAnswers = () => (released = new Promise((resolve) => (release = resolve)));

beforeAll(async () => {
  server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', async () => {
      received.push(body);
      if (body.includes('stall')) return;
      await released;
      response.setHeader('Content-Type', 'application/json; charset=utf-8');
      response.setHeader('X-Repeated', ['a', 'b']);
      response.end(JSON.stringify({ data: { echo: body, answer: received.length } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
});

afterAll(async () => {
  await agent.close();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const fetcher = createSubgraphFetcher({ agent, timeoutMs: 2_000 });
const fetchOf = (body: string, mergeKey?: string) => fetcher({ url, headers: { 'content-type': 'application/json' }, body, ...(mergeKey === undefined ? {} : { mergeKey }) });

it("reads an answer whole: status, undici's headers, body", async () => {
  const answer = await fetchOf('{"query":"{ ok }"}');
  expect(answer.status).toBe(200);
  expect(answer.headers['content-type']).toBe('application/json; charset=utf-8');
  expect(answer.headers['x-repeated']).toEqual(['a', 'b']);
  expect(JSON.parse(answer.body.toString())).toMatchObject({ data: { echo: '{"query":"{ ok }"}' } });
});

it('sends identical fetches of one merge key once while in flight, and never merges across keys or without one', async () => {
  received.length = 0;
  holdAnswers();
  const fetches = [fetchOf('{"query":"{ a }"}', 'caller-1'), fetchOf('{"query":"{ a }"}', 'caller-1'), fetchOf('{"query":"{ a }"}', 'caller-2'), fetchOf('{"query":"{ b }"}', 'caller-1'), fetchOf('{"query":"{ a }"}'), fetchOf('{"query":"{ a }"}')];
  await new Promise((resolve) => setTimeout(resolve, 100));
  release();
  const answers = await Promise.all(fetches);
  expect(received).toHaveLength(5);
  expect(answers[1]).toBe(answers[0]);
  for (const other of answers.slice(2)) expect(other).not.toBe(answers[0]);
  expect(answers[4]).not.toBe(answers[5]);

  // Once answered, the same fetch goes out again: an answer is never kept for a later request.
  const later = await fetchOf('{"query":"{ a }"}', 'caller-1');
  expect(received).toHaveLength(6);
  expect(later).not.toBe(answers[0]);
});

it("ends a fetch at its operation's deadline when that comes before the subgraph timeout", async () => {
  const startedAt = performance.now();
  const stalled = fetcher({ url, headers: {}, body: '{"query":"{ stall }"}', deadline: startedAt + 150 });
  await expect(stalled).rejects.toMatchObject({ name: 'TimeoutError', message: expect.stringMatching(/^the subgraph did not answer within 1\d\d ms$/) });
});
