// Where the six services run in development (decision 0022): the five subgraphs together in one
// Node process, the gateway in a worker thread of `npm start` itself. Each service still starts
// through its own composition root (`createApp(loadConfig(environment))`), as in production, where
// each runs alone (docker-compose.yml). A crashed subgraph process is restarted while the gateway
// answers with what it can; a crashed gateway thread is restarted while the subgraphs keep running.
import { join } from 'node:path';
import { launchProcess, launchWorker } from './launch.ts';
import { checkHttp } from './network.ts';
import { appStopSteps, gatewayStopSteps } from './process-records.ts';
import { workspaceRoot } from './settings.ts';
import type { PartSpec } from './supervisor.ts';

export const subgraphs = [
  { app: 'campaign-service', port: 4001, urlVariable: 'CAMPAIGN_SERVICE_URL' },
  { app: 'content-service', port: 4002, urlVariable: 'CONTENT_SERVICE_URL' },
  { app: 'enrichment-service', port: 4003, urlVariable: 'ENRICHMENT_SERVICE_URL' },
  { app: 'crm-service', port: 4004, urlVariable: 'CRM_SERVICE_URL' },
  { app: 'conversation-service', port: 4005, urlVariable: 'CONVERSATION_SERVICE_URL' },
] as const;

export const allApps = ['gateway', ...subgraphs.map((subgraph) => subgraph.app)];

/** What the service host imports of an app; missing until `npm run build`. */
export function builtCompositionRoot(app: string): string {
  return join(workspaceRoot, 'apps', app, 'dist', 'app.js');
}

export interface SubgraphPlacement {
  app: string;
  port: number;
}

/** Marks the subgraphs process's command line, so a later run can recognise it as ours. */
const subgraphsMarker = '// npm start: the five subgraphs';

const moduleUrl = (specifier: string) => JSON.stringify(import.meta.resolve(specifier));

/**
 * The two programs below are given to Node as source, not as files: Node would strip a .ts file's
 * types with a WebAssembly compiler that stays loaded, about 18 MB per process or thread, for
 * ten lines. They import the apps' built code by absolute URL.
 */
function subgraphsSource(placements: SubgraphPlacement[]): string {
  const roots = placements.map(({ app, port }) => `[${moduleUrl(`@gtm/${app}/app`)}, ${moduleUrl(`@gtm/${app}/config`)}, ${JSON.stringify(String(port))}]`);
  return `${subgraphsMarker}
const { runMain } = await import(${moduleUrl('@gtm/runtime')});
const roots = [${roots.join(', ')}];
await runMain('subgraphs', async () => {
  const started = [];
  try {
    for (const [appModule, configModule, port] of roots) {
      const [{ createApp }, { loadConfig }] = await Promise.all([import(appModule), import(configModule)]);
      started.push(await createApp(loadConfig({ ...process.env, PORT: port })));
    }
  } catch (error) {
    await Promise.allSettled(started.map((running) => running.close()));
    throw error;
  }
  return { close: async () => void (await Promise.all(started.map((running) => running.close()))) };
});
`;
}

export function subgraphsSpec(placements: SubgraphPlacement[], environment: NodeJS.ProcessEnv): PartSpec {
  const source = subgraphsSource(placements);
  return {
    name: 'subgraphs',
    launch: () =>
      launchProcess({
        command: process.execPath,
        // V8 sizes its young generation for throughput (up to 16 MB per semi-space); an idle
        // development stack gains nothing from that and pays for it in resident memory.
        args: ['--max-semi-space-size=1', '--input-type=module', '--eval', source],
        environment,
      }),
    marker: subgraphsMarker,
    stopSteps: appStopSteps,
    // Each subgraph's readiness covers its PostgreSQL and Redis.
    ready: async () => void (await Promise.all(placements.map(({ port }) => checkHttp(`http://127.0.0.1:${port}/health`)))),
  };
}

/**
 * The gateway's worker. Its logger writes to the worker's `process.stdout` (a stream this thread
 * reads) rather than to file descriptor 1, which would bypass the supervisor's log formatting.
 */
function gatewaySource(): string {
  return `import { parentPort } from 'node:worker_threads';
const [{ createApp }, { loadConfig }, { createLogger }] = await Promise.all([import(${moduleUrl('@gtm/gateway/app')}), import(${moduleUrl('@gtm/gateway/config')}), import(${moduleUrl('@gtm/runtime')})]);
const config = loadConfig(process.env);
const app = await createApp(config, { logger: createLogger({ service: 'gateway', level: config.LOG_LEVEL, destination: process.stdout }) });
parentPort.on('message', async (message) => {
  if (message !== 'stop') return;
  await app.close();
  process.exit(0);
});
`;
}

/** The gateway's V8 old generation, in MB: `--max-old-space-size` in docker-compose and the Dockerfile. */
export const gatewayOldGenerationMb = 256;

export function gatewaySpec(probeUrl: string, environment: NodeJS.ProcessEnv): PartSpec {
  const source = gatewaySource();
  return {
    name: 'gateway',
    // The gateway's old generation is bounded, as in production (decision 0029): under steady
    // load V8 otherwise lets it grow to several times what is live before collecting.
    launch: () => launchWorker({ source, environment, resourceLimits: { maxOldGenerationSizeMb: gatewayOldGenerationMb } }),
    stopSteps: gatewayStopSteps,
    // Liveness, not readiness: the gateway is up even while a subgraph is being restarted.
    ready: () => checkHttp(`${probeUrl}/health/live`),
  };
}
