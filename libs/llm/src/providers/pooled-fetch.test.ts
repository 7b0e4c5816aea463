import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import { startRecordingHttpServer, type RecordingHttpServer } from '@gtm/testing';
import { Agent } from 'undici';
import { createPooledFetch } from './pooled-fetch.js';

// A plain HTTP server stands for a model API: what the SDKs send and read is HTTP, whoever answers.
let server: RecordingHttpServer;
let origin: string;
const answerJson = (_request: IncomingMessage, response: ServerResponse) => {
  response.setHeader('content-type', 'application/json');
  response.setHeader('x-request-id', 'req_1');
  response.end(JSON.stringify({ id: 'chatcmpl-1', answer: 'Acme' }));
};

beforeAll(async () => {
  server = await startRecordingHttpServer(answerJson);
  origin = server.origin;
});
afterAll(() => server.close());
beforeEach(() => {
  server.reset();
  server.answerWith(answerJson);
});

describe('the model clients’ fetch', () => {
  test('sends the method, headers and body, and answers the status, headers and body as fetch does', async () => {
    const pooledFetch = createPooledFetch();
    const response = await pooledFetch(`${origin}/v1/chat/completions`, {
      method: 'POST',
      headers: new Headers({ 'Content-Type': 'application/json', Authorization: 'Bearer sk-test' }),
      body: JSON.stringify({ model: 'gpt-5-mini' }),
    });

    expect(response.status).toBe(200);
    expect(response.ok).toBe(true);
    expect(response.headers.get('x-request-id')).toBe('req_1');
    expect(await response.json()).toEqual({ id: 'chatcmpl-1', answer: 'Acme' });
    expect(server.requests).toEqual([expect.objectContaining({ method: 'POST', url: '/v1/chat/completions', body: '{"model":"gpt-5-mini"}' })]);
    expect(server.requests[0]!.headers).toMatchObject({ 'content-type': 'application/json', authorization: 'Bearer sk-test' });
  });

  test('keeps its connections open: twenty calls one after another do not make twenty connections', async () => {
    const pooledFetch = createPooledFetch(new Agent({ keepAliveTimeout: 30_000 }));
    for (let call = 0; call < 20; call += 1) await (await pooledFetch(`${origin}/v1/models`, { headers: { accept: 'application/json' } })).json();

    expect(server.requests).toHaveLength(20);
    // The second call may start before the first one's connection is back in the pool.
    expect(server.connections).toBeLessThanOrEqual(2);
  });

  test('answers an error status with its body, and a body-less status without one', async () => {
    const pooledFetch = createPooledFetch();
    server.answerWith((request, response) => {
      if (request.url === '/empty') return void response.writeHead(204).end();
      response.writeHead(429, { 'retry-after': '2', 'content-type': 'application/json' }).end('{"error":{"message":"Rate limit reached"}}');
    });

    const limited = await pooledFetch(`${origin}/v1/chat/completions`, { method: 'POST', body: '{}' });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('2');
    expect(await limited.json()).toEqual({ error: { message: 'Rate limit reached' } });
    const empty = await pooledFetch(`${origin}/empty`);
    expect(empty.status).toBe(204);
    expect(empty.body).toBeNull();
  });

  test('follows a redirect, as fetch does', async () => {
    const pooledFetch = createPooledFetch();
    server.answerWith((request, response) => {
      if (request.url === '/old') return void response.writeHead(307, { location: '/v1/models' }).end();
      response.end('{"data":[]}');
    });

    const response = await pooledFetch(`${origin}/old`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ data: [] });
  });

  test('rejects with the abort’s reason when the caller aborts', async () => {
    const pooledFetch = createPooledFetch();
    server.answerWith(() => undefined); // never answers
    const controller = new AbortController();
    const reason = new Error('the layer’s timeout');
    setTimeout(() => controller.abort(reason), 50);

    await expect(pooledFetch(`${origin}/v1/chat/completions`, { method: 'POST', body: '{}', signal: controller.signal })).rejects.toBe(reason);
  });

  test('a server that cannot be reached is fetch’s TypeError, with the cause the SDKs report', async () => {
    const pooledFetch = createPooledFetch();
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));

    const failure = await pooledFetch(`http://127.0.0.1:${port}/v1/models`).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(TypeError);
    expect(failure).toMatchObject({ message: 'fetch failed', cause: expect.objectContaining({ code: 'ECONNREFUSED' }) });
  });
});
