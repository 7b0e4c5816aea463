import type { Logger } from '@gtm/runtime';

export interface KeyRevocationWatchOptions {
  /** How often the keys of open connections are checked. */
  intervalMs: number;
  /** The keys of open connections right now. */
  keysInUse: () => Iterable<string>;
  /** Which of these keys are still valid, asked of the key registry itself (no cache). */
  stillValid: (keyIds: string[]) => Promise<Set<string>>;
  /** Ends everything a key that is no longer valid holds open. */
  onRevoked: (keyId: string) => void;
  logger: Logger;
}

export interface KeyRevocationWatch {
  /** Checks now; resolves once done (tests, and the timer). */
  checkNow(): Promise<void>;
  stop(): void;
}

/**
 * A WebSocket connection authenticates once, then may stay open for hours while its client sends
 * nothing: a revoked key would keep receiving events until the client sent something new. Every
 * `intervalMs` (half the key cache's lifetime, so a revocation takes effect within that lifetime,
 * as over HTTP), the keys of open connections are looked up in one query, and the connections of
 * a key that is gone are closed. When the registry does not answer, connections stay open (logged):
 * a database hiccup must not drop every subscriber.
 */
export function watchKeyRevocation(options: KeyRevocationWatchOptions): KeyRevocationWatch {
  let running: Promise<void> | null = null;
  const check = async () => {
    const keyIds = [...new Set(options.keysInUse())];
    if (keyIds.length === 0) return;
    let valid: Set<string>;
    try {
      valid = await options.stillValid(keyIds);
    } catch (error) {
      options.logger.warn({ err: error }, 'could not check the API keys of open WebSocket connections; they stay open');
      return;
    }
    for (const keyId of keyIds) if (!valid.has(keyId)) options.onRevoked(keyId);
  };
  const checkNow = () => (running ??= check().finally(() => (running = null)));
  const timer = setInterval(() => void checkNow(), options.intervalMs);
  timer.unref();
  return { checkNow, stop: () => clearInterval(timer) };
}
