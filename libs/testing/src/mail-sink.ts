import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream, mkdtempSync, rmSync, unlinkSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { MailParser, type AttachmentStream, type MessageText } from 'mailparser';
import { SMTPServer, type SMTPServerAddress, type SMTPServerAuthentication, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';

/** One message the sink accepted, as a test or a person trying the system reads it. */
export interface SinkMessage {
  id: string;
  receivedAt: Date;
  /** The SMTP envelope: who the client said it sends for, and to whom. */
  envelope: { mailFrom: string; rcptTo: string[] };
  /** The user the client logged in as, when it did. */
  authenticatedUser: string | null;
  /** Size of the raw message in bytes, as received. */
  size: number;
  /** Every header line as sent (folded lines unfolded), in order. */
  headerLines: { key: string; line: string }[];
  subject: string;
  /** The plain-text body (or the text mailparser made of the HTML), cut at 1 MiB. */
  text: string;
  html: string | null;
  attachments: { filename: string | null; contentType: string; size: number }[];
}

/** The value of the first header `name` (case-insensitive), unfolded, or null. */
export function headerOf(message: Pick<SinkMessage, 'headerLines'>, name: string): string | null {
  const lower = name.toLowerCase();
  const found = message.headerLines.find((header) => header.key === lower);
  if (!found) return null;
  return found.line
    .slice(found.line.indexOf(':') + 1)
    .replace(/\r?\n[ \t]+/g, ' ')
    .trim();
}

/** What the sink answers to a recipient: `accept`, or an SMTP reply code and text to refuse it with. */
export type RecipientVerdict = 'accept' | { code: number; message: string };

export interface MailSinkOptions {
  /** SMTP port. Default: 0 (a free one). */
  port?: number;
  /** Default: 127.0.0.1. */
  host?: string;
  /** When set, also serves the messages over HTTP on this port (0: a free one): a page at `/`, JSON at `/api/messages`. Default: no HTTP. */
  httpPort?: number;
  /** Largest message accepted (SIZE); a bigger one is refused with 552. Default: 50 MiB. */
  maxMessageBytes?: number;
  /** Messages kept; the oldest go first. Default: 1 000. */
  keep?: number;
  /**
   * Accounts clients must log in with (user → password). Default: none, and the sink accepts any
   * login or none, as a development sink should.
   */
  users?: Record<string, string>;
  /** Decides per recipient, to play a server that refuses some (a hard 550, a soft 451). Default: accept all. */
  recipientVerdict?: (address: string) => RecipientVerdict;
}

export interface MailSink {
  /** The SMTP port it listens on. */
  port: number;
  host: string;
  /** Base URL of the page and API, when `httpPort` was given. */
  httpUrl: string | null;
  /** Accepted messages, oldest first. */
  messages(): SinkMessage[];
  /** Messages whose envelope or To header names this address. */
  messagesTo(address: string): SinkMessage[];
  /** Resolves once `count` messages have arrived in total (or rejects after `timeoutMs`, default 30 s). */
  waitForCount(count: number, timeoutMs?: number): Promise<SinkMessage[]>;
  /** Resolves with the first message (already there or arriving) `predicate` accepts. */
  waitFor(predicate: (message: SinkMessage) => boolean, timeoutMs?: number): Promise<SinkMessage>;
  /** The raw RFC 5322 bytes of a kept message, streamed from disk. */
  rawStream(id: string): NodeJS.ReadableStream;
  raw(id: string): Promise<Buffer>;
  /** SMTP transactions that delivered a message (refused ones excluded). */
  readonly acceptedCount: number;
  /** Refuses every new connection with 421 until called again with false: a server that is away. */
  setUnavailable(unavailable: boolean): void;
  clear(): void;
  close(): Promise<void>;
}

const textLimit = 1024 * 1024;

/**
 * A real SMTP server (smtp-server) that keeps what it receives: what tests assert on and what
 * `npm start` runs so a person can see the mail the system sends without sending any. Raw messages
 * are written to a temporary folder as they arrive (never held whole in memory); the parsed
 * headers and text are kept in memory, the newest `keep` of them.
 */
export async function startMailSink(options: MailSinkOptions = {}): Promise<MailSink> {
  const host = options.host ?? '127.0.0.1';
  const maxMessageBytes = options.maxMessageBytes ?? 50 * 1024 * 1024;
  const keep = options.keep ?? 1_000;
  const folder = mkdtempSync(join(tmpdir(), 'gtm-mail-sink-'));
  const stored: SinkMessage[] = [];
  const waiters = new Set<() => void>();
  let acceptedCount = 0;
  let unavailable = false;

  const remember = (message: SinkMessage) => {
    stored.push(message);
    acceptedCount += 1;
    while (stored.length > keep) {
      const dropped = stored.shift()!;
      try {
        unlinkSync(join(folder, `${dropped.id}.eml`));
      } catch {
        // already gone
      }
    }
    for (const wake of waiters) wake();
  };

  const smtp = new SMTPServer({
    secure: false,
    // A development sink on loopback: no TLS to configure, plain login allowed.
    disabledCommands: ['STARTTLS'],
    allowInsecureAuth: true,
    authOptional: !options.users,
    authMethods: ['PLAIN', 'LOGIN'],
    size: maxMessageBytes,
    banner: 'GTM Graph mail sink: messages are kept, never delivered',
    logger: false,
    onConnect(_session, callback) {
      if (unavailable) return callback(Object.assign(new Error('Service not available, try again later'), { responseCode: 421 }));
      callback();
    },
    onAuth(auth: SMTPServerAuthentication, _session: SMTPServerSession, callback) {
      if (!options.users) return callback(null, { user: auth.username });
      const password = options.users[auth.username ?? ''];
      if (password === undefined || password !== auth.password) return callback(Object.assign(new Error('Authentication credentials invalid'), { responseCode: 535 }));
      callback(null, { user: auth.username });
    },
    onRcptTo(address: SMTPServerAddress, _session, callback) {
      const verdict = options.recipientVerdict?.(address.address) ?? 'accept';
      if (verdict === 'accept') return callback();
      callback(Object.assign(new Error(verdict.message), { responseCode: verdict.code }));
    },
    onData(stream: SMTPServerDataStream, session: SMTPServerSession, callback) {
      receive(stream, session)
        .then((message) => {
          if (stream.sizeExceeded) {
            return callback(Object.assign(new Error(`Message exceeds the fixed maximum message size of ${maxMessageBytes} bytes`), { responseCode: 552 }));
          }
          remember(message!);
          callback(null, `Kept as ${message!.id}`);
        })
        .catch((error: unknown) => callback(Object.assign(new Error(`Could not keep the message: ${(error as Error).message}`), { responseCode: 451 })));
    },
  });
  // smtp-server reports client protocol errors here; a sink has nothing to do about them.
  smtp.on('error', () => {});

  const receive = async (stream: SMTPServerDataStream, session: SMTPServerSession): Promise<SinkMessage | null> => {
    const id = randomUUID();
    const path = join(folder, `${id}.eml`);
    let size = 0;
    // One pass over the bytes: counted, written to disk and parsed as they arrive.
    const toParser = new PassThrough();
    stream.on('data', (chunk: Buffer) => (size += chunk.length));
    stream.pipe(toParser);
    const [, summary] = await Promise.all([pipeline(stream, createWriteStream(path)), parseStreaming(toParser)]);
    if (stream.sizeExceeded) {
      rmSync(path, { force: true });
      return null;
    }
    return {
      id,
      receivedAt: new Date(),
      envelope: {
        mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
        rcptTo: session.envelope.rcptTo.map((recipient) => recipient.address),
      },
      authenticatedUser: typeof session.user === 'string' ? session.user : null,
      size,
      ...summary,
    };
  };

  await new Promise<void>((resolve, reject) => {
    smtp.server.once('error', reject);
    smtp.listen(options.port ?? 0, host, () => resolve());
  });
  const port = (smtp.server.address() as AddressInfo).port;

  const sink: MailSink = {
    port,
    host,
    httpUrl: null,
    messages: () => [...stored],
    messagesTo: (address) => {
      const lower = address.toLowerCase();
      return stored.filter((message) => message.envelope.rcptTo.some((recipient) => recipient.toLowerCase() === lower) || (headerOf(message, 'to') ?? '').toLowerCase().includes(lower));
    },
    waitForCount: (count, timeoutMs = 30_000) => waitUntil(() => (acceptedCount >= count ? [...stored] : undefined), timeoutMs, `${count} messages (have ${acceptedCount})`),
    waitFor: (predicate, timeoutMs = 30_000) => waitUntil(() => stored.find(predicate), timeoutMs, 'a matching message'),
    rawStream: (id) => createReadStream(join(folder, `${id}.eml`)),
    raw: async (id) => {
      const chunks: Buffer[] = [];
      for await (const chunk of createReadStream(join(folder, `${id}.eml`))) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks);
    },
    get acceptedCount() {
      return acceptedCount;
    },
    setUnavailable: (value) => (unavailable = value),
    clear: () => {
      for (const message of stored.splice(0)) rmSync(join(folder, `${message.id}.eml`), { force: true });
    },
    close: async () => {
      await new Promise<void>((resolve) => smtp.close(() => resolve()));
      if (httpServer) await new Promise<void>((resolve) => httpServer!.close(() => resolve()));
      for (const wake of waiters) wake();
      rmSync(folder, { recursive: true, force: true });
    },
  };

  function waitUntil<Value>(check: () => Value | undefined, timeoutMs: number, what: string): Promise<Value> {
    return new Promise((resolve, reject) => {
      const attempt = () => {
        const value = check();
        if (value === undefined) return false;
        finish();
        resolve(value);
        return true;
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`the mail sink did not receive ${what} within ${timeoutMs} ms`));
      }, timeoutMs);
      const wake = () => void attempt();
      const finish = () => {
        clearTimeout(timer);
        waiters.delete(wake);
      };
      if (!attempt()) waiters.add(wake);
    });
  }

  let httpServer: Server | null = null;
  if (options.httpPort !== undefined) {
    httpServer = createServer((request, response) => serveHttp(sink, request, response));
    await new Promise<void>((resolve, reject) => {
      httpServer!.once('error', reject);
      httpServer!.listen(options.httpPort, host, () => resolve());
    });
    sink.httpUrl = `http://${host}:${(httpServer.address() as AddressInfo).port}`;
  }
  return sink;
}

interface ParsedSummary {
  headerLines: SinkMessage['headerLines'];
  subject: string;
  text: string;
  html: string | null;
  attachments: SinkMessage['attachments'];
}

/** Parses a message as it streams past: headers and text kept, attachments counted and dropped. */
async function parseStreaming(source: NodeJS.ReadableStream): Promise<ParsedSummary> {
  const parser = new MailParser({ skipImageLinks: true });
  const summary: ParsedSummary = { headerLines: [], subject: '', text: '', html: null, attachments: [] };
  parser.on('headerLines', (lines: { key: string; line: string }[]) => (summary.headerLines = lines.map(({ key, line }) => ({ key, line }))));
  parser.on('headers', (headers: Map<string, unknown>) => (summary.subject = String(headers.get('subject') ?? '')));
  parser.on('data', (data: AttachmentStream | MessageText) => {
    if (data.type === 'text') {
      summary.text = (data.text ?? '').slice(0, textLimit);
      summary.html = typeof data.html === 'string' ? data.html.slice(0, textLimit) : null;
      return;
    }
    let size = 0;
    data.content.on('data', (chunk: Buffer) => (size += chunk.length));
    data.content.on('end', () => {
      summary.attachments.push({ filename: data.filename ?? null, contentType: data.contentType, size });
      data.release?.();
    });
  });
  await pipeline(source, parser, new Writable({ objectMode: true, write: (_chunk, _encoding, done) => done() }));
  return summary;
}

const escapeHtml = (value: string) => value.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);

/** The sink's page and JSON API: what `npm start` shows at its mail URL. */
function serveHttp(sink: MailSink, request: IncomingMessage, response: ServerResponse): void {
  const url = new URL(request.url ?? '/', 'http://sink');
  const json = (status: number, body: unknown) => {
    response.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
    response.end(JSON.stringify(body));
  };
  const rawMatch = /^\/api\/messages\/([0-9a-f-]{36})\/raw$/.exec(url.pathname);
  const messageMatch = /^\/api\/messages\/([0-9a-f-]{36})$/.exec(url.pathname);
  if (request.method === 'DELETE' && url.pathname === '/api/messages') {
    sink.clear();
    return json(200, { cleared: true });
  }
  if (request.method !== 'GET') return json(405, { error: 'only GET, and DELETE /api/messages' });
  if (url.pathname === '/api/messages') {
    return json(200, {
      messages: sink
        .messages()
        .toReversed()
        .map((message) => ({ id: message.id, receivedAt: message.receivedAt, envelope: message.envelope, subject: message.subject, size: message.size })),
    });
  }
  if (messageMatch) {
    const message = sink.messages().find((candidate) => candidate.id === messageMatch[1]);
    return message ? json(200, message) : json(404, { error: 'no such message' });
  }
  if (rawMatch) {
    const message = sink.messages().find((candidate) => candidate.id === rawMatch[1]);
    if (!message) return json(404, { error: 'no such message' });
    response.writeHead(200, { 'content-type': 'message/rfc822', 'content-disposition': `attachment; filename="${message.id}.eml"` });
    sink.rawStream(message.id).pipe(response);
    return;
  }
  if (url.pathname !== '/') return json(404, { error: 'not found' });
  const rows = sink
    .messages()
    .toReversed()
    .map(
      (message) => `<details><summary><b>${escapeHtml(message.subject || '(no subject)')}</b> — to ${escapeHtml(message.envelope.rcptTo.join(', '))} — ${message.receivedAt.toISOString()}
        <a href="/api/messages/${message.id}/raw">raw</a></summary>
        <pre>${escapeHtml(message.headerLines.map((header) => header.line).join('\n'))}</pre><pre>${escapeHtml(message.text)}</pre></details>`,
    )
    .join('\n');
  response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
  response.end(`<!doctype html><meta charset="utf-8"><title>GTM Graph mail sink</title>
<style>body{font:14px system-ui;margin:2em;max-width:70em}details{border-bottom:1px solid #ddd;padding:.5em 0}pre{white-space:pre-wrap;background:#f6f6f6;padding:.5em}</style>
<h1>Mail sink</h1><p>${sink.acceptedCount} message(s) received on SMTP port ${sink.port}; nothing is delivered anywhere. JSON: <a href="/api/messages">/api/messages</a>.</p>
${rows || '<p>No messages yet.</p>'}`);
}
