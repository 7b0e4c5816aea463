import { runHealthChecks, type HealthCheck } from '@gtm/runtime';
import { Router } from 'express';
import type { Agent } from 'undici';
import { fetch as undiciFetch } from 'undici';
import type { SubgraphName } from '../config.js';

export interface HealthRouteOptions {
  subgraphUrls: Record<SubgraphName, string>;
  agent: Agent;
  /** The gateway's own dependencies (its PostgreSQL schema, Redis). */
  dependencies: Record<string, HealthCheck>;
}

/**
 * `GET /health/live`: the process answers. `GET /health`: readiness, with each subgraph's own
 * /health (which covers its PostgreSQL and Redis); 503 when any part is down.
 */
export function createHealthRouter(options: HealthRouteOptions): Router {
  const router = Router();
  router.get('/health/live', (_request, response) => {
    response.json({ status: 'ok', service: 'gateway' });
  });
  router.get('/health', async (_request, response) => {
    const subgraphChecks = Object.fromEntries(
      Object.entries(options.subgraphUrls).map(([name, url]) => [
        `${name}-service`,
        async () => {
          const answer = await undiciFetch(url.replace(/\/graphql$/, '/health'), { dispatcher: options.agent });
          await answer.body?.cancel();
          if (!answer.ok) throw new Error(`status ${answer.status}`);
        },
      ]),
    );
    const report = await runHealthChecks('gateway', { ...options.dependencies, ...subgraphChecks });
    response.status(report.status === 'ok' ? 200 : 503).json(report);
  });
  return router;
}
