// The client enrichment asks content-service's analyzeWebsite through, against a plain HTTP server
// speaking GraphQL over JSON in its place: what is sent, what is read back, its failures, and that
// one record after another does not open a connection each.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import { callerTokenHeader } from '@gtm/caller';
import { ContentServiceError, WebsiteAnalysisClient, passageQueries } from './website-analysis.client.js';

const analysis = {
  url: 'http://broadwayautobrokers.test/',
  domain: 'broadwayautobrokers.test',
  title: 'Broadway Auto Brokers',
  summary: 'A family-owned used car dealer.',
  quality: { level: 'SUFFICIENT', score: 0.9 },
  contacts: { emails: ['rosa@broadwayautobrokers.test'], phones: ['(305) 555-0100'], socialLinks: [] },
  teamMembers: [{ name: 'Rosa Delgado', title: 'Owner', pageUrl: 'http://broadwayautobrokers.test/about', email: null, phone: null, linkedinUrl: null }],
  pages: [{ url: 'http://broadwayautobrokers.test/', title: 'Home', kind: 'HOME' }],
  ...Object.fromEntries(passageQueries.map((_query, index) => [`s${index}`, [{ text: 'Family owned since 1970.', pageUrl: 'http://broadwayautobrokers.test/about', heading: 'Our story', score: 1 }]])),
};

let server: Server;
let url: string;
let connections = 0;
let received: Array<{ headers: IncomingMessage['headers']; body: { query: string; variables: Record<string, unknown> } }> = [];
let answer: (response: ServerResponse) => void;

beforeAll(async () => {
  server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    request.on('end', () => {
      received.push({ headers: request.headers, body: JSON.parse(body) });
      answer(response);
    });
  });
  server.on('connection', () => (connections += 1));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});
beforeEach(() => {
  received = [];
  connections = 0;
  answer = (response) => response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data: { analyzeWebsite: analysis } }));
});

describe('asking content-service for a website’s analysis', () => {
  test('sends the caller’s token and the site, and reads the analysis with its passages once each', async () => {
    const client = new WebsiteAnalysisClient({ url, timeoutMs: 5_000, maxConcurrency: 4 });
    const website = await client.analyze('caller-token', 'http://broadwayautobrokers.test/');

    expect(received[0]!.headers[callerTokenHeader]).toBe('caller-token');
    expect(received[0]!.body.variables).toMatchObject({ url: 'http://broadwayautobrokers.test/', limit: 4, q0: passageQueries[0] });
    expect(website).toMatchObject({ domain: 'broadwayautobrokers.test', qualityLevel: 'SUFFICIENT', teamMembers: [expect.objectContaining({ name: 'Rosa Delgado' })] });
    expect(website.passages).toEqual([{ text: 'Family owned since 1970.', pageUrl: 'http://broadwayautobrokers.test/about', heading: 'Our story', score: 1 }]);
  });

  test('one record after another goes over the connection already open', async () => {
    const client = new WebsiteAnalysisClient({ url, timeoutMs: 5_000, maxConcurrency: 4 });
    for (let record = 0; record < 20; record += 1) await client.analyze('caller-token', 'http://broadwayautobrokers.test/');

    expect(received).toHaveLength(20);
    // The second call may start before the first one's connection is back in the pool.
    expect(connections).toBeLessThanOrEqual(2);
  });

  test('a refused token is not worth retrying; an answer that is not GraphQL, or no answer, is', async () => {
    const client = new WebsiteAnalysisClient({ url, timeoutMs: 5_000, maxConcurrency: 4 });
    answer = (response) => response.writeHead(401).end('{"errors":[{"message":"expired"}]}');
    await expect(client.analyze('caller-token', 'http://broadwayautobrokers.test/')).rejects.toMatchObject({ name: 'ContentServiceError', isRetryable: false });

    answer = (response) => response.writeHead(502, { 'content-type': 'text/html' }).end('<h1>Bad gateway</h1>');
    await expect(client.analyze('caller-token', 'http://broadwayautobrokers.test/')).rejects.toMatchObject({
      message: 'content-service answered 502 with something other than a GraphQL response',
      isRetryable: true,
    });

    const down = new WebsiteAnalysisClient({ url: 'http://127.0.0.1:9/graphql', timeoutMs: 5_000, maxConcurrency: 4 });
    const failure = await down.analyze('caller-token', 'http://broadwayautobrokers.test/').catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ContentServiceError);
    expect(failure).toMatchObject({ isRetryable: true, message: expect.stringMatching(/^content-service did not answer/) });
  });
});
