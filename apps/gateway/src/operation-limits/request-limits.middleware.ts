import type { GraphQLFormattedError } from 'graphql';
import express, { type ErrorRequestHandler, type RequestHandler, type Response } from 'express';
import type { OperationLimits } from './operation-limits.config.js';
import { operationLimitError } from './operation-limits.rules.js';

export interface RequestLimitsOptions extends Pick<OperationLimits, 'maximumBodyBytes' | 'maximumBatchLength'> {
  /**
   * Whether the GraphQL server accepts batched requests (Apollo's `allowBatchedHttpRequests`).
   * Default false, like the gateway's ApolloServer. Batching stays off on purpose: one HTTP
   * request carrying N operations would pass the per-operation depth and cost limits N times over
   * and count as one request for rate limiting, and no client of ours needs it (Apollo Client
   * batches only when asked to, graphql-ws multiplexes on one socket instead).
   * Either way an array longer than `maximumBatchLength` is refused as the `batch` limit, so the
   * limit already holds on the day batching is turned on.
   */
  batchedRequestsAllowed?: boolean;
  /**
   * A decision still being made about the request that takes precedence over these refusals (the
   * rate limit): awaited before one is sent. Resolves false when it answered the request itself.
   * Default: none.
   */
  answeredFirst?: (response: Response) => Promise<boolean>;
}

// Apollo Server's own code for a malformed request; the gateway's error masking lets it through.
const badRequestCode = 'BAD_REQUEST';

type ErrorSender = (response: Response, status: number, errors: GraphQLFormattedError[]) => Promise<void>;

function errorSender(options: Pick<RequestLimitsOptions, 'answeredFirst'>): ErrorSender {
  return async (response, status, errors) => {
    if (options.answeredFirst && !(await options.answeredFirst(response))) return;
    response.status(status).json({ errors });
  };
}

interface BodyParserError {
  type: string;
  status: number;
  expose?: boolean;
  message: string;
  limit?: number;
  length?: number;
  received?: number;
}

function isBodyParserError(error: unknown): error is BodyParserError {
  if (typeof error !== 'object' || error === null) return false;
  const candidate = error as Partial<BodyParserError>;
  return typeof candidate.type === 'string' && typeof candidate.status === 'number' && candidate.status >= 400 && candidate.status < 500;
}

/**
 * Express's default error handler answers body-parser failures with an HTML page and status 413
 * (too large) or 400 (malformed). A GraphQL client expects `{ errors: [...] }`, so they are
 * answered here: too large as the `body` limit (400, like every other limit), anything else the
 * parser refused as BAD_REQUEST with its own status.
 */
const bodyParserErrors = (maximumBodyBytes: number, sendErrors: ErrorSender): ErrorRequestHandler => (error: unknown, _request, response, next) => {
  if (!isBodyParserError(error) || response.headersSent) return next(error);
  if (error.type === 'entity.too.large') {
    // Content-Length known: the exact size, refused before reading. Streamed: what arrived before the cut-off.
    const exact = typeof error.length === 'number';
    const actual = exact ? (error.length ?? 0) : (error.received ?? maximumBodyBytes + 1);
    const limitError = operationLimitError('body', maximumBodyBytes, actual, { actualIsLowerBound: !exact });
    return sendErrors(response, 400, [limitError.toJSON()]);
  }
  const message = error.type === 'entity.parse.failed' ? `The request body is not valid JSON: ${error.message}` : error.expose ? error.message : 'The request body could not be read.';
  return sendErrors(response, error.status, [{ message, extensions: { code: badRequestCode } }]);
};

const batchLength = ({ maximumBatchLength, batchedRequestsAllowed = false }: RequestLimitsOptions, sendErrors: ErrorSender): RequestHandler => (request, response, next) => {
  const body: unknown = request.body;
  if (!Array.isArray(body)) return next();
  if (body.length > maximumBatchLength) return sendErrors(response, 400, [operationLimitError('batch', maximumBatchLength, body.length).toJSON()]);
  if (batchedRequestsAllowed) return next();
  return sendErrors(response, 400, [
    {
      message: 'Batched requests (a JSON array of operations) are not supported. Send one operation per request.',
      extensions: { code: badRequestCode },
    },
  ]);
};

/**
 * The request-level limits, in front of the GraphQL handler in place of `express.json()`: parses
 * JSON bodies up to `maximumBodyBytes` (counted after decompression, so a small gzip body cannot
 * expand past it), answers parser failures as JSON errors, and enforces the batch length.
 */
export function requestLimits(options: RequestLimitsOptions): Array<RequestHandler | ErrorRequestHandler> {
  const sendErrors = errorSender(options);
  return [express.json({ limit: options.maximumBodyBytes }), bodyParserErrors(options.maximumBodyBytes, sendErrors), batchLength(options, sendErrors)];
}
