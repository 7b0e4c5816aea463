/**
 * Polls `check` until it gives a value (anything but undefined), for what a test waits on that
 * happens in the background (a job, a watcher, an event consumer); throws after `timeoutMs`.
 */
export async function waitFor<Value>(check: () => Promise<Value | undefined>, timeoutMs = 20_000, intervalMs = 150): Promise<Value> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
