import { randomUUID, randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from '@jest/globals';
import { createRedis } from '@gtm/runtime';
import { testEnvironment, uniqueRedisPrefix } from '@gtm/testing';
import { createFileTickets } from './file-ticket.js';
import { createUploadLedger } from './upload-ledger.js';

const redis = createRedis({ url: testEnvironment.redisUrl, keyPrefix: uniqueRedisPrefix() });
afterAll(() => redis.quit());

describe('upload ledger', () => {
  const tickets = createFileTickets({ secretsKey: randomBytes(32).toString('base64') });
  const issue = () => tickets.issueUpload({ tenantId: randomUUID(), service: 'crm', purpose: 'lead-import', resourceId: 'r' }).claims;

  it('lets exactly one of many concurrent uploads claim a ticket', async () => {
    await redis.connect();
    const ledger = createUploadLedger({ redis });
    const ticket = issue();
    const outcomes = await Promise.all(Array.from({ length: 20 }, () => ledger.claim(ticket)));
    expect(outcomes.filter((outcome) => outcome === 'claimed')).toHaveLength(1);
    expect(outcomes.filter((outcome) => outcome === 'in-progress')).toHaveLength(19);
  });

  it('frees a failed upload for another try, and keeps a completed one used', async () => {
    const ledger = createUploadLedger({ redis });
    const ticket = issue();
    expect(await ledger.claim(ticket)).toBe('claimed');
    await ledger.release(ticket);
    expect(await ledger.claim(ticket)).toBe('claimed');
    await ledger.complete(ticket);
    expect(await ledger.claim(ticket)).toBe('used');
    await ledger.release(ticket);
    expect(await ledger.claim(ticket)).toBe('used');
  });

  it('forgets a ticket a minute after it expires', async () => {
    const ledger = createUploadLedger({ redis });
    const ticket = issue();
    await ledger.claim(ticket);
    const ttlSeconds = await redis.ttl(`file-ticket:${ticket.id}`);
    expect(ttlSeconds).toBeGreaterThan(15 * 60);
    expect(ttlSeconds).toBeLessThanOrEqual(16 * 60);
  });
});
