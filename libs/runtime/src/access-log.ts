import type { NextFunction, Request, Response } from 'express';
import type { Logger } from './logger.js';

/**
 * One debug line per HTTP request once it is answered: method, path, status, duration and the
 * request headers, which is what one needs to follow a request across the gateway and the
 * subgraphs. Headers carry keys and caller tokens; the logger's redaction removes them
 * (`req.headers.*` in redactedPaths), and a stack test reads the logs to prove it.
 */
export function createAccessLog(logger: Logger) {
  return (request: Request, response: Response, next: NextFunction): void => {
    if (!logger.isLevelEnabled('debug')) return next();
    const startedAt = performance.now();
    response.on('finish', () => {
      logger.debug(
        {
          req: { method: request.method, path: request.path, headers: request.headers },
          status: response.statusCode,
          durationMs: Math.round((performance.now() - startedAt) * 10) / 10,
          requestId: response.getHeader('x-request-id') ?? request.header('x-request-id'),
        },
        'request answered',
      );
    });
    next();
  };
}
