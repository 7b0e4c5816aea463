// The client enrichment asks content-service's analyzeWebsite through, against a plain HTTP server
// speaking GraphQL over JSON in its place: what is sent, what is read back, its failures, and that
// one record after another does not open a connection each.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import { callerTokenHeader } from '@gtm/caller';
import { startRecordingHttpServer, type RecordingHttpServer } from '@gtm/testing';
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

let server: RecordingHttpServer;
let url: string;
const answerAnalysis = (_request: IncomingMessage, response: ServerResponse) =>
  response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data: { analyzeWebsite: analysis } }));
const bodyOf = (index: number) => JSON.parse(server.requests[index]!.body) as { variables: Record<string, unknown> };

beforeAll(async () => {
  server = await startRecordingHttpServer(answerAnalysis);
  url = `${server.origin}/graphql`;
});
afterAll(() => server.close());
beforeEach(() => {
  server.reset();
  server.answerWith(answerAnalysis);
});

describe('asking content-service for a website’s analysis', () => {
  test('sends the caller’s token and the site, and reads the analysis with its passages once each', async () => {
    const client = new WebsiteAnalysisClient({ url, timeoutMs: 5_000, maxConcurrency: 4 });
    const website = await client.analyze('caller-token', 'http://broadwayautobrokers.test/');

    expect(server.requests[0]!.headers[callerTokenHeader]).toBe('caller-token');
    expect(bodyOf(0).variables).toMatchObject({ url: 'http://broadwayautobrokers.test/', limit: 4, q0: passageQueries[0] });
    expect(website).toMatchObject({ domain: 'broadwayautobrokers.test', qualityLevel: 'SUFFICIENT', teamMembers: [expect.objectContaining({ name: 'Rosa Delgado' })] });
    expect(website.passages).toEqual([{ text: 'Family owned since 1970.', pageUrl: 'http://broadwayautobrokers.test/about', heading: 'Our story', score: 1 }]);
  });

  test('one record after another goes over the connection already open', async () => {
    const client = new WebsiteAnalysisClient({ url, timeoutMs: 5_000, maxConcurrency: 4 });
    for (let record = 0; record < 20; record += 1) await client.analyze('caller-token', 'http://broadwayautobrokers.test/');

    expect(server.requests).toHaveLength(20);
    // The second call may start before the first one's connection is back in the pool.
    expect(server.connections).toBeLessThanOrEqual(2);
  });

  test('a refused token is not worth retrying; an answer that is not GraphQL, or no answer, is', async () => {
    const client = new WebsiteAnalysisClient({ url, timeoutMs: 5_000, maxConcurrency: 4 });
    server.answerWith((_request, response) => response.writeHead(401).end('{"errors":[{"message":"expired"}]}'));
    await expect(client.analyze('caller-token', 'http://broadwayautobrokers.test/')).rejects.toMatchObject({ name: 'ContentServiceError', isRetryable: false });

    server.answerWith((_request, response) => response.writeHead(502, { 'content-type': 'text/html' }).end('<h1>Bad gateway</h1>'));
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
