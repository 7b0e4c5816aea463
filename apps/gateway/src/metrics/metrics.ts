import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { Router, type NextFunction, type Request, type Response } from 'express';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface GatewayMetricsOptions {
  /** When set, GET /metrics needs `Authorization: Bearer <token>`. Default: open. */
  scrapeToken?: string;
}

/**
 * Prometheus metrics of the gateway. Labels are bounded on purpose: operation type and outcome
 * code, never the operation name or tenant, which clients control and would explode the series.
 */
export function createGatewayMetrics(options: GatewayMetricsOptions = {}) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const httpRequests = new Counter({
    name: 'gtm_gateway_http_requests_total',
    help: 'HTTP requests to /graphql by status code, rejections (401, 429, 400) included.',
    labelNames: ['status'] as const,
    registers: [registry],
  });
  const operationDuration = new Histogram({
    name: 'gtm_gateway_operation_duration_seconds',
    help: 'GraphQL operations from parsing to response, by operation type and outcome.',
    labelNames: ['type', 'outcome'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });

  return {
    registry,
    /** Reports open WebSocket connections and subscriptions, read at each scrape. */
    observeWebSockets(webSockets: { readonly openConnections: number; readonly openSubscriptions: number }): void {
      const gauges = [
        new Gauge({
          name: 'gtm_gateway_websocket_connections',
          help: 'Open WebSocket (graphql-ws) connections on this gateway process.',
          registers: [],
          collect() {
            this.set(webSockets.openConnections);
          },
        }),
        new Gauge({
          name: 'gtm_gateway_subscriptions',
          help: 'Running subscriptions on this gateway process.',
          registers: [],
          collect() {
            this.set(webSockets.openSubscriptions);
          },
        }),
      ];
      for (const gauge of gauges) registry.registerMetric(gauge);
    },
    /** Counts every /graphql answer, including those refused before GraphQL runs. */
    countRequests(_request: Request, response: Response, next: NextFunction): void {
      response.on('finish', () => httpRequests.inc({ status: String(response.statusCode) }));
      next();
    },
    /**
     * Times every GraphQL operation by type and outcome. `refusedOf` names operations that are
     * answered by a refusal made outside GraphQL (the rate limit, decided while Apollo works): they
     * are counted with the HTTP requests, like every refusal made before GraphQL ran, not here.
     */
    plugin<Context extends BaseContext>(pluginOptions: { refusedOf?: (context: Context) => Promise<boolean> } = {}): ApolloServerPlugin<Context> {
      return {
        async requestDidStart() {
          const startedAt = performance.now();
          let type = 'unknown';
          return {
            async didResolveOperation({ operation }) {
              type = operation?.operation ?? 'unknown';
            },
            async willSendResponse({ response, contextValue }) {
              const seconds = (performance.now() - startedAt) / 1000;
              if (pluginOptions.refusedOf && (await pluginOptions.refusedOf(contextValue))) return;
              const errors = response.body.kind === 'single' ? response.body.singleResult.errors : undefined;
              const code = errors?.[0]?.extensions?.['code'];
              operationDuration.observe({ type, outcome: errors?.length ? (typeof code === 'string' ? code : 'ERROR') : 'OK' }, seconds);
            },
          };
        },
      };
    },
    router(): Router {
      const router = Router();
      router.get('/metrics', async (request, response) => {
        if (options.scrapeToken && request.header('authorization') !== `Bearer ${options.scrapeToken}`) {
          response.status(401).type('text/plain').send('Unauthenticated: /metrics needs the scrape token.\n');
          return;
        }
        response.type(registry.contentType).send(await registry.metrics());
      });
      return router;
    },
  };
}
