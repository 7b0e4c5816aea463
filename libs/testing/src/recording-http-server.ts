import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedHttpRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

export interface RecordingHttpServer {
  /** `http://127.0.0.1:<port>`. */
  origin: string;
  /** Every request, in order, with its whole body. */
  requests: RecordedHttpRequest[];
  /** TCP connections opened to the server since it started or was last `reset`. */
  readonly connections: number;
  /** How the next requests are answered (after their body has been read). */
  answerWith(handler: (request: IncomingMessage, response: ServerResponse) => void): void;
  /** Forgets the requests and connections so far. */
  reset(): void;
  close(): Promise<void>;
}

/**
 * A plain HTTP server standing for an API a client calls (a model API, another service): it
 * records what each request sent and counts the connections opened, so a test can see what a
 * client sends and whether it keeps its connections.
 */
export async function startRecordingHttpServer(handler: (request: IncomingMessage, response: ServerResponse) => void): Promise<RecordingHttpServer> {
  let answer = handler;
  let connections = 0;
  const requests: RecordedHttpRequest[] = [];
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    request.on('end', () => {
      requests.push({ method: request.method ?? 'GET', url: request.url ?? '/', headers: request.headers, body });
      answer(request, response);
    });
  });
  server.on('connection', () => (connections += 1));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    get connections() {
      return connections;
    },
    answerWith: (next) => (answer = next),
    reset() {
      requests.length = 0;
      connections = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
