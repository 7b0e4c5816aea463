import { ErrorCode, type Logger } from '@gtm/runtime';
import type { Response } from 'express';
import { GraphQLError } from 'graphql';

/** Why a file transfer was refused: stable, for clients to branch on (`extensions.reason`). */
export type FileRefusalReason =
  | 'UNAUTHENTICATED'
  | 'TICKET_MALFORMED'
  | 'TICKET_ALTERED'
  | 'TICKET_EXPIRED'
  | 'TICKET_USED'
  | 'TICKET_IN_USE'
  | 'TICKET_OTHER_TENANT'
  | 'TICKET_WRONG_SERVICE'
  | 'TICKET_WRONG_METHOD'
  | 'NO_HANDLER'
  | 'FILE_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'UNSUPPORTED_CONTENT_ENCODING'
  | 'UPLOAD_INCOMPLETE'
  | 'FILE_REJECTED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'RATE_LIMITED'
  | 'SERVICE_UNAVAILABLE'
  | 'INTERNAL';

/**
 * A refusal of a file transfer with its HTTP status. Answered as JSON shaped like a GraphQL error
 * (`{ errors: [{ message, extensions: { code, reason } }] }`), so a client handles it like the
 * rest of the API.
 */
export class FileTransferError extends Error {
  override readonly name = 'FileTransferError';
  readonly isRetryable: boolean;
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    readonly reason: FileRefusalReason,
    message: string,
    readonly extensions: Record<string, unknown> = {},
  ) {
    super(message);
    this.isRetryable = status >= 500 || reason === 'TICKET_IN_USE';
  }

  toBody() {
    return { errors: [{ message: this.message, extensions: { code: this.code, reason: this.reason, ...this.extensions } }] };
  }
}

const refusalOfCode: Record<string, { status: number; reason: FileRefusalReason }> = {
  [ErrorCode.Unauthenticated]: { status: 401, reason: 'UNAUTHENTICATED' },
  [ErrorCode.Forbidden]: { status: 403, reason: 'FORBIDDEN' },
  [ErrorCode.NotFound]: { status: 404, reason: 'NOT_FOUND' },
  // The request was well formed; the file in it is not what the handler can take.
  [ErrorCode.BadUserInput]: { status: 422, reason: 'FILE_REJECTED' },
  [ErrorCode.Conflict]: { status: 409, reason: 'CONFLICT' },
  [ErrorCode.RateLimited]: { status: 429, reason: 'RATE_LIMITED' },
  [ErrorCode.UpstreamUnavailable]: { status: 503, reason: 'SERVICE_UNAVAILABLE' },
};

/**
 * What a handler's error becomes: a FileTransferError as it is; a GraphQLError raised on purpose
 * (the runtime's `badUserInput`, `notFound` …) with its code and message and the matching status;
 * anything else 500 with only the request id (it is logged, never shown).
 */
export function toFileTransferError(error: unknown, requestId: string): FileTransferError {
  if (error instanceof FileTransferError) return error;
  if (error instanceof GraphQLError) {
    const code = error.extensions['code'];
    const refusal = typeof code === 'string' ? refusalOfCode[code] : undefined;
    if (refusal) {
      const { code: _code, ...extensions } = error.extensions;
      return new FileTransferError(refusal.status, code as ErrorCode, refusal.reason, error.message, extensions);
    }
  }
  return new FileTransferError(500, ErrorCode.Internal, 'INTERNAL', `Internal server error. Quote request id ${requestId} when reporting it.`, { requestId });
}

/**
 * Answers a refusal. When the request body was not read to its end the connection is closed after
 * the answer: reading the rest of a refused gigabyte only to keep the socket alive is a waste.
 */
export function sendFileError(response: Response, error: FileTransferError, logger?: Logger): void {
  if (response.headersSent) {
    response.destroy();
    return;
  }
  if (!response.req.complete) response.setHeader('Connection', 'close');
  if (error.status === 401) response.setHeader('WWW-Authenticate', 'Bearer realm="GTM Graph"');
  logger?.info({ status: error.status, reason: error.reason }, 'file transfer refused');
  response.status(error.status).json(error.toBody());
}
