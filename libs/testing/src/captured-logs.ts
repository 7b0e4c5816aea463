import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';

export interface CapturedLogs {
  /** A pino logger (level `debug`) whose lines stay in memory. */
  logger: Logger;
  /** Every line written, as text. */
  lines: string[];
  /** Every line parsed: `{ level, msg, ... }`. */
  entries(): Record<string, unknown>[];
  /** The entries at `warn` level (pino level 40). */
  warnings(): Record<string, unknown>[];
}

/** A logger for tests that assert what was (and was not) logged, e.g. that no secret ever is. */
export function captureLogs(): CapturedLogs {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  const logger = pino({ level: 'debug' }, destination);
  const entries = () => lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  return { logger, lines, entries, warnings: () => entries().filter((entry) => entry['level'] === 40) };
}
