// Runs the limiter against the real Redis. Two separate connections stand in for two gateway
// processes: the limits must hold across them, not just inside one Node process.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { CallerContext } from '@gtm/caller';
import { createRedis, type Redis } from '@gtm/runtime';
import { createTestCaller, testEnvironment, uniqueRedisPrefix } from '@gtm/testing';
import type { TierLimits, TierLimitTable } from './rate-limit.config.js';
import { createRateLimiter, type CreateRateLimiterOptions, type RateLimitDecision } from './rate-limiter.js';

let firstProcess: Redis;
let secondProcess: Redis;

beforeAll(async () => {
  firstProcess = createRedis({ url: testEnvironment.redisUrl });
  secondProcess = createRedis({ url: testEnvironment.redisUrl });
  await Promise.all([firstProcess.connect(), secondProcess.connect()]);
});

afterAll(async () => {
  await Promise.all([firstProcess.quit(), secondProcess.quit()]);
});

const generous: TierLimits = { perMinute: 1_000, perDay: 1_000_000, llmPerDay: 1_000 };

function table(pro: Partial<TierLimits>): TierLimitTable {
  return { free: { perMinute: 1, perDay: 1, llmPerDay: 1 }, pro: { ...generous, ...pro }, enterprise: generous };
}

/** A clock the test moves by hand. */
function manualClock(isoTime: string) {
  let current = Date.parse(isoTime);
  return {
    now: () => current,
    set(next: string) {
      current = Date.parse(next);
    },
  };
}

/** Two limiters over one key space, each on its own connection, like two gateway processes. */
function twoGatewayProcesses(options: Omit<CreateRateLimiterOptions, 'redis' | 'keyPrefix'>) {
  const keyPrefix = uniqueRedisPrefix();
  return [createRateLimiter({ ...options, redis: firstProcess, keyPrefix }), createRateLimiter({ ...options, redis: secondProcess, keyPrefix })] as const;
}

async function consumeTimes(count: number, consume: () => Promise<RateLimitDecision>): Promise<RateLimitDecision[]> {
  const decisions: RateLimitDecision[] = [];
  for (let index = 0; index < count; index += 1) decisions.push(await consume());
  return decisions;
}

const allowedCount = (decisions: RateLimitDecision[]) => decisions.filter((decision) => decision.allowed).length;

describe('request limits', () => {
  it('lets exactly the limit through when 50 requests race from two gateway processes', async () => {
    const [first, second] = twoGatewayProcesses({ limits: table({ perMinute: 20 }) });
    const caller = createTestCaller({ tier: 'pro' });

    const decisions = await Promise.all(Array.from({ length: 50 }, (_, index) => (index % 2 === 0 ? first : second).consume(caller)));

    expect(allowedCount(decisions)).toBe(20);
    // Each admitted request saw its own count: no two processes took the same slot.
    const remainingSeen = decisions.filter((decision) => decision.allowed).map((decision) => decision.remaining);
    expect(remainingSeen.toSorted((left, right) => left - right)).toEqual(Array.from({ length: 20 }, (_, index) => index));
    for (const refused of decisions.filter((decision) => !decision.allowed)) {
      expect(refused).toMatchObject({ limit: 20, remaining: 0, window: 'minute' });
    }
  });

  it('counts each API key and each tenant separately, by the tier of the caller', async () => {
    const [limiter] = twoGatewayProcesses({ limits: table({ perMinute: 2 }) });
    const firstKey = createTestCaller({ tier: 'pro', keyId: 'key-one' });
    const secondKey = createTestCaller({ tenantId: firstKey.tenantId, tier: 'pro', keyId: 'key-two' });
    const otherTenant = createTestCaller({ tier: 'pro', keyId: 'key-one' });
    const freeTenant = createTestCaller({ tier: 'free' });

    expect(allowedCount(await consumeTimes(3, () => limiter.consume(firstKey)))).toBe(2);
    expect(allowedCount(await consumeTimes(3, () => limiter.consume(secondKey)))).toBe(2);
    expect(allowedCount(await consumeTimes(3, () => limiter.consume(otherTenant)))).toBe(2);
    expect(allowedCount(await consumeTimes(3, () => limiter.consume(freeTenant)))).toBe(1);
  });

  it('keeps a day window that outlasts the minute windows', async () => {
    const clock = manualClock('2030-03-04T10:00:05.000Z');
    const [limiter] = twoGatewayProcesses({ limits: table({ perMinute: 5, perDay: 8 }), now: clock.now });
    const caller = createTestCaller({ tier: 'pro' });

    const firstMinute = await consumeTimes(6, () => limiter.consume(caller));
    expect(firstMinute.map((decision) => decision.allowed)).toEqual([true, true, true, true, true, false]);
    expect(firstMinute[5]).toMatchObject({ window: 'minute', limit: 5, remaining: 0, resetSeconds: 55 });

    clock.set('2030-03-04T10:01:00.000Z');
    const secondMinute = await consumeTimes(4, () => limiter.consume(caller));
    expect(secondMinute.map((decision) => decision.allowed)).toEqual([true, true, true, false]);
    // After the third request the day (0 left) is tighter than the minute (2 left).
    expect(secondMinute[2]).toMatchObject({ allowed: true, window: 'day', limit: 8, remaining: 0 });
    expect(secondMinute[3]).toMatchObject({ allowed: false, window: 'day', limit: 8, remaining: 0, resetSeconds: 14 * 3600 - 60 });

    clock.set('2030-03-04T23:59:59.500Z');
    expect(await limiter.consume(caller)).toMatchObject({ allowed: false, window: 'day', resetSeconds: 1 });

    clock.set('2030-03-05T00:00:00.000Z');
    expect(await limiter.consume(caller)).toMatchObject({ allowed: true, window: 'minute', limit: 5, remaining: 4, resetSeconds: 60 });
  });

  it('does not count refused requests against either window', async () => {
    const clock = manualClock('2030-03-04T10:00:00.000Z');
    const [limiter] = twoGatewayProcesses({ limits: table({ perMinute: 3, perDay: 5 }), now: clock.now });
    const caller = createTestCaller({ tier: 'pro' });

    expect(allowedCount(await consumeTimes(3, () => limiter.consume(caller)))).toBe(3);
    expect(allowedCount(await consumeTimes(20, () => limiter.consume(caller)))).toBe(0);

    // Had the twenty refusals counted, the day (5) would already be used up.
    clock.set('2030-03-04T10:01:00.000Z');
    const nextMinute = await consumeTimes(3, () => limiter.consume(caller));
    expect(nextMinute.map((decision) => decision.allowed)).toEqual([true, true, false]);
    expect(nextMinute[2]).toMatchObject({ window: 'day' });
  });

  it('starts a new minute on the UTC minute boundary, and reports the wait until then', async () => {
    const clock = manualClock('2030-03-04T10:00:30.000Z');
    const [limiter] = twoGatewayProcesses({ limits: table({ perMinute: 2 }), now: clock.now });
    const caller = createTestCaller({ tier: 'pro' });

    expect(await limiter.consume(caller)).toMatchObject({ allowed: true, window: 'minute', remaining: 1, resetSeconds: 30 });
    clock.set('2030-03-04T10:00:59.200Z');
    expect(await limiter.consume(caller)).toMatchObject({ allowed: true, remaining: 0, resetSeconds: 1 });
    expect(await limiter.consume(caller)).toMatchObject({ allowed: false, window: 'minute', resetSeconds: 1 });

    clock.set('2030-03-04T10:01:00.000Z');
    expect(await limiter.consume(caller)).toMatchObject({ allowed: true, remaining: 1, resetSeconds: 60 });
  });

  it('lets Redis expire the counters once their window is over', async () => {
    const keyPrefix = uniqueRedisPrefix();
    const limiter = createRateLimiter({ redis: firstProcess, keyPrefix, limits: table({}), now: () => Date.parse('2030-03-04T10:00:50.000Z') });
    await limiter.consume(createTestCaller({ tier: 'pro' }));

    const keys = await firstProcess.keys(`${keyPrefix}*`);
    const lifetimes = Object.fromEntries(await Promise.all(keys.map(async (key) => [key.includes(':minute:') ? 'minute' : 'day', await firstProcess.ttl(key)])));
    // The rest of the window plus a minute of allowance for clocks that disagree.
    expect(lifetimes['minute']).toBeGreaterThan(60);
    expect(lifetimes['minute']).toBeLessThanOrEqual(70);
    expect(lifetimes['day']).toBeGreaterThan(14 * 3600 - 50 + 50);
    expect(lifetimes['day']).toBeLessThanOrEqual(14 * 3600 - 50 + 60);
  });
});

describe('LLM budget', () => {
  it('takes a cost all or nothing, apart from the request limits, and starts over at UTC midnight', async () => {
    const clock = manualClock('2030-03-04T18:00:00.000Z');
    const [limiter] = twoGatewayProcesses({ limits: table({ perMinute: 1, perDay: 1, llmPerDay: 5 }), now: clock.now });
    const caller = createTestCaller({ tier: 'pro' });

    // Requests run out; the LLM budget is a separate count.
    await consumeTimes(2, () => limiter.consume(caller));
    expect(await limiter.consumeLlmBudget(caller, 3)).toEqual({ allowed: true, limit: 5, remaining: 2, resetSeconds: 6 * 3600, window: 'day' });
    expect(await limiter.consumeLlmBudget(caller, 3)).toMatchObject({ allowed: false, remaining: 2 });
    expect(await limiter.llmBudgetRemaining(caller)).toEqual({ limit: 5, remaining: 2, resetSeconds: 6 * 3600 });
    expect(await limiter.consumeLlmBudget(caller, 2)).toMatchObject({ allowed: true, remaining: 0 });
    expect(await limiter.consumeLlmBudget(caller)).toMatchObject({ allowed: false, remaining: 0 });

    clock.set('2030-03-05T00:00:00.000Z');
    expect(await limiter.llmBudgetRemaining(caller)).toEqual({ limit: 5, remaining: 5, resetSeconds: 24 * 3600 });
    expect(await limiter.consumeLlmBudget(caller)).toMatchObject({ allowed: true, remaining: 4 });
  });

  it('is shared by all API keys of a tenant, so a new key does not bring a new budget', async () => {
    const [limiter] = twoGatewayProcesses({ limits: table({ llmPerDay: 3 }) });
    const firstKey = createTestCaller({ tier: 'pro', keyId: 'key-one' });
    const secondKey: CallerContext = { ...firstKey, keyId: 'key-two' };

    expect(await limiter.consumeLlmBudget(firstKey, 2)).toMatchObject({ allowed: true, remaining: 1 });
    expect(await limiter.consumeLlmBudget(secondKey, 2)).toMatchObject({ allowed: false, remaining: 1 });
    expect(await limiter.consumeLlmBudget(secondKey, 1)).toMatchObject({ allowed: true, remaining: 0 });
  });

  it('lets exactly the budget through when 30 LLM operations race from two gateway processes', async () => {
    const [first, second] = twoGatewayProcesses({ limits: table({ llmPerDay: 10 }) });
    const caller = createTestCaller({ tier: 'pro' });

    const decisions = await Promise.all(Array.from({ length: 30 }, (_, index) => (index % 2 === 0 ? first : second).consumeLlmBudget(caller)));

    expect(allowedCount(decisions)).toBe(10);
    expect(await first.llmBudgetRemaining(caller)).toMatchObject({ remaining: 0 });
  });

  it('refuses a cost that is not a positive whole number', async () => {
    const [limiter] = twoGatewayProcesses({ limits: table({}) });
    const caller = createTestCaller({ tier: 'pro' });
    for (const cost of [0, -1, 1.5, Number.NaN]) {
      await expect(limiter.consumeLlmBudget(caller, cost)).rejects.toThrow(RangeError);
    }
    expect(await limiter.llmBudgetRemaining(caller)).toMatchObject({ remaining: generous.llmPerDay });
  });
});
