// Requests that fail cleanly, through the whole stack: a client's mistake is answered with a code
// it can act on and nothing internal, and every unexpected error leaves exactly one error line
// with the request id the client was given.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import pg from 'pg';
import { startStack, type Stack } from './stack.js';

let stack: Stack;
let graphiqlAssets: string | undefined;
const logLines: string[] = [];

beforeAll(async () => {
  const logs = new PassThrough();
  logs.on('data', (chunk: Buffer) => logLines.push(...chunk.toString('utf8').split('\n').filter(Boolean)));
  // GraphiQL's page is what is tested, not its script: stand-in assets do.
  graphiqlAssets = await mkdtemp(join(tmpdir(), 'graphiql-assets-'));
  await Promise.all([writeFile(join(graphiqlAssets, 'graphiql.js'), '// script'), writeFile(join(graphiqlAssets, 'graphiql.css'), '/* style */')]);
  stack = await startStack({
    logDestination: logs,
    // Nothing listens on port 1: the host is only allowlisted, never fetched.
    subgraphEnvironment: { content: { CONTENT_FETCH_ALLOWLIST: '127.0.0.1:1' } },
    // Every interface, as in a container: clients from other machines reach it too.
    gatewayEnvironment: { GATEWAY_HOST: '0.0.0.0', GRAPHIQL_ASSETS_PATH: graphiqlAssets },
  });
});

afterAll(async () => {
  await stack?.close();
  if (graphiqlAssets) await rm(graphiqlAssets, { recursive: true, force: true });
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

describe('HTTP keep-alive', () => {
  it('keeps an idle client connection open past Node’s 5 s and longer than a balancer’s 60 s idle timeout', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const ask = () =>
      new Promise<{ status: number; reusedSocket: boolean; localPort: number; keepAlive: string }>((resolve, reject) => {
        const request = http.request(
          stack.gatewayUrl,
          { method: 'POST', agent, headers: { 'content-type': 'application/json', authorization: `Bearer ${stack.apiKey}` } },
          (response) => {
            response.resume();
            response.on('end', () =>
              resolve({ status: response.statusCode!, reusedSocket: request.reusedSocket, localPort: request.socket!.localPort!, keepAlive: String(response.headers['keep-alive']) }),
            );
          },
        );
        request.on('error', reject);
        request.end(JSON.stringify({ query: '{ __typename }' }));
      });
    try {
      const first = await ask();
      expect(first.status).toBe(200);
      // What the gateway tells clients: the default, above a balancer's 60 s.
      expect(first.keepAlive).toBe('timeout=65');
      await new Promise((resolve) => setTimeout(resolve, 6_000));
      const second = await ask();
      expect(second.status).toBe(200);
      expect(second.reusedSocket).toBe(true);
      expect(second.localPort).toBe(first.localPort);
    } finally {
      agent.destroy();
    }
  });
});

/** GraphiQL's page as a browser at `host` gets it, with extra request headers. */
function graphiqlPage(host: string, headers: Record<string, string> = {}): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const port = new URL(stack.gatewayUrl).port;
    const request = http.request({ host, port, path: '/graphql', headers: { accept: 'text/html', ...headers } }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => (response.statusCode === 200 ? resolve(body) : reject(new Error(`GraphiQL answered ${response.statusCode}`))));
    });
    request.on('error', reject);
    request.end();
  });
}

describe('the development key in GraphiQL', () => {
  it('is offered to a browser on this machine only, judged by the connection, also when listening on every interface', async () => {
    expect(await graphiqlPage('127.0.0.1')).toContain(stack.apiKey);

    // This machine's address on its network: the connection no longer comes from loopback.
    const networkAddress = Object.values(networkInterfaces())
      .flat()
      .find((address) => address && !address.internal && address.family === 'IPv4')?.address;
    if (!networkAddress) throw new Error('this test needs a network interface besides loopback');
    const remote = await graphiqlPage(networkAddress);
    expect(remote).not.toContain(stack.apiKey);
    // The page escapes `<` in its embedded JSON.
    expect(remote).toContain('Bearer \\u003cyour API key>');
    // What a request says about itself changes nothing.
    expect(await graphiqlPage(networkAddress, { host: 'localhost', origin: 'http://localhost:4000' })).not.toContain(stack.apiKey);
    // A proxy on this machine forwards browsers from anywhere.
    expect(await graphiqlPage('127.0.0.1', { 'x-forwarded-for': '198.51.100.7' })).not.toContain(stack.apiKey);
    expect(await graphiqlPage('127.0.0.1', { forwarded: 'for=198.51.100.7' })).not.toContain(stack.apiKey);
  });
});
