import type { Redis } from '@gtm/runtime';
import type { FileTicketClaims } from './file-ticket.js';

export type UploadClaim = 'claimed' | 'in-progress' | 'used';

/**
 * The single-use record of upload tickets, in Redis. An upload claims its ticket atomically
 * (`SET NX`) before a byte is forwarded; a second upload with the same ticket finds it in progress
 * or used. A claim whose upload failed (the client went away, the service refused the file) is
 * released, so the same link can be tried again until it expires; one that succeeded is kept as
 * used until then. Entries expire with their ticket, so the record never grows.
 */
export interface UploadLedger {
  claim(ticket: FileTicketClaims): Promise<UploadClaim>;
  /** The upload succeeded: the ticket stays used until it expires. */
  complete(ticket: FileTicketClaims): Promise<void>;
  /** The upload failed and nothing was kept: the ticket may be used again. */
  release(ticket: FileTicketClaims): Promise<void>;
}

const inProgress = 'in-progress';
const keyOf = (ticket: FileTicketClaims) => `file-ticket:${ticket.id}`;
const used = 'used';

// Deletes only a claim still in progress: never a "used" mark.
const releaseScript = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

export function createUploadLedger(options: { redis: Redis; now?: () => number }): UploadLedger {
  const { redis } = options;
  const now = options.now ?? Date.now;
  // Kept a minute past expiry, so a clock a little behind never sees an expired ticket as unused.
  const expiryOf = (ticket: FileTicketClaims) => Math.max(ticket.expiresAt * 1000 + 60_000, now() + 1_000);

  return {
    async claim(ticket) {
      const set = await redis.set(keyOf(ticket), inProgress, 'PXAT', expiryOf(ticket), 'NX');
      if (set === 'OK') return 'claimed';
      return (await redis.get(keyOf(ticket))) === used ? 'used' : 'in-progress';
    },
    async complete(ticket) {
      await redis.set(keyOf(ticket), used, 'PXAT', expiryOf(ticket));
    },
    async release(ticket) {
      await redis.eval(releaseScript, 1, keyOf(ticket), inProgress);
    },
  };
}
