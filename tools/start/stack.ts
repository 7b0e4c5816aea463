// `npm start` (after `npm run build`): runs the whole system on this machine — PostgreSQL, Redis,
// the five subgraphs and the gateway — keeps it running, and stops it again, in order, on Ctrl-C.
// Why and how: docs/decisions/0003-embedded-defaults.md and 0022-npm-start-supervises.md. Node
// runs these files by type stripping, so they use erasable TypeScript only.
import { existsSync, mkdirSync } from 'node:fs';
import { ConfigurationError } from '@gtm/runtime/config';
import { startMailSink } from '@gtm/testing/mail-sink';
import { printBanner } from './banner.ts';
import { prepareEmbeddedPostgres } from './embedded-postgres.ts';
import { checkDevelopmentApiKey, developmentApiKey, loadCallerKeys, loadSecretsKey } from './keys.ts';
import { isPortFree, portFor, withoutPassword } from './network.ts';
import { say, sayProblem } from './output.ts';
import { createProcessRecords, type ProcessRecords } from './process-records.ts';
import { prepareRedisServer } from './redis-server.ts';
import { allApps, builtCompositionRoot, gatewaySpec, subgraphs, subgraphsSpec, type SubgraphPlacement } from './services.ts';
import { passedThrough, readStartSettings, type StartSettings } from './settings.ts';
import { StartError } from './start-error.ts';
import { createSupervisor, type Supervisor } from './supervisor.ts';

/** Starts the stack and resolves once it serves; stops it on SIGINT, SIGTERM or SIGHUP. */
export async function runStack(environment: NodeJS.ProcessEnv = process.env): Promise<void> {
  let settings: StartSettings;
  try {
    settings = readStartSettings(environment);
  } catch (error) {
    if (!(error instanceof ConfigurationError)) throw error;
    sayProblem(`the environment has problems:\n${error.issues.map((issue) => `  - ${issue}`).join('\n')}`);
    process.exit(1);
  }
  mkdirSync(settings.dataDirectory, { recursive: true, mode: 0o755 });
  const records = createProcessRecords(settings.dataDirectory);
  const supervisor = createSupervisor({ records });
  const stop = stopper(supervisor, records);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      // npm forwards the terminal's Ctrl-C as well, so a second signal is usually the same one.
      if (supervisor.isStopping()) return;
      process.stdout.write('\n');
      say(`${signal}: stopping the gateway, then the subgraphs, then Redis and PostgreSQL…`);
      void stop(0);
    });
  }
  try {
    await start(settings, environment, supervisor, records);
  } catch (error) {
    if (supervisor.isStopping()) return; // a signal arrived mid-start; the stop is under way
    supervisor.beginStopping();
    await new Promise((resolve) => setTimeout(resolve, 100)); // a failing process's last lines may still be in the pipe
    if (error instanceof StartError) sayProblem(error.message, error.recentLines);
    else sayProblem(`failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    await stop(1);
  }
}

async function start(settings: StartSettings, environment: NodeJS.ProcessEnv, supervisor: Supervisor, records: ProcessRecords): Promise<void> {
  const missing = allApps.filter((app) => !existsSync(builtCompositionRoot(app)));
  if (missing.length > 0) throw new StartError(`not built: ${missing.map(builtCompositionRoot).join(', ')}. Run \`npm run build\` first (\`npm start\` does).`);
  await records.claim();
  if (!(await isPortFree(settings.gatewayPort, settings.gatewayHost))) {
    throw new StartError(`port ${settings.gatewayPort} is taken (is GTM Graph already running?). Stop that, or choose another: GATEWAY_PORT=4100 npm start`);
  }
  const callerKeys = await loadCallerKeys(settings);
  const secretsKey = loadSecretsKey(settings);

  let database: { url: string; description: string; embedded: boolean; fresh: boolean };
  if (settings.databaseUrl) {
    database = { url: settings.databaseUrl, description: `DATABASE_URL ${withoutPassword(settings.databaseUrl)}`, embedded: false, fresh: false };
  } else {
    const embedded = await prepareEmbeddedPostgres(settings.dataDirectory, environment);
    await supervisor.start(embedded.spec);
    database = { url: embedded.url, description: embedded.description, embedded: true, fresh: embedded.fresh };
  }
  let redis: { url: string; description: string };
  if (settings.redisUrl) {
    redis = { url: settings.redisUrl, description: `REDIS_URL ${withoutPassword(settings.redisUrl)}` };
  } else {
    const server = await prepareRedisServer(environment);
    await supervisor.start(server.spec);
    redis = server;
  }

  // The mail sink (decision 0050): mailboxes connected to it send real SMTP that is kept and shown,
  // never delivered. It lives in this process, as long as npm start does.
  const sinkSmtp = await portFor(1025);
  const sinkHttp = await portFor(8025);
  const mailSink = await startMailSink({ port: sinkSmtp.port, httpPort: sinkHttp.port });

  const placements: SubgraphPlacement[] = [];
  for (const subgraph of subgraphs) {
    const { port, preferredWasTaken } = await portFor(subgraph.port);
    if (preferredWasTaken) say(`port ${subgraph.port} is taken; ${subgraph.app} listens on ${port} instead`);
    placements.push({ app: subgraph.app, port });
  }
  // Every service learns where the subgraphs are: a subgraph may call another's API.
  const subgraphUrls = Object.fromEntries(subgraphs.map((subgraph, index) => [subgraph.urlVariable, `http://127.0.0.1:${placements[index]!.port}/graphql`]));
  const serviceEnvironment: NodeJS.ProcessEnv = {
    ...passedThrough(environment),
    ...subgraphUrls,
    DATABASE_URL: database.url,
    REDIS_URL: redis.url,
    LOG_LEVEL: settings.logLevel,
    SECRETS_KEY: secretsKey.key,
    // The sink is on loopback, which mailbox connections refuse unless allowed by name.
    MAIL_HOST_ALLOWLIST: [environment['MAIL_HOST_ALLOWLIST'], `127.0.0.1:${mailSink.port}`, `localhost:${mailSink.port}`].filter(Boolean).join(','),
  };

  say('starting the five subgraphs…');
  await supervisor.start(
    subgraphsSpec(placements, {
      ...serviceEnvironment,
      HOST: '127.0.0.1',
      // Subgraphs hold only the public half: they verify callers, never mint them.
      CALLER_TOKEN_PUBLIC_KEY: callerKeys.key.publicKeyPem,
    }),
  );

  const apiKey = await developmentApiKey(settings, database, passedThrough(environment));

  say('starting the gateway…');
  const probeHost = ['0.0.0.0', '::', 'localhost'].includes(settings.gatewayHost) ? '127.0.0.1' : settings.gatewayHost;
  const probeUrl = `http://${probeHost.includes(':') ? `[${probeHost}]` : probeHost}:${settings.gatewayPort}`;
  await supervisor.start(
    gatewaySpec(probeUrl, {
      ...serviceEnvironment,
      GATEWAY_PORT: String(settings.gatewayPort),
      GATEWAY_HOST: settings.gatewayHost,
      CALLER_TOKEN_PRIVATE_KEY: callerKeys.key.privateKeyPem,
      ...(apiKey ? { GRAPHIQL_DEFAULT_API_KEY: apiKey.key } : {}),
    }),
  );
  if (apiKey) await checkDevelopmentApiKey(`${probeUrl}/graphql`, apiKey);

  supervisor.markRunning();
  printBanner({
    settings,
    database,
    redisDescription: redis.description,
    subgraphPorts: Object.fromEntries(placements.map(({ app, port }) => [app, port])),
    parts: supervisor.parts().map((part) => ({ name: part.name, pid: part.pid() })),
    apiKey,
    callerKeySource: callerKeys.source,
    secretsKeySource: secretsKey.source,
    mailSink: { smtpPort: mailSink.port, pageUrl: mailSink.httpUrl! },
  });
}

/** The order of a stop: the gateway (no new requests), then the subgraphs, then the stores they were using. */
function stopRank(name: string): number {
  if (name === 'gateway') return 0;
  if (name === 'redis-server') return 2;
  if (name === 'postgres') return 3;
  return 1;
}

function stopper(supervisor: Supervisor, records: ProcessRecords): (exitCode: number) => Promise<void> {
  let stopping: Promise<void> | undefined;
  return (exitCode) => {
    stopping ??= (async () => {
      supervisor.beginStopping();
      const parts = supervisor.parts();
      for (const rank of [0, 1, 2, 3]) await Promise.all(parts.filter((part) => stopRank(part.name) === rank).map((part) => part.stop()));
      records.release();
      if (parts.length > 0) say('stopped');
      process.exit(exitCode);
    })();
    return stopping;
  };
}
