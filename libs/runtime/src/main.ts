import { ConfigurationError } from './config.js';

/**
 * Runs a process's main: starts the app, closes it on SIGINT/SIGTERM, and turns a configuration
 * error into one readable message and exit code 1 instead of a stack trace.
 */
export async function runMain(name: string, start: () => Promise<{ close(): Promise<void> }>): Promise<void> {
  let app: { close(): Promise<void> };
  try {
    app = await start();
  } catch (error) {
    if (error instanceof ConfigurationError) {
      process.stderr.write(`${name}: ${error.message}\n`);
    } else {
      process.stderr.write(`${name}: failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    }
    process.exit(1);
  }
  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    process.stderr.write(`${name}: ${signal} received, draining\n`);
    app.close().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`${name}: shutdown failed: ${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}
