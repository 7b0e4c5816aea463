import { LlmAbortedError } from './llm.errors.js';

interface Flight<Value> {
  promise: Promise<Value>;
  controller: AbortController;
  waiters: number;
}

/**
 * Concurrent identical calls in one process share one execution. The shared work runs on its own
 * AbortSignal: one caller giving up rejects only that caller, and the work is cancelled only when
 * every caller has given up.
 */
export class SingleFlight<Value> {
  private readonly flights = new Map<string, Flight<Value>>();

  async run(key: string, signal: AbortSignal | undefined, work: (signal: AbortSignal) => Promise<Value>): Promise<{ value: Value; leader: boolean }> {
    if (signal?.aborted) throw new LlmAbortedError();
    let flight = this.flights.get(key);
    const leader = !flight;
    if (!flight) {
      const controller = new AbortController();
      const created: Flight<Value> = { controller, waiters: 0, promise: Promise.resolve(undefined as Value) };
      created.promise = work(controller.signal).finally(() => {
        if (this.flights.get(key) === created) this.flights.delete(key);
      });
      this.flights.set(key, created);
      flight = created;
    }
    flight.waiters += 1;
    const joined = flight;
    if (!signal) return { value: await joined.promise, leader };
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        joined.waiters -= 1;
        if (joined.waiters === 0) {
          joined.controller.abort();
          // A caller arriving now must start afresh, not join work that is being cancelled.
          if (this.flights.get(key) === joined) this.flights.delete(key);
        }
        reject(new LlmAbortedError());
      };
      signal.addEventListener('abort', onAbort, { once: true });
      joined.promise.then(
        (value) => {
          signal.removeEventListener('abort', onAbort);
          resolve({ value, leader });
        },
        (error: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(error);
        },
      );
    });
  }
}
