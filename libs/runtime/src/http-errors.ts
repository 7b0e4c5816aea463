import { randomUUID } from 'node:crypto';
import type { ApolloServerOptions, BaseContext } from '@apollo/server';
import type { ErrorRequestHandler, Request, Response } from 'express';
import { internalServerError, RequestErrorCode } from './errors.js';
import type { Logger } from './logger.js';

/** The request id of an HTTP request: the one assigned or forwarded, else a new one (then echoed). */
function requestIdOf(request: Request, response: Response): string {
  const assigned = response.getHeader('x-request-id') ?? request.header('x-request-id');
  if (typeof assigned === 'string' && assigned) return assigned;
  const created = randomUUID();
  if (!response.headersSent) response.setHeader('x-request-id', created);
  return created;
}

/** What body parsers and other http-errors users attach: a 4xx status, and whether the message is for the client. */
function clientErrorOf(error: unknown): { status: number; message: string } | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { status, statusCode, expose, message } = error as { status?: unknown; statusCode?: unknown; expose?: unknown; message?: unknown };
  const code = typeof status === 'number' ? status : statusCode;
  if (typeof code !== 'number' || code < 400 || code >= 500) return undefined;
  return { status: code, message: expose === true && typeof message === 'string' ? message : 'Bad request.' };
}

/**
 * The last handler of an Express app: whatever an HTTP step threw (a database that did not answer
 * while authenticating, a body that is not JSON) is answered as GraphQL over HTTP does, never with
 * Express's HTML page and its stack trace. A client's mistake (4xx from a body parser) is 400-ish
 * BAD_REQUEST; anything else is logged once with its request id and answered with the masked
 * INTERNAL_SERVER_ERROR naming that id.
 */
export function createHttpErrorHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, request, response, _next) => {
    const requestId = requestIdOf(request, response);
    const clientError = clientErrorOf(error);
    if (clientError) {
      logger.info({ requestId, status: clientError.status, reason: clientError.message, path: request.path }, 'refused a malformed request');
      if (!response.headersSent) response.status(clientError.status).json({ errors: [{ message: clientError.message, extensions: { code: RequestErrorCode.BadRequest } }] });
      return;
    }
    logger.error({ err: error, requestId, method: request.method, path: request.path }, 'unexpected error');
    // Half an answer is already out: the client must see the connection fail, not a cut body.
    if (response.headersSent) {
      request.socket.destroy();
      return;
    }
    response.status(500).json({ errors: [internalServerError(requestId).toJSON()] });
  };
}

type ApolloLogger = NonNullable<ApolloServerOptions<BaseContext>['logger']>;

function apolloLogText(message: unknown[]): string {
  return message.map((part) => (part instanceof Error ? (part.stack ?? part.message) : String(part))).join(' ');
}

/**
 * Apollo Server's own log lines through the service's logger (instead of the console). Its
 * "Unexpected error processing request" is debug only: the error masking plugin has logged that
 * error with its request id (`unexpectedErrorProcessingRequest`).
 */
export function apolloLoggerFrom(logger: Logger): ApolloLogger {
  const apollo = logger.child({ component: 'apollo-server' });
  return {
    debug: (...message: unknown[]) => apollo.debug(apolloLogText(message)),
    info: (...message: unknown[]) => apollo.info(apolloLogText(message)),
    warn: (...message: unknown[]) => apollo.warn(apolloLogText(message)),
    error: (...message: unknown[]) => {
      const line = apolloLogText(message);
      if (line.startsWith('Unexpected error processing request')) apollo.debug(line);
      else apollo.error(line);
    },
  };
}
