// The keys `npm start` makes once and keeps in the data directory (each file mode 0600): the
// gateway's caller-token key pair, the at-rest secrets key, and the development API key.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import type { CallerKeyPair } from '@gtm/caller';
import { probeTimeoutMs, withoutPassword } from './network.ts';
import { say, sayProblem } from './output.ts';
import { workspaceRoot, type StartSettings } from './settings.ts';
import { StartError } from './start-error.ts';

export interface KeyInUse<Key> {
  key: Key;
  /** Where it comes from, for the banner. */
  source: string;
}

function shown(path: string): string {
  return relative(workspaceRoot, path).startsWith('..') ? path : relative(workspaceRoot, path);
}

function writePrivateFile(path: string, content: string): void {
  writeFileSync(path, content, { mode: 0o600 });
  chmodSync(path, 0o600); // the mode above applies only when the file is created
}

export async function loadCallerKeys(settings: StartSettings): Promise<KeyInUse<CallerKeyPair>> {
  if (settings.callerKeys) return { key: settings.callerKeys, source: 'CALLER_TOKEN_PRIVATE_KEY / CALLER_TOKEN_PUBLIC_KEY' };
  const path = join(settings.dataDirectory, 'caller-keys.json');
  if (existsSync(path)) {
    const stored = JSON.parse(readFileSync(path, 'utf8')) as Partial<CallerKeyPair>;
    if (typeof stored.privateKeyPem !== 'string' || typeof stored.publicKeyPem !== 'string') {
      throw new StartError(`${shown(path)} is not a key pair; delete it and a new one is made`);
    }
    return { key: { privateKeyPem: stored.privateKeyPem, publicKeyPem: stored.publicKeyPem }, source: shown(path) };
  }
  // Loaded only here: the launcher stays small while it supervises.
  const { generateCallerKeyPair } = await import('@gtm/caller');
  const key = await generateCallerKeyPair();
  writePrivateFile(path, `${JSON.stringify(key, null, 2)}\n`);
  say(`generated the gateway's caller-token keys in ${shown(path)}`);
  return { key, source: shown(path) };
}

/** 32 random bytes, base64: the key services encrypt secrets at rest with (SECRETS_KEY). */
export function loadSecretsKey(settings: StartSettings): KeyInUse<string> {
  if (settings.secretsKey) return { key: settings.secretsKey, source: 'SECRETS_KEY' };
  const path = join(settings.dataDirectory, 'secrets-key');
  if (existsSync(path)) {
    const key = readFileSync(path, 'utf8').trim();
    if (Buffer.from(key, 'base64').length !== 32) throw new StartError(`${shown(path)} does not hold 32 base64-encoded bytes; restore it (secrets stored under it cannot be read without it)`);
    return { key, source: shown(path) };
  }
  const key = randomBytes(32).toString('base64');
  writePrivateFile(path, `${key}\n`);
  say(`generated the at-rest secrets key in ${shown(path)}`);
  return { key, source: shown(path) };
}

/** The gateway's key command; a gateway without API keys has none. */
const apiKeyCommand = join(workspaceRoot, 'apps', 'gateway', 'dist', 'cli', 'apikey.js');
export const developmentTenant = 'dev';

/**
 * The gateway accepts only API keys. A development key for tenant "dev" is made once per database
 * (with the gateway's own `apikey` command, so nothing here knows how keys are stored) and kept in
 * `<data>/development-api-key.json`; GraphiQL is given it, so it works at once.
 */
export async function developmentApiKey(settings: StartSettings, database: { url: string; fresh: boolean }, environment: NodeJS.ProcessEnv): Promise<KeyInUse<string> | undefined> {
  if (!existsSync(apiKeyCommand)) return undefined;
  const path = join(settings.dataDirectory, 'development-api-key.json');
  const databaseIdentity = withoutPassword(database.url);
  const stored = readDevelopmentKeys(path);
  const storedKey = stored[databaseIdentity];
  if (storedKey && !database.fresh) return { key: storedKey, source: shown(path) };
  say(`creating a development API key for tenant "${developmentTenant}"…`);
  let output: string;
  try {
    const result = await promisify(execFile)(
      process.execPath,
      [apiKeyCommand, 'create', '--tenant', developmentTenant, '--tier', 'pro', '--name', 'npm start development key'],
      { cwd: workspaceRoot, env: { ...environment, DATABASE_URL: database.url, LOG_LEVEL: 'warn' }, timeout: 60_000, encoding: 'utf8' },
    );
    output = result.stdout;
  } catch (error) {
    const failure = error as { stderr?: string; message?: string };
    throw new StartError(`creating the development API key failed: ${(failure.stderr || failure.message || String(error)).trim()}`);
  }
  const key = output.split('\n')[0]?.trim();
  if (!key) throw new StartError('`apikey create` printed no key');
  writePrivateFile(path, `${JSON.stringify({ ...stored, [databaseIdentity]: key }, null, 2)}\n`);
  return { key, source: shown(path) };
}

/** Development keys by the database (URL without password) they were made in. */
function readDevelopmentKeys(path: string): Record<string, string> {
  try {
    const stored = JSON.parse(readFileSync(path, 'utf8')) as unknown;
    if (stored && typeof stored === 'object') return Object.fromEntries(Object.entries(stored).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
  } catch {
    // Missing or unreadable: keys are made anew.
  }
  return {};
}

/** A stored key whose database was since wiped by other means is refused: say how to recover. */
export async function checkDevelopmentApiKey(graphqlUrl: string, key: KeyInUse<string>): Promise<void> {
  try {
    const response = await fetch(graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key.key}` },
      body: JSON.stringify({ query: '{ __typename }' }),
      signal: AbortSignal.timeout(probeTimeoutMs),
    });
    await response.body?.cancel();
    if (response.status === 401) sayProblem(`the gateway refuses the development API key in ${key.source}; delete that file and run npm start again to make a new one`);
  } catch {
    // The banner still helps; the health check already passed.
  }
}
