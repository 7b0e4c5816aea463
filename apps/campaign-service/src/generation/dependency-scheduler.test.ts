import { describe, expect, it } from '@jest/globals';
import { runInDependencyOrder } from './dependency-scheduler.js';

const sleep = (milliseconds: number) => new Promise((resolve) => setTimeout(resolve, milliseconds));

/** Runs `graph` with steps that take `durationMs`, recording when each started and ended. */
async function record(graph: Record<string, string[]>, options: { durationMs?: number; failing?: string[]; concurrency?: number } = {}) {
  const events: string[] = [];
  const spans = new Map<string, { start: number; end: number }>();
  const outcomes = await runInDependencyOrder(
    Object.keys(graph),
    (step) => graph[step] ?? [],
    async (step) => {
      const start = performance.now();
      events.push(`start ${step}`);
      await sleep(options.durationMs ?? 20);
      events.push(`end ${step}`);
      spans.set(step, { start, end: performance.now() });
      if (options.failing?.includes(step)) throw new Error(`${step} failed`);
    },
    { concurrency: options.concurrency },
  );
  return { events, spans, outcomes };
}

const overlap = (left: { start: number; end: number }, right: { start: number; end: number }) => left.start < right.end && right.start < left.end;

describe('runInDependencyOrder', () => {
  it('runs a chain one step after the other, each after the step it depends on', async () => {
    const { events } = await record({ a: [], b: ['a'], c: ['b'] });
    expect(events).toEqual(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
  });

  it('runs steps whose prerequisites are ready at the same time', async () => {
    // b and c both need only a; d needs both.
    const { spans, events } = await record({ a: [], b: ['a'], c: ['a'], d: ['b', 'c'] }, { durationMs: 40 });
    expect(overlap(spans.get('b')!, spans.get('c')!)).toBe(true);
    expect(spans.get('b')!.start).toBeGreaterThanOrEqual(spans.get('a')!.end);
    expect(spans.get('d')!.start).toBeGreaterThanOrEqual(Math.max(spans.get('b')!.end, spans.get('c')!.end));
    expect(events.at(-1)).toBe('end d');
  });

  it('keeps to the concurrency limit', async () => {
    const { spans } = await record({ a: [], b: [], c: [] }, { durationMs: 30, concurrency: 1 });
    const [a, b, c] = ['a', 'b', 'c'].map((step) => spans.get(step)!);
    expect(overlap(a!, b!) || overlap(b!, c!) || overlap(a!, c!)).toBe(false);
  });

  it('skips what depends on a failed step, transitively, and runs everything else', async () => {
    const { outcomes, events } = await record({ a: [], b: ['a'], c: ['b'], d: [] }, { failing: ['a'] });
    expect(outcomes.get('a')).toMatchObject({ status: 'failed' });
    expect(outcomes.get('b')).toEqual({ status: 'skipped', because: 'a' });
    expect(outcomes.get('c')).toEqual({ status: 'skipped', because: 'b' });
    expect(outcomes.get('d')).toEqual({ status: 'succeeded' });
    expect(events).not.toContain('start b');
  });

  it('treats dependencies outside the run as ready, and never hangs on a cycle', async () => {
    const outside = await record({ b: ['a'] });
    expect(outside.outcomes.get('b')).toEqual({ status: 'succeeded' });
    const cycle = await record({ x: ['y'], y: ['x'] });
    expect([...cycle.outcomes.values()].map((outcome) => outcome.status)).toEqual(['skipped', 'skipped']);
  });
});
