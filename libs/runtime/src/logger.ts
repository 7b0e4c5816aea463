import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger } from 'pino';

/**
 * Paths redacted from every log line. Keys, tokens and passwords must never reach the logs, even
 * when a whole request or config object is logged by mistake.
 */
export const redactedPaths = [
  'authorization',
  'password',
  'apiKey',
  'token',
  'secret',
  '*.authorization',
  '*.password',
  '*.apiKey',
  '*.token',
  '*.secret',
  'headers.authorization',
  'headers["x-api-key"]',
  'headers["x-gtm-caller"]',
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers["x-gtm-caller"]',
  'config.DATABASE_URL',
  'config.CALLER_TOKEN_PRIVATE_KEY',
];

export interface CreateLoggerOptions {
  /** The service name on every line. */
  service: string;
  /** Default: `info`. */
  level?: LoggerOptions['level'];
  /** Where lines go. Default: standard output. Tests pass a stream to read the logs. */
  destination?: NodeJS.WritableStream;
}

export function createLogger(options: CreateLoggerOptions): Logger {
  const loggerOptions: LoggerOptions = {
    level: options.level ?? 'info',
    base: { service: options.service },
    redact: { paths: redactedPaths, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return options.destination ? pino(loggerOptions, options.destination as pino.DestinationStream) : pino(loggerOptions);
}
