import type { Logger } from 'pino';

/** The part of a pino logger the layer uses; a service passes its own. */
export type LlmLogger = Pick<Logger, 'error' | 'warn' | 'info' | 'debug'>;

/** Used when no logger is given. */
export const silentLlmLogger: LlmLogger = {
  error: () => {},
  warn: () => {},
  info: () => {},
  debug: () => {},
};
