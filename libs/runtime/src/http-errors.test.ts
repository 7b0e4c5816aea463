// What a client and the logs see when an HTTP step fails: real Express and Apollo servers on free
// ports, real HTTP, a logger whose lines the test reads.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from '@jest/globals';
import { ApolloServer } from '@apollo/server';
import { expressMiddleware } from '@as-integrations/express5';
import { captureLogs } from '@gtm/testing';
import express from 'express';
import { GraphQLError } from 'graphql';
import { useErrorMasking } from './error-masking.plugin.js';
import { apolloLoggerFrom, createHttpErrorHandler } from './http-errors.js';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

async function listen(app: express.Express): Promise<string> {
  const server = createServer(app);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const errorLevel = 50;

describe('createHttpErrorHandler', () => {
  it('answers a step that threw with the masked error as JSON, and logs it once with the request id', async () => {
    const logs = captureLogs();
    const app = express();
    app.post('/graphql', () => {
      throw new Error('connect ECONNREFUSED 10.0.0.5:5432 password=hunter2');
    });
    app.use(createHttpErrorHandler(logs.logger));
    const url = await listen(app);
    const response = await fetch(`${url}/graphql`, { method: 'POST', headers: { 'x-request-id': 'request-1' } });
    expect(response.status).toBe(500);
    const body = await response.text();
    expect(JSON.parse(body)).toEqual({
      errors: [{ message: 'Internal server error. Quote request id request-1 when reporting it.', extensions: { code: 'INTERNAL_SERVER_ERROR', requestId: 'request-1' } }],
    });
    expect(body).not.toMatch(/ECONNREFUSED|hunter2|at /);
    const errors = logs.entries().filter((entry) => (entry['level'] as number) >= errorLevel);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ requestId: 'request-1', msg: 'unexpected error', err: { message: expect.stringContaining('ECONNREFUSED') } });
  });

  it('gives a request without an id one, and echoes it', async () => {
    const logs = captureLogs();
    const app = express();
    app.get('/health', async () => {
      throw new Error('boom');
    });
    app.use(createHttpErrorHandler(logs.logger));
    const response = await fetch(`${await listen(app)}/health`);
    const requestId = response.headers.get('x-request-id');
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect((await response.json()).errors[0].extensions.requestId).toBe(requestId);
    expect(logs.entries().filter((entry) => entry['requestId'] === requestId)).toHaveLength(1);
  });

  it('answers a body that is not JSON with 400 BAD_REQUEST, not an HTML page, and logs no error', async () => {
    const logs = captureLogs();
    const app = express();
    app.post('/graphql', express.json(), (_request, response) => void response.json({ data: {} }));
    app.use(createHttpErrorHandler(logs.logger));
    const response = await fetch(`${await listen(app)}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query": ' });
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toMatch(/application\/json/);
    expect((await response.json()).errors[0].extensions.code).toBe('BAD_REQUEST');
    expect(logs.entries().filter((entry) => (entry['level'] as number) >= errorLevel)).toEqual([]);
  });
});

describe('useErrorMasking', () => {
  it('logs an error whose code nobody raised on purpose (a library’s own), since it masks it', async () => {
    const logs = captureLogs();
    const apollo = new ApolloServer<{ requestId: string }>({
      typeDefs: 'type Query { planned: String }',
      resolvers: {
        Query: {
          planned: () => {
            throw new GraphQLError('query planner: no plan for this selection', { extensions: { code: 'QUERY_PLANNING_FAILED' } });
          },
        },
      },
      logger: apolloLoggerFrom(logs.logger),
      plugins: [useErrorMasking<{ requestId: string }>({ requestIdOf: (context) => context.requestId, loggerOf: (context) => logs.logger.child({ requestId: context.requestId }) })],
    });
    await apollo.start();
    const app = express();
    app.use('/graphql', express.json(), expressMiddleware(apollo, { context: async () => ({ requestId: 'request-7' }) }));
    try {
      const response = await fetch(`${await listen(app)}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ planned }' }),
      });
      const body = await response.json();
      expect(body.errors[0]).toEqual({
        message: 'Internal server error. Quote request id request-7 when reporting it.',
        path: ['planned'],
        locations: [{ line: 1, column: 3 }],
        extensions: { code: 'INTERNAL_SERVER_ERROR', requestId: 'request-7' },
      });
      const errors = logs.entries().filter((entry) => (entry['level'] as number) >= errorLevel);
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatchObject({ requestId: 'request-7', code: 'QUERY_PLANNING_FAILED', msg: 'unexpected error' });
    } finally {
      await apollo.stop();
    }
  });
});
