import type { Logger } from '@gtm/runtime';
import { Logger as GraphileLogger } from 'graphile-worker';

/**
 * graphile-worker's log lines, through the service's pino logger. Its `info` lines (a worker
 * started, a job completed) go out at debug: at info they would repeat every job's every attempt.
 */
export function createGraphileLogger(logger: Logger): GraphileLogger {
  return new GraphileLogger((scope) => (level, message, meta) => {
    const fields = { ...scope, ...meta, component: 'graphile-worker' };
    if (level === 'error') logger.error(fields, message);
    else if (level === 'warning') logger.warn(fields, message);
    else logger.debug(fields, message);
  });
}
