import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Tokens a fake reply reports; by default about one token per four characters, as real tokenizers roughly do. */
export interface FakeLlmUsage {
  inputTokens: number;
  outputTokens: number;
}

interface FakeLlmReplyCommon {
  /** Wait this long before answering (on top of the server's own `delayMs`). */
  delayMs?: number;
}

/**
 * What a fake model server does with one request. Each reply is rendered in the provider's own
 * wire format, so the real SDK parses it exactly as it would parse the real service's answer.
 */
export type FakeLlmReply =
  /** A structured answer: the JSON text of a chat completion, `output_text` of a response, or the input of Anthropic's forced tool. */
  | (FakeLlmReplyCommon & { json: unknown; usage?: Partial<FakeLlmUsage> })
  /** Raw model text: prose, fenced JSON, broken JSON, or plain text for free-text calls. */
  | (FakeLlmReplyCommon & { text: string; usage?: Partial<FakeLlmUsage> })
  /** The model declines to answer (OpenAI `refusal`, Anthropic `stop_reason: "refusal"`). */
  | (FakeLlmReplyCommon & { refusal: string; usage?: Partial<FakeLlmUsage> })
  /** An HTTP error with the provider's error body; 429s carry `Retry-After` when given. */
  | (FakeLlmReplyCommon & { status: number; message?: string; retryAfterSeconds?: number; retryAfterMs?: number })
  /** The connection is dropped without any response: what a network failure looks like to the client. */
  | (FakeLlmReplyCommon & { disconnect: true });

/** One request as the fake server received it, recorded in arrival order. */
export interface FakeLlmRequest {
  /** 0-based arrival order across the server's life (or since `reset()`). */
  index: number;
  /** `chat.completions`, `responses` or `messages`. */
  endpoint: string;
  path: string;
  /** `Date.now()` when the request arrived. */
  receivedAt: number;
  headers: IncomingHttpHeaders;
  /** The API key the client sent, from whichever header the protocol uses. */
  apiKey: string | undefined;
  /** The JSON body exactly as the client sent it. */
  body: any;
  model: string;
  /** System instructions, joined when the protocol allows several. */
  system?: string;
  /** Every non-system message with its text flattened (tool inputs and results as JSON/text). */
  messages: { role: string; content: string }[];
  /** Text of the last user message (a tool result counts as one). */
  prompt: string;
  /** The JSON schema the client asked the answer to follow, if any. */
  schema?: Record<string, unknown>;
}

export type FakeLlmResponder = (request: FakeLlmRequest) => FakeLlmReply | Promise<FakeLlmReply>;

export interface FakeLlmServerOptions {
  /** Default replies, used once the queue is empty. Default: a 500 saying that nothing was scripted. */
  respond?: FakeLlmResponder | FakeLlmReply;
  /** Latency added to every reply, e.g. 300 for a "model" that always takes 300 ms. Default: 0. */
  delayMs?: number;
  /** Model name reported in responses. Default: the model the request named. */
  model?: string;
  /** When set, requests with another key are refused with the provider's 401. Default: any key is accepted. */
  apiKey?: string;
}

export interface FakeLlmServer extends AsyncDisposable {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** What to give the SDK (or `OPENAI_BASE_URL` / `ANTHROPIC_BASE_URL`) as its base URL. */
  readonly baseURL: string;
  /** Every request received, in arrival order. */
  readonly requests: FakeLlmRequest[];
  /** Sets the default reply (a fixed reply or a function of the request) used when the queue is empty. */
  respondWith(responder: FakeLlmResponder | FakeLlmReply): this;
  /** Queues one-shot replies, used in order before the default. */
  enqueue(...replies: (FakeLlmResponder | FakeLlmReply)[]): this;
  /** Forgets recorded requests and queued replies; the default reply stays. */
  reset(): void;
  close(): Promise<void>;
}

/** How one provider's wire protocol reads requests and writes answers. */
export interface FakeLlmProtocol {
  /** Path → endpoint name, e.g. `/v1/messages` → `messages`. */
  routes: Record<string, string>;
  /** The part of the base URL after the origin (`/v1` for OpenAI, empty for Anthropic). */
  basePath: string;
  apiKeyOf(headers: IncomingHttpHeaders): string | undefined;
  parse(endpoint: string, body: any): Pick<FakeLlmRequest, 'model' | 'system' | 'messages' | 'prompt' | 'schema'>;
  success(endpoint: string, request: FakeLlmRequest, output: FakeLlmOutput, model: string): unknown;
  error(status: number, message: string | undefined): { body: unknown; headers?: Record<string, string> };
}

export type FakeLlmOutput = ({ kind: 'json'; value: unknown; text: string } | { kind: 'text'; text: string } | { kind: 'refusal'; text: string }) & { usage: FakeLlmUsage };

/** A random id in the provider's style, e.g. `chatcmpl-3f9a…`. */
export function fakeId(prefix: string): string {
  return `${prefix}${randomBytes(12).toString('hex')}`;
}

/** Roughly one token per four characters. */
export function estimateTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

/** Text of a content value that may be a string or an array of typed parts. */
export function flattenContent(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return content === undefined || content === null ? '' : JSON.stringify(content);
  return content
    .map((part: any) => {
      if (typeof part === 'string') return part;
      if (typeof part?.text === 'string') return part.text;
      if (part?.type === 'tool_use') return JSON.stringify(part.input);
      if (part?.type === 'tool_result') return flattenContent(part.content);
      if (typeof part?.refusal === 'string') return part.refusal;
      return '';
    })
    .join('');
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (response.destroyed) return;
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'x-request-id': fakeId('req_'), ...headers });
  response.end(text);
}

/** Starts a fake model server on a free loopback port, speaking the given protocol. */
export async function startFakeLlmServer(protocol: FakeLlmProtocol, options: FakeLlmServerOptions = {}): Promise<FakeLlmServer> {
  const requests: FakeLlmRequest[] = [];
  const queue: (FakeLlmResponder | FakeLlmReply)[] = [];
  let fallback: FakeLlmResponder | FakeLlmReply = options.respond ?? { status: 500, message: 'fake LLM server: no reply was scripted for this request' };
  const pendingTimers = new Set<NodeJS.Timeout>();

  const wait = (milliseconds: number, response: ServerResponse) =>
    new Promise<boolean>((resolve) => {
      if (milliseconds <= 0) return resolve(true);
      const timer = setTimeout(() => {
        pendingTimers.delete(timer);
        resolve(true);
      }, milliseconds);
      pendingTimers.add(timer);
      // A client that gave up (timeout, abort) closes the socket; stop waiting for it.
      response.once('close', () => {
        clearTimeout(timer);
        pendingTimers.delete(timer);
        resolve(false);
      });
    });

  const handle = async (incoming: IncomingMessage, response: ServerResponse) => {
    const path = (incoming.url ?? '/').split('?')[0] ?? '/';
    const endpoint = protocol.routes[path];
    const rawBody = await readBody(incoming);
    if (incoming.method !== 'POST' || !endpoint) {
      const { body, headers } = protocol.error(404, `fake LLM server: no route for ${incoming.method} ${path}`);
      return sendJson(response, 404, body, headers);
    }
    let body: any;
    try {
      body = JSON.parse(rawBody);
    } catch {
      const { body: errorBody, headers } = protocol.error(400, 'fake LLM server: the request body is not JSON');
      return sendJson(response, 400, errorBody, headers);
    }
    const request: FakeLlmRequest = {
      index: requests.length,
      endpoint,
      path,
      receivedAt: Date.now(),
      headers: incoming.headers,
      apiKey: protocol.apiKeyOf(incoming.headers),
      body,
      ...protocol.parse(endpoint, body),
    };
    requests.push(request);

    if (options.apiKey !== undefined && request.apiKey !== options.apiKey) {
      const { body: errorBody, headers } = protocol.error(401, undefined);
      return sendJson(response, 401, errorBody, headers);
    }

    const scripted = queue.shift() ?? fallback;
    let reply: FakeLlmReply;
    try {
      reply = typeof scripted === 'function' ? await scripted(request) : scripted;
    } catch (error) {
      const { body: errorBody, headers } = protocol.error(500, `fake LLM server: the responder threw: ${String(error)}`);
      return sendJson(response, 500, errorBody, headers);
    }

    if (!(await wait((options.delayMs ?? 0) + (reply.delayMs ?? 0), response))) return;

    if ('disconnect' in reply) {
      incoming.socket.destroy();
      return;
    }
    if ('status' in reply) {
      const { body: errorBody, headers = {} } = protocol.error(reply.status, reply.message);
      if (reply.retryAfterSeconds !== undefined) headers['retry-after'] = String(reply.retryAfterSeconds);
      if (reply.retryAfterMs !== undefined) headers['retry-after-ms'] = String(reply.retryAfterMs);
      return sendJson(response, reply.status, errorBody, headers);
    }
    const inputText = [request.system ?? '', ...request.messages.map((message) => message.content), request.schema ? JSON.stringify(request.schema) : ''].join('\n');
    const output: FakeLlmOutput =
      'json' in reply
        ? { kind: 'json', value: reply.json, text: JSON.stringify(reply.json), usage: { inputTokens: 0, outputTokens: 0 } }
        : 'text' in reply
          ? { kind: 'text', text: reply.text, usage: { inputTokens: 0, outputTokens: 0 } }
          : { kind: 'refusal', text: reply.refusal, usage: { inputTokens: 0, outputTokens: 0 } };
    output.usage = {
      inputTokens: reply.usage?.inputTokens ?? estimateTokens(inputText),
      outputTokens: reply.usage?.outputTokens ?? estimateTokens(output.text),
    };
    sendJson(response, 200, protocol.success(endpoint, request, output, options.model ?? request.model));
  };

  const server = createServer((incoming, response) => {
    handle(incoming, response).catch((error: unknown) => {
      if (!response.headersSent && !response.destroyed) sendJson(response, 500, protocol.error(500, String(error)).body);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;

  let closed: Promise<void> | undefined;
  const close = () => {
    closed ??= new Promise<void>((resolve) => {
      for (const timer of pendingTimers) clearTimeout(timer);
      pendingTimers.clear();
      server.close(() => resolve());
      // Keep-alive sockets of the SDKs' HTTP agents would hold close() open otherwise.
      server.closeAllConnections();
    });
    return closed;
  };

  const fake: FakeLlmServer = {
    url,
    baseURL: `${url}${protocol.basePath}`,
    requests,
    respondWith(responder) {
      fallback = responder;
      return fake;
    },
    enqueue(...replies) {
      queue.push(...replies);
      return fake;
    },
    reset() {
      requests.length = 0;
      queue.length = 0;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
  return fake;
}
