// Requests that fail cleanly, through the whole stack: a client's mistake is answered with a code
// it can act on and nothing internal, and every unexpected error leaves exactly one error line
// with the request id the client was given.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { PassThrough } from 'node:stream';
import pg from 'pg';
import { startStack, type Stack } from './stack.js';

let stack: Stack;
const logLines: string[] = [];

beforeAll(async () => {
  const logs = new PassThrough();
  logs.on('data', (chunk: Buffer) => logLines.push(...chunk.toString('utf8').split('\n').filter(Boolean)));
  // Nothing listens on port 1: the host is only allowlisted, never fetched.
  stack = await startStack({ logDestination: logs, subgraphEnvironment: { content: { CONTENT_FETCH_ALLOWLIST: '127.0.0.1:1' } } });
});

afterAll(async () => {
  await stack?.close();
});

interface RawAnswer {
  status: number;
  requestId: string | null;
  // `any`: a test reads whatever the server sent and asserts on its shape.
  body: any;
}

async function post(body: unknown, headers: Record<string, string> = {}): Promise<RawAnswer> {
  const response = await fetch(stack.gatewayUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', authorization: `Bearer ${stack.apiKey}`, ...headers },
    body: JSON.stringify(body),
  });
  return { status: response.status, requestId: response.headers.get('x-request-id'), body: await response.json() };
}

/** Log lines (parsed) that carry this request id, once the services have written them. */
async function logsOf(requestId: string): Promise<Record<string, any>[]> {
  await new Promise((resolve) => setTimeout(resolve, 200));
  return logLines.filter((line) => line.includes(requestId)).map((line) => JSON.parse(line) as Record<string, any>);
}

const errorLevel = 50;

describe('a document whose operation cannot be determined', () => {
  it('is a 400 request error, not a 500, and is logged with its request id', async () => {
    const answer = await post({ query: 'query Leads { leads(first: 1) { edges { node { id } } } }', operationName: 'Campaigns' });
    expect(answer.status).toBe(400);
    expect(answer.body.data).toBeUndefined();
    expect(answer.body.errors).toEqual([
      {
        message: 'Unknown operation named "Campaigns": this document defines the operation "Leads". Send one of them as operationName.',
        extensions: { code: 'OPERATION_RESOLUTION_FAILURE' },
      },
    ]);
    const lines = await logsOf(answer.requestId!);
    expect(lines.some((line) => line['msg'] === 'refused a request whose operation could not be determined' && line['service'] === 'gateway')).toBe(true);
    expect(lines.filter((line) => line['level'] >= errorLevel)).toEqual([]);
  });

  it('answers two operations and no operationName the same way', async () => {
    const answer = await post({ query: 'query A { __typename } query B { __typename }' });
    expect(answer.status).toBe(400);
    expect(answer.body.errors[0].extensions.code).toBe('OPERATION_RESOLUTION_FAILURE');
    expect(answer.body.errors[0].message).toBe('This document defines 2 operations ("A", "B"): name the one to run in operationName.');
  });
});

describe('an unexpected error', () => {
  it('is masked for the client and logged exactly once, with the request id the client was given', async () => {
    // A real fault: the table the CRM reads is gone while it serves.
    const admin = new pg.Client({ connectionString: stack.setup.database.url });
    await admin.connect();
    try {
      await admin.query('alter table crm.lead rename to lead_moved_away');
      const answer = await post({ query: '{ leads(first: 1) { edges { node { id } } } }' });
      expect(answer.status).toBe(200);
      expect(answer.body.errors).toEqual([
        {
          message: `Internal server error. Quote request id ${answer.requestId} when reporting it.`,
          path: ['leads'],
          extensions: { code: 'INTERNAL_SERVER_ERROR', requestId: answer.requestId },
        },
      ]);
      const errorLines = (await logsOf(answer.requestId!)).filter((line) => line['level'] >= errorLevel);
      expect(errorLines).toHaveLength(1);
      expect(errorLines[0]).toMatchObject({ service: 'crm', requestId: answer.requestId, msg: 'unexpected error' });
      expect(JSON.stringify(errorLines[0]!['err'])).toMatch(/lead/);
    } finally {
      await admin.query('alter table crm.lead_moved_away rename to lead').catch(() => undefined);
      await admin.end();
    }
  });
});

describe('text PostgreSQL cannot store', () => {
  it('is BAD_USER_INPUT naming the field, in an inline argument and in a variable, with no error or stack trace logged', async () => {
    const inline = await post({ query: 'mutation { createCampaign(input: { websiteUrl: "https://example.com", name: "a\\u0000b" }) { id } }' });
    expect(inline.status).toBe(400);
    expect(inline.body.errors).toEqual([
      {
        message: 'input.name contains a NUL character (\\u0000), which cannot be stored. Remove it and send the request again.',
        extensions: { code: 'BAD_USER_INPUT', field: 'input.name' },
      },
    ]);
    const search = await post({ query: 'query Find($search: String) { leads(filter: { search: $search }) { edges { node { id } } } }', variables: { search: 'a\u0000' } });
    expect(search.status).toBe(400);
    expect(search.body.errors[0].extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'filter.search' });
    for (const answer of [inline, search]) {
      const lines = await logsOf(answer.requestId!);
      expect(lines.filter((line) => line['level'] >= 40)).toEqual([]);
      expect(JSON.stringify(lines)).not.toMatch(/DriverException|invalid message format|\bat \//);
    }
  });
});

describe('a campaign website analysis would always refuse', () => {
  it('is refused at creation with the code and reason analysis gives, unless the deployment allowlists it', async () => {
    for (const url of ['http://127.0.0.1:9', 'http://169.254.169.254/latest/meta-data', 'http://10.0.0.8']) {
      const analysis = await stack.gql('mutation ($url: String!) { analyzeWebsite(url: $url) { url } }', { url });
      const campaign = await stack.gql('mutation ($url: String!) { createCampaign(input: { websiteUrl: $url }) { id } }', { url });
      expect(campaign.errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
      expect(campaign.errors?.[0]?.extensions?.['code']).toBe(analysis.errors?.[0]?.extensions?.['code']);
      expect(campaign.errors?.[0]?.message).toBe(analysis.errors?.[0]?.message);
    }
    const allowlisted = await stack.gql('mutation { createCampaign(input: { websiteUrl: "http://127.0.0.1:1" }) { websiteUrl } }');
    expect(allowlisted.data).toEqual({ createCampaign: { websiteUrl: 'http://127.0.0.1:1' } });
  });
});
