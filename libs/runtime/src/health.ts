/** One dependency's readiness check; resolves when the dependency answers. */
export type HealthCheck = () => Promise<unknown>;

export interface DependencyHealth {
  status: 'up' | 'down';
  latencyMs: number;
  error?: string;
}

export interface HealthReport {
  status: 'ok' | 'degraded';
  service: string;
  checks: Record<string, DependencyHealth>;
}

/** Default: 2 seconds. A readiness probe must answer quickly even when a dependency hangs. */
export const healthCheckTimeoutMs = 2_000;

export async function runHealthChecks(service: string, checks: Record<string, HealthCheck>, timeoutMs = healthCheckTimeoutMs): Promise<HealthReport> {
  const entries = await Promise.all(
    Object.entries(checks).map(async ([name, check]): Promise<[string, DependencyHealth]> => {
      const started = performance.now();
      try {
        await Promise.race([
          check(),
          new Promise((_, reject) => setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs).unref()),
        ]);
        return [name, { status: 'up', latencyMs: Math.round(performance.now() - started) }];
      } catch (error) {
        // The message names the failure class only; connection strings and hosts stay in the logs.
        const message = error instanceof Error && error.message.startsWith('no answer') ? error.message : 'unreachable';
        return [name, { status: 'down', latencyMs: Math.round(performance.now() - started), error: message }];
      }
    }),
  );
  const report = Object.fromEntries(entries);
  return { status: entries.every(([, health]) => health.status === 'up') ? 'ok' : 'degraded', service, checks: report };
}
