import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { CallerTokenError, callerTokenHeader, type CallerContext, type CallerTokenVerifier } from '@gtm/caller';
import { ErrorCode, type Logger } from '@gtm/runtime';
import express, { type Request, type Router } from 'express';
import { FileTransferError, sendFileError, toFileTransferError } from './file-errors.js';
import { FileTicketError, type FileTicketClaims, type FileTickets } from './file-ticket.js';
import { acceptsGzip, contentDisposition, mediaTypeOf } from './http-headers.js';

/** An upload as the owning service's handler sees it. */
export interface IncomingUpload {
  caller: CallerContext;
  ticket: FileTicketClaims;
  /**
   * The file's bytes as they arrive. Consume it as a stream (csv-parse, COPY …), never into one
   * buffer. It errors when the client disconnects or the file outgrows its ticket's limit, so the
   * handler's transaction rolls back and nothing is half-kept.
   */
  body: Readable;
  /** The media type the client declared (`text/csv`). */
  contentType: string;
  /** Content-Length when the client declared it; null for a chunked upload. */
  declaredBytes: number | null;
  /** Aborted when the client disconnects before the whole file arrived. */
  signal: AbortSignal;
  /** Carries the request id and tenant. */
  logger: Logger;
}

/**
 * Handles one upload; what it resolves with is answered to the client beside `bytes` (say what
 * was received and started: `rows`, `jobId` …). Raise the runtime's `badUserInput` for a file the
 * handler cannot take (answered 422 with its message), `notFound`/`conflict` likewise.
 */
export type UploadHandler = (upload: IncomingUpload) => Promise<Record<string, unknown> | void>;

export interface OutgoingFile {
  /** The name the client saves it under (Content-Disposition). */
  fileName: string;
  /** Default: `text/csv; charset=utf-8`. */
  contentType?: string;
  /** The bytes, streamed: a Readable or any async iterable (`exportCsv(...)` from @gtm/csv). */
  body: Readable | AsyncIterable<Uint8Array | string>;
  /** The size in bytes when known, sent as Content-Length (unless gzip applies); else chunked. */
  size?: number;
}

export interface OutgoingDownload {
  caller: CallerContext;
  ticket: FileTicketClaims;
  /** Aborted when the client stops reading; stop producing. */
  signal: AbortSignal;
  logger: Logger;
}

export type DownloadHandler = (download: OutgoingDownload) => Promise<OutgoingFile>;

export interface FileRoutesOptions {
  /** This service's name as its tickets name it (`crm`, `enrichment` …). */
  service: string;
  tickets: FileTickets;
  verifier: CallerTokenVerifier;
  logger: Logger;
  /** Upload handlers by purpose. */
  uploads?: Record<string, UploadHandler>;
  /** Download handlers by purpose. */
  downloads?: Record<string, DownloadHandler>;
}

function ticketRefusal(error: FileTicketError): FileTransferError {
  return error.reason === 'EXPIRED'
    ? new FileTransferError(410, ErrorCode.Forbidden, 'TICKET_EXPIRED', error.message)
    : new FileTransferError(401, ErrorCode.Unauthenticated, error.reason === 'ALTERED' ? 'TICKET_ALTERED' : 'TICKET_MALFORMED', error.message);
}

/**
 * The owning service's side of file transfers: `PUT /files/<ticket>` and `GET /files/<ticket>`,
 * reached only through the gateway's `/files/<service>/<ticket>`. Each request is checked again
 * here (the caller token the gateway signed, the ticket, its service, kind and tenant) and handed
 * to the handler of the ticket's purpose as a stream. Mount it on the service's Express app
 * (`startSubgraphApp({ routes })`).
 */
export function createFileRoutes(options: FileRoutesOptions): Router {
  const router = express.Router();

  const authorise = async (request: Request, kind: FileTicketClaims['kind']): Promise<{ caller: CallerContext; ticket: FileTicketClaims }> => {
    let caller: CallerContext;
    try {
      caller = await options.verifier.verify(request.header(callerTokenHeader));
    } catch (error) {
      if (!(error instanceof CallerTokenError)) throw error;
      options.logger.warn({ reason: error.message, remoteAddress: request.socket.remoteAddress }, 'refused a file transfer without a valid caller token');
      throw new FileTransferError(401, ErrorCode.Unauthenticated, 'UNAUTHENTICATED', 'Unauthenticated: this service only answers requests signed by the GTM Graph gateway. Send your request to the gateway.');
    }
    let ticket: FileTicketClaims;
    try {
      ticket = options.tickets.verify(String(request.params['ticket']));
    } catch (error) {
      if (error instanceof FileTicketError) throw ticketRefusal(error);
      throw error;
    }
    if (ticket.tenantId !== caller.tenantId) throw new FileTransferError(403, ErrorCode.Forbidden, 'TICKET_OTHER_TENANT', 'This file link belongs to another tenant.');
    if (ticket.service !== options.service) throw new FileTransferError(403, ErrorCode.Forbidden, 'TICKET_WRONG_SERVICE', `This file link is for the ${ticket.service} service.`);
    if (ticket.kind !== kind) {
      throw new FileTransferError(403, ErrorCode.Forbidden, 'TICKET_WRONG_METHOD', ticket.kind === 'upload' ? 'This is an upload link: send the file with PUT.' : 'This is a download link: fetch it with GET.');
    }
    return { caller, ticket };
  };

  router.put('/files/:ticket', async (request, response) => {
    const requestId = request.header('x-request-id') ?? 'unknown';
    let logger = options.logger.child({ requestId });
    const controller = new AbortController();
    request.once('close', () => {
      if (!request.complete) controller.abort(new FileTransferError(400, ErrorCode.BadUserInput, 'UPLOAD_INCOMPLETE', 'The client disconnected before the whole file arrived.'));
    });
    let received = 0;
    let body: Transform | undefined;
    try {
      const { caller, ticket } = await authorise(request, 'upload');
      logger = options.logger.child({ requestId: caller.requestId, tenant: caller.tenantSlug, purpose: ticket.purpose, resourceId: ticket.resourceId });
      const handler = options.uploads?.[ticket.purpose];
      if (!handler) throw new FileTransferError(404, ErrorCode.NotFound, 'NO_HANDLER', `This service takes no "${ticket.purpose}" uploads.`);
      const contentType = mediaTypeOf(request.header('content-type'));
      if (ticket.contentTypes.length > 0 && (!contentType || !ticket.contentTypes.includes(contentType))) {
        throw new FileTransferError(415, ErrorCode.BadUserInput, 'UNSUPPORTED_MEDIA_TYPE', `Send this file as ${ticket.contentTypes.join(' or ')} (Content-Type), not ${contentType ?? 'without a type'}.`);
      }
      const declared = request.header('content-length');
      const declaredBytes = declared !== undefined && /^\d+$/.test(declared) ? Number(declared) : null;
      const limit = ticket.maxBytes;
      const tooLarge = () => new FileTransferError(413, ErrorCode.BadUserInput, 'FILE_TOO_LARGE', `The file is larger than this link allows (${limit} bytes).`, { maximumBytes: limit });
      if (limit !== null && declaredBytes !== null && declaredBytes > limit) throw tooLarge();

      body = new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          received += chunk.length;
          if (limit !== null && received > limit) return callback(tooLarge());
          callback(null, chunk);
        },
      });
      // An error of the request (the client went away) destroys `body` with it: the handler's
      // next read throws.
      pipeline(request, body).catch(() => {});
      const result = await handler({ caller, ticket, body, contentType: contentType ?? 'application/octet-stream', declaredBytes, signal: controller.signal, logger });
      if (controller.signal.aborted) throw controller.signal.reason;
      logger.info({ bytes: received }, 'upload received');
      response.status(200).json({ bytes: received, ...result });
    } catch (caught) {
      if (controller.signal.aborted) {
        // Nobody is left to answer; the handler has rolled back.
        logger.info({ bytes: received }, 'upload abandoned by the client');
        response.destroy();
        return;
      }
      // The body's own refusal (over the ticket's limit) wins over what the handler made of it.
      const refusal = toFileTransferError(body?.errored instanceof FileTransferError ? body.errored : caught, requestId);
      if (refusal.status >= 500) logger.error({ err: caught }, 'upload failed');
      sendFileError(response, refusal, logger);
    }
  });

  router.get('/files/:ticket', async (request, response) => {
    const requestId = request.header('x-request-id') ?? 'unknown';
    let logger = options.logger.child({ requestId });
    const controller = new AbortController();
    response.once('close', () => {
      if (!response.writableFinished) controller.abort();
    });
    let file: OutgoingFile;
    try {
      const { caller, ticket } = await authorise(request, 'download');
      logger = options.logger.child({ requestId: caller.requestId, tenant: caller.tenantSlug, purpose: ticket.purpose, resourceId: ticket.resourceId });
      const handler = options.downloads?.[ticket.purpose];
      if (!handler) throw new FileTransferError(404, ErrorCode.NotFound, 'NO_HANDLER', `This service offers no "${ticket.purpose}" downloads.`);
      file = await handler({ caller, ticket, signal: controller.signal, logger });
    } catch (caught) {
      const refusal = toFileTransferError(caught, requestId);
      if (refusal.status >= 500) logger.error({ err: caught }, 'download failed');
      sendFileError(response, refusal, logger);
      return;
    }
    const gzip = acceptsGzip(request.header('accept-encoding'));
    response.status(200);
    response.setHeader('Content-Type', file.contentType ?? 'text/csv; charset=utf-8');
    response.setHeader('Content-Disposition', contentDisposition(file.fileName));
    response.setHeader('Cache-Control', 'private, no-store');
    response.setHeader('X-Content-Type-Options', 'nosniff');
    response.setHeader('Vary', 'Accept-Encoding');
    if (gzip) response.setHeader('Content-Encoding', 'gzip');
    else if (file.size !== undefined) response.setHeader('Content-Length', String(file.size));
    const source = file.body instanceof Readable ? file.body : Readable.from(file.body);
    try {
      await (gzip ? pipeline(source, createGzip(), response) : pipeline(source, response));
      logger.info('download sent');
    } catch (caught) {
      // Headers are out: the client sees the transfer break off (no final chunk, or short of
      // Content-Length), never a file that looks complete.
      if (controller.signal.aborted) logger.info('download abandoned by the client');
      else logger.error({ err: caught }, 'download failed while streaming');
      response.destroy();
    }
  });

  return router;
}
