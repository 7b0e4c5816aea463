import http from 'node:http';
import { pipeline } from 'node:stream/promises';
import { callerTokenHeader, type CallerContext, type CallerTokenSigner } from '@gtm/caller';
import { FileTicketError, FileTransferError, mediaTypeOf, sendFileError, type FileTicketClaims, type FileTickets, type UploadLedger } from '@gtm/files';
import { ErrorCode, type Logger } from '@gtm/runtime';
import express, { type Request, type RequestHandler, type Response, type Router } from 'express';
import { Agent, request as upstreamRequest } from 'undici';
import { callerOf } from '../caller/caller-resolver.js';
import { subgraphNames, type SubgraphName } from '../config.js';

export interface FileTransferRoutesOptions {
  tickets: FileTickets;
  ledger: UploadLedger;
  signer: CallerTokenSigner;
  /** Each subgraph's GraphQL URL; its file routes are `/files/<ticket>` on the same origin. */
  subgraphUrls: Record<SubgraphName, string>;
  /** FILE_MAX_BYTES: the largest upload, declared or streamed. */
  maximumBytes: number;
  /** FILE_TRANSFER_TIMEOUT_MS: the longest a transfer may take end to end. */
  transferTimeoutMs: number;
  logger: Logger;
  /** Authentication, caller and rate limits, exactly as in front of /graphql. */
  edgeSecurity: RequestHandler[];
}

export interface FileTransferRoutes {
  router: Router;
  close(): Promise<void>;
}

// Headers of the owning service's answer that the client gets as they are.
const forwardedResponseHeaders = ['content-type', 'content-disposition', 'content-encoding', 'content-length', 'cache-control', 'vary', 'x-content-type-options'];

/**
 * How much of a transfer may wait in each socket buffer on the way (bounded memory, fewer stalls
 * than Node's 16 KiB). 256 KiB, not 1 MiB: forwarding measured 15–20 % less of the gateway's CPU
 * per MiB with it (less in flight to copy and collect), at the same throughput (docs/BENCHMARKS.md).
 */
export const transferBufferBytes = 256 * 1024;

/** The largest answer a service gives to an upload (a JSON summary); more is not a summary. */
const maximumUploadAnswerBytes = 1 << 20;

// A refused upload is answered before its body is read: closing the connection afterwards spares
// the client sending, and the gateway reading, the rest of a file nobody will keep.
const closeAfterAnswer: RequestHandler = (_request, response, next) => {
  response.setHeader('Connection', 'close');
  next();
};

function ticketRefusal(error: FileTicketError): FileTransferError {
  if (error.reason === 'EXPIRED') return new FileTransferError(410, ErrorCode.Forbidden, 'TICKET_EXPIRED', error.message);
  return new FileTransferError(401, ErrorCode.Unauthenticated, error.reason === 'ALTERED' ? 'TICKET_ALTERED' : 'TICKET_MALFORMED', error.message);
}

/**
 * `PUT /files/<service>/<ticket>` and `GET /files/<service>/<ticket>`: the gateway's side of
 * file transfers. A request is authenticated like one to /graphql (API key → caller, rate limits);
 * its ticket must be authentic, for this path's service, of the caller's tenant and unexpired; an
 * upload must also be of an accepted media type, within the size limit and the first use of its
 * ticket. Then the bytes stream, with backpressure, to or from the owning service's
 * `/files/<ticket>` with the caller's signed token. A client that disconnects mid-upload aborts
 * the request to the service, whose handler then rolls back.
 */
export function createFileTransferRoutes(options: FileTransferRoutesOptions): FileTransferRoutes {
  const { tickets, ledger, logger } = options;
  // Its own pools (downloads through undici, uploads through node:http): a long transfer must not
  // hold one of the connections GraphQL fetches share, and undici's header and body timeouts would
  // cut a transfer the gateway bounds itself. Larger socket buffers than undici's 64 KiB: with those,
  // every 64 KiB waits for the service's thread to drain the socket, and on a busy machine those
  // waits, not the bytes, set the pace.
  const connect = { timeout: 10_000, highWaterMark: transferBufferBytes };
  const agent = new Agent({ keepAliveTimeout: 30_000, connections: 32, headersTimeout: 0, bodyTimeout: 0, connect });
  // Uploads go out through node:http, written chunk by chunk as they arrive from the client
  // (forwardUpload): no Transform, pipe or body iterator in between, which measured cheaper per
  // megabyte than undici with a counting Transform as its body (docs/BENCHMARKS.md).
  // net.connect takes the socket's highWaterMark from the agent's options; @types/node omits it.
  const uploadAgent = new http.Agent({ keepAlive: true, keepAliveMsecs: 30_000, maxSockets: 32, timeout: 0, highWaterMark: transferBufferBytes } as http.AgentOptions);
  const router = express.Router();

  /** The checks every transfer passes before a byte moves; in the order that leaks least. */
  const admit = (request: Request, caller: CallerContext, kind: FileTicketClaims['kind']): { claims: FileTicketClaims; service: SubgraphName } => {
    const service = String(request.params['service']);
    let claims: FileTicketClaims;
    try {
      claims = tickets.inspect(String(request.params['ticket']));
    } catch (error) {
      if (error instanceof FileTicketError) throw ticketRefusal(error);
      throw error;
    }
    // The service is part of the signed link: another one in the path is an altered link.
    if (claims.service !== service || !(subgraphNames as readonly string[]).includes(service)) {
      throw new FileTransferError(401, ErrorCode.Unauthenticated, 'TICKET_ALTERED', 'This file link was altered: its path does not match what it was issued for. Request a new one from the API.');
    }
    // Before expiry: another tenant's expired link is another tenant's, not merely expired.
    if (claims.tenantId !== caller.tenantId) {
      throw new FileTransferError(403, ErrorCode.Forbidden, 'TICKET_OTHER_TENANT', 'This file link belongs to another tenant: use an API key of the tenant that requested it.');
    }
    if (claims.kind !== kind) {
      throw new FileTransferError(403, ErrorCode.Forbidden, 'TICKET_WRONG_METHOD', claims.kind === 'upload' ? 'This is an upload link: send the file with PUT.' : 'This is a download link: fetch it with GET.');
    }
    try {
      tickets.verify(String(request.params['ticket']));
    } catch (error) {
      if (error instanceof FileTicketError) throw ticketRefusal(error);
      throw error;
    }
    return { claims, service: service as SubgraphName };
  };

  const serviceFileUrl = (service: SubgraphName, ticket: string) => new URL(`/files/${ticket}`, options.subgraphUrls[service]).toString();

  const loggerFor = (caller: CallerContext) => logger.child({ requestId: caller.requestId, tenant: caller.tenantSlug });

  router.put('/files/:service/:ticket', closeAfterAnswer, ...options.edgeSecurity, async (request: Request, response: Response) => {
    const caller = callerOf(response)!;
    let log = loggerFor(caller);
    let claims: FileTicketClaims;
    let service: SubgraphName;
    try {
      ({ claims, service } = admit(request, caller, 'upload'));
      log = log.child({ ticket: claims.id, service, purpose: claims.purpose });
      const encoding = request.header('content-encoding');
      if (encoding && encoding.toLowerCase() !== 'identity') {
        throw new FileTransferError(415, ErrorCode.BadUserInput, 'UNSUPPORTED_CONTENT_ENCODING', `Send the file uncompressed: Content-Encoding ${encoding} is not accepted.`);
      }
      const contentType = mediaTypeOf(request.header('content-type'));
      if (claims.contentTypes.length > 0 && (!contentType || !claims.contentTypes.includes(contentType))) {
        throw new FileTransferError(415, ErrorCode.BadUserInput, 'UNSUPPORTED_MEDIA_TYPE', `Send this file with Content-Type ${claims.contentTypes[0]} (accepted: ${claims.contentTypes.join(', ')}), not ${contentType ?? 'none'}.`, {
          acceptedContentTypes: claims.contentTypes,
        });
      }
    } catch (error) {
      return sendFileError(response, error instanceof FileTransferError ? error : internalError(error, caller, log), log);
    }

    const limit = Math.min(options.maximumBytes, claims.maxBytes ?? Number.POSITIVE_INFINITY);
    const tooLarge = (received: number | null) =>
      new FileTransferError(413, ErrorCode.BadUserInput, 'FILE_TOO_LARGE', `The file is larger than the ${formatBytes(limit)} an upload may be${received ? ` (more than ${received.toLocaleString('en-US')} bytes arrived)` : ''}. Split it into smaller files.`, {
        maximumBytes: limit,
      });
    const declaredHeader = request.header('content-length');
    const declared = declaredHeader !== undefined && /^\d+$/.test(declaredHeader) ? Number(declaredHeader) : null;
    if (declared !== null && declared > limit) return sendFileError(response, tooLarge(null), log);

    let claim;
    try {
      claim = await ledger.claim(claims);
    } catch (error) {
      return sendFileError(response, new FileTransferError(503, ErrorCode.UpstreamUnavailable, 'SERVICE_UNAVAILABLE', 'Uploads are unavailable right now; try again shortly.'), log.child({ err: error }));
    }
    if (claim === 'used') return sendFileError(response, new FileTransferError(403, ErrorCode.Forbidden, 'TICKET_USED', 'This upload link was already used: a file arrived with it. Request a new one from the API.'), log);
    if (claim === 'in-progress') return sendFileError(response, new FileTransferError(409, ErrorCode.Conflict, 'TICKET_IN_USE', 'An upload with this link is in progress; wait for it to finish.'), log);

    const controller = new AbortController();
    let clientGone = false;
    request.once('close', () => {
      if (request.complete) return;
      clientGone = true;
      controller.abort();
    });
    const timeout = setTimeout(() => controller.abort(), options.transferTimeoutMs);

    let settled = false;
    const settle = async (succeeded: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timeout);
      try {
        if (succeeded) await ledger.complete(claims);
        else await ledger.release(claims);
      } catch (error) {
        log.warn({ err: error }, 'could not record the outcome of an upload ticket');
      }
    };

    const forwarded = { received: 0, overflow: null as FileTransferError | null };
    try {
      const answer = await forwardUpload(request, {
        url: serviceFileUrl(service, request.params['ticket'] as string),
        agent: uploadAgent,
        signal: controller.signal,
        limit,
        tooLarge,
        forwarded,
        headers: {
          [callerTokenHeader]: await options.signer.sign(caller),
          'x-request-id': caller.requestId,
          'content-type': request.header('content-type') ?? 'application/octet-stream',
          ...(declared !== null ? { 'content-length': String(declared) } : {}),
        },
      });
      const succeeded = answer.statusCode >= 200 && answer.statusCode < 300;
      await settle(succeeded);
      if (succeeded) log.info({ bytes: forwarded.received }, 'upload forwarded');
      response.status(answer.statusCode);
      if (answer.contentType) response.setHeader('Content-Type', answer.contentType);
      response.end(answer.body);
    } catch (error) {
      await settle(false);
      if (clientGone) {
        log.info({ bytes: forwarded.received }, 'upload abandoned by the client: the service request was aborted');
        return;
      }
      if (forwarded.overflow) {
        // The client is still sending: answering and closing now would reset the connection with
        // its bytes unread, and the reset can reach the client before the answer does. The rest is
        // read and dropped first (within bounds; past them the connection is cut after the answer).
        await discardRest(request);
        return sendFileError(response, forwarded.overflow, log);
      }
      if (controller.signal.aborted) return sendFileError(response, new FileTransferError(408, ErrorCode.BadUserInput, 'UPLOAD_INCOMPLETE', `The upload took longer than ${Math.round(options.transferTimeoutMs / 1000)} seconds and was stopped.`), log);
      log.warn({ err: error, service }, 'file service unavailable');
      sendFileError(response, new FileTransferError(503, ErrorCode.UpstreamUnavailable, 'SERVICE_UNAVAILABLE', `The ${service} service is unavailable right now; try the upload again shortly with the same link.`, { service }), log);
    }
  });

  router.get('/files/:service/:ticket', ...options.edgeSecurity, async (request: Request, response: Response) => {
    const caller = callerOf(response)!;
    let log = loggerFor(caller);
    let claims: FileTicketClaims;
    let service: SubgraphName;
    try {
      ({ claims, service } = admit(request, caller, 'download'));
      log = log.child({ ticket: claims.id, service, purpose: claims.purpose });
    } catch (error) {
      return sendFileError(response, error instanceof FileTransferError ? error : internalError(error, caller, log), log);
    }
    const controller = new AbortController();
    response.once('close', () => {
      if (!response.writableFinished) controller.abort();
    });
    const timeout = setTimeout(() => controller.abort(), options.transferTimeoutMs);
    try {
      const upstream = await upstreamRequest(serviceFileUrl(service, request.params['ticket'] as string), {
        method: 'GET',
        dispatcher: agent,
        signal: controller.signal,
        headers: {
          [callerTokenHeader]: await options.signer.sign(caller),
          'x-request-id': caller.requestId,
          // Compressed by the service when the client accepts it, passed through as it is.
          'accept-encoding': request.header('accept-encoding') ?? 'identity',
        },
      });
      response.status(upstream.statusCode);
      for (const name of forwardedResponseHeaders) {
        const value = upstream.headers[name];
        if (typeof value === 'string') response.setHeader(name, value);
      }
      await pipeline(upstream.body, response);
      log.info('download forwarded');
    } catch (error) {
      if (controller.signal.aborted && !response.headersSent) {
        log.info('download abandoned by the client');
      } else if (response.headersSent) {
        // Mid-stream: the client sees the transfer break off, never a short file that looks whole.
        log.warn({ err: error }, 'download broke off');
        response.destroy();
      } else {
        log.warn({ err: error, service }, 'file service unavailable');
        sendFileError(response, new FileTransferError(503, ErrorCode.UpstreamUnavailable, 'SERVICE_UNAVAILABLE', `The ${service} service is unavailable right now; try again shortly with the same link.`, { service }), log);
      }
    } finally {
      clearTimeout(timeout);
    }
  });

  return {
    router,
    close: async () => {
      uploadAgent.destroy();
      await agent.close();
    },
  };
}

function internalError(error: unknown, caller: CallerContext, log: Logger): FileTransferError {
  log.error({ err: error }, 'file transfer failed');
  return new FileTransferError(500, ErrorCode.Internal, 'INTERNAL', `Internal server error. Quote request id ${caller.requestId} when reporting it.`, { requestId: caller.requestId });
}

function formatBytes(bytes: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1 && Number.isInteger(value / 1024)) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toLocaleString('en-US')} ${units[unit]}`;
}

/** How much of a refused upload is read and dropped before its connection is cut instead. */
const discardedBytesLimit = 64 * 1024 * 1024;
const discardTimeoutMs = 10_000;

/** Reads and drops the rest of a request's body; resolves when it is all in, or when the bounds are reached. */
function discardRest(request: Request): Promise<void> {
  return new Promise<void>((resolve) => {
    if (request.complete) return resolve();
    let discarded = 0;
    const stop = () => {
      clearTimeout(timer);
      request.off('data', onData);
      request.pause();
      resolve();
    };
    const timer = setTimeout(stop, discardTimeoutMs);
    const onData = (chunk: Buffer) => {
      discarded += chunk.length;
      if (discarded > discardedBytesLimit) stop();
    };
    request.on('data', onData);
    request.once('end', stop);
    request.once('close', stop);
    request.resume();
  });
}

interface UpstreamAnswer {
  statusCode: number;
  contentType: string | undefined;
  body: Buffer;
}

interface ForwardUploadOptions {
  url: string;
  agent: http.Agent;
  signal: AbortSignal;
  headers: Record<string, string>;
  /** The most bytes the upload may have. */
  limit: number;
  tooLarge(received: number): FileTransferError;
  /** Filled in as the upload goes: what arrived, and the refusal when it outgrew the limit. */
  forwarded: { received: number; overflow: FileTransferError | null };
}

/**
 * Writes the client's request body to the owning service as it arrives and resolves with the
 * service's answer. The bytes are counted in the same `data` handler that writes them, and the
 * client is paused while the service's socket holds a full buffer (backpressure, bounded memory).
 * Past the limit, or when the service answers before the body is all sent (a refusal), the client
 * is left paused rather than destroyed: its socket stays open for the answer, and the route's
 * `Connection: close` ends it after. Rejects when the service fails or `signal` aborts (the
 * client left, the transfer timed out): the request to the service is destroyed with it, so the
 * service's handler sees its body error and rolls back.
 */
function forwardUpload(request: Request, options: ForwardUploadOptions): Promise<UpstreamAnswer> {
  const { forwarded } = options;
  return new Promise<UpstreamAnswer>((resolve, reject) => {
    const upstream = http.request(options.url, { method: 'PUT', agent: options.agent, signal: options.signal, headers: options.headers });
    let done = false;
    const stopForwarding = () => {
      request.off('data', onData);
      request.off('end', onEnd);
      request.off('error', onClientError);
      upstream.off('drain', onDrain);
      request.pause();
    };
    const fail = (error: unknown) => {
      if (done) return;
      done = true;
      stopForwarding();
      upstream.destroy();
      reject(error);
    };
    function onData(chunk: Buffer) {
      forwarded.received += chunk.length;
      if (forwarded.received > options.limit) {
        forwarded.overflow = options.tooLarge(forwarded.received);
        return fail(forwarded.overflow);
      }
      if (!upstream.write(chunk)) request.pause();
    }
    function onDrain() {
      request.resume();
    }
    function onEnd() {
      upstream.end();
    }
    function onClientError(error: Error) {
      fail(error);
    }
    // Errors of the service's connection, and of writes after a failure (one listener for all).
    upstream.on('error', fail);
    upstream.once('response', (incoming) => {
      const chunks: Buffer[] = [];
      let answerBytes = 0;
      incoming.on('data', (chunk: Buffer) => {
        answerBytes += chunk.length;
        if (answerBytes > maximumUploadAnswerBytes) fail(new Error('the service answered an upload with more than 1 MiB'));
        else chunks.push(chunk);
      });
      incoming.once('error', fail);
      incoming.once('end', () => {
        if (done) return;
        done = true;
        // The service answered before the file was all sent (it refused it): no need to read the rest.
        const complete = request.complete;
        stopForwarding();
        if (!complete) upstream.destroy();
        const contentType = incoming.headers['content-type'];
        resolve({ statusCode: incoming.statusCode ?? 502, contentType, body: Buffer.concat(chunks) });
      });
    });
    upstream.on('drain', onDrain);
    request.on('data', onData);
    request.once('end', onEnd);
    request.on('error', onClientError);
  });
}
