import type { ApolloServerPlugin } from '@apollo/server';
import type { NextFunction, Request, Response } from 'express';
import type { CallerContext } from '@gtm/caller';
import type { RequestUsageRecorder } from './request-usage.recorder.js';

/** What GraphQL execution learns about a request, filled in as it goes. */
export interface RequestMeter {
  operationName: string | null;
  operationType: string | null;
  /** OK or the first error's code; unset when the request was answered before GraphQL ran. */
  outcome: string | null;
}

const operationNameMaximumLength = 200;

// Answers given before GraphQL runs have no error code to read; their status says what happened.
function outcomeOfStatus(status: number): string {
  if (status === 429) return 'RATE_LIMITED';
  if (status === 401) return 'UNAUTHENTICATED';
  if (status === 403) return 'FORBIDDEN';
  if (status >= 500) return 'INTERNAL_SERVER_ERROR';
  if (status >= 400) return 'BAD_REQUEST';
  return 'OK';
}

export function meterOf(response: Response): RequestMeter {
  return response.locals['meter'] as RequestMeter;
}

/**
 * Mount first on /graphql: starts the clock, and when the answer has gone out records one usage
 * row for an authenticated caller (refusals such as 429 included).
 */
export function createRequestMetering(options: { recorder: RequestUsageRecorder; callerOf: (response: Response) => CallerContext | undefined }) {
  return (_request: Request, response: Response, next: NextFunction): void => {
    const startedAt = performance.now();
    const meter: RequestMeter = { operationName: null, operationType: null, outcome: null };
    response.locals['meter'] = meter;
    response.on('finish', () => {
      const caller = options.callerOf(response);
      if (!caller?.keyId) return;
      options.recorder.record({
        tenantId: caller.tenantId,
        apiKeyId: caller.keyId,
        requestId: caller.requestId,
        operationName: meter.operationName,
        operationType: meter.operationType,
        outcome: meter.outcome ?? outcomeOfStatus(response.statusCode),
        httpStatus: response.statusCode,
        durationMs: performance.now() - startedAt,
        at: new Date(),
      });
    });
    next();
  };
}

/** Tells the request's meter which operation ran and how it ended. */
export function useRequestMetering<Context extends { meter?: RequestMeter }>(): ApolloServerPlugin<Context> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ contextValue, operationName, operation, request, response }) {
          const meter = contextValue.meter;
          if (!meter) return;
          const name = operationName ?? request.operationName ?? null;
          meter.operationName = name ? name.slice(0, operationNameMaximumLength) : null;
          meter.operationType = operation?.operation ?? null;
          const errors = response.body.kind === 'single' ? response.body.singleResult.errors : undefined;
          const code = errors?.[0]?.extensions?.['code'];
          meter.outcome = errors?.length ? (typeof code === 'string' ? code : 'INTERNAL_SERVER_ERROR') : 'OK';
        },
      };
    },
  };
}
