// Boots `npm start` from the built code, as a developer would, on a fresh data directory and free
// ports, with its own embedded PostgreSQL and redis-server; then kills the subgraphs process and
// Redis and watches them come back, and stops it with Ctrl-C. One boot serves every check, since
// a boot (initdb, migrations, six services) is most of this file's 30–60 s.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { postGraphQL } from '@gtm/testing';
import { freePort } from './network.ts';
import { allApps, builtCompositionRoot } from './services.ts';

const workspaceRoot = fileURLToPath(new URL('../../', import.meta.url));
let dataDirectory: string;
let gatewayUrl: string;
let launcher: ChildProcess;
let exited: Promise<number | null>;
const output: string[] = [];

/** The pids npm start recorded, by name. */
function recordedPids(): Record<string, number> {
  const records = JSON.parse(readFileSync(join(dataDirectory, 'processes.json'), 'utf8')) as { processes: { name: string; pid: number }[] };
  return Object.fromEntries(records.processes.map((record) => [record.name, record.pid]));
}

function postgresPid(): number {
  return Number(readFileSync(join(dataDirectory, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[0]);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Resolves with the first output line (after `from`) that matches. */
async function outputLine(pattern: RegExp, from = 0, timeoutMs = 120_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const line = output.slice(from).find((candidate) => pattern.test(candidate));
    if (line) return line;
    if (launcher.exitCode !== null) throw new Error(`npm start exited (${launcher.exitCode}) before printing ${pattern}:\n${output.join('\n')}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`npm start did not print ${pattern} within ${timeoutMs / 1000} s:\n${output.join('\n')}`);
}

function developmentKey(): string {
  return Object.values(JSON.parse(readFileSync(join(dataDirectory, 'development-api-key.json'), 'utf8')) as Record<string, string>)[0]!;
}

/** A field the gateway answers itself and one of the content subgraph's. */
function usageAndWebsite(): string {
  const day = 24 * 60 * 60 * 1000;
  const [from, to] = [Date.now() - day, Date.now() + day].map((time) => new Date(time).toISOString());
  return `{ usage(from: "${from}", to: "${to}") { requests { total } } website(url: "https://blossomer.io") { url } }`;
}

beforeAll(async () => {
  const unbuilt = allApps.filter((app) => !existsSync(builtCompositionRoot(app)));
  if (unbuilt.length > 0) throw new Error(`this test runs the built code: run npm run build first (missing ${unbuilt.join(', ')})`);
  dataDirectory = mkdtempSync(join(tmpdir(), 'npm-start-'));
  // As root, the embedded PostgreSQL runs as the postgres user, which must reach its data.
  chmodSync(dataDirectory, 0o755);
  const gatewayPort = await freePort();
  gatewayUrl = `http://127.0.0.1:${gatewayPort}/graphql`;
  launcher = spawn(process.execPath, ['--max-semi-space-size=1', 'tools/start.ts'], {
    cwd: workspaceRoot,
    env: { PATH: process.env['PATH'], HOME: process.env['HOME'], NO_COLOR: '1', DATA_DIR: dataDirectory, GATEWAY_PORT: String(gatewayPort) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  exited = new Promise((resolve) => launcher.once('exit', (code) => resolve(code)));
  for (const stream of [launcher.stdout!, launcher.stderr!]) {
    stream.setEncoding('utf8');
    let pending = '';
    stream.on('data', (chunk: string) => {
      const lines = (pending + chunk).split('\n');
      pending = lines.pop() ?? '';
      output.push(...lines);
    });
  }
  await outputLine(/GTM Graph is running/, 0, 180_000);
}, 200_000);

afterAll(async () => {
  if (launcher && launcher.exitCode === null) {
    launcher.kill('SIGKILL');
    for (const pid of Object.values(recordedPids())) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    if (existsSync(join(dataDirectory, 'postgres', 'postmaster.pid')) && isAlive(postgresPid())) process.kill(postgresPid(), 'SIGKILL');
  }
  if (dataDirectory) rmSync(dataDirectory, { recursive: true, force: true });
}, 30_000);

describe('npm start', () => {
  it('starts on a fresh data directory without an error line, and answers with the development key', async () => {
    expect(output.filter((line) => /\bERROR\b|\bFATAL\b/.test(line))).toEqual([]);
    const answer = await postGraphQL(gatewayUrl, { query: 'mutation { createCampaign(input: { websiteUrl: "https://blossomer.io" }) { name website { domain } } }' }, { authorization: `Bearer ${developmentKey()}` });
    expect(answer).toMatchObject({ status: 200, data: { createCampaign: { name: 'blossomer.io', website: { domain: 'blossomer.io' } } } });
    expect(answer.errors).toBeUndefined();
  });

  it('keeps a secrets key in the data directory and hands it to the services', () => {
    const path = join(dataDirectory, 'secrets-key');
    const key = readFileSync(path, 'utf8').trim();
    expect(Buffer.from(key, 'base64')).toHaveLength(32);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const environment = readFileSync(`/proc/${recordedPids()['subgraphs']}/environ`, 'utf8').split('\0');
    expect(environment).toContain(`SECRETS_KEY=${key}`);
  });

  it('lets `npm run apikey` make a key without DATABASE_URL, on the embedded database it finds', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['tools/apikey.ts', 'create', '--tenant', 'smoke', '--tier', 'free'], {
      cwd: workspaceRoot,
      env: { PATH: process.env['PATH'], DATA_DIR: dataDirectory },
    });
    const key = stdout.split('\n')[0]!;
    expect(key).toMatch(/^gtm_/);
    const answer = await postGraphQL(gatewayUrl, { query: '{ __typename }' }, { authorization: `Bearer ${key}` });
    expect(answer).toMatchObject({ status: 200, data: { __typename: 'Query' } });
  });

  it('restarts a killed subgraphs process, and the gateway answers with what it has meanwhile', async () => {
    const headers = { authorization: `Bearer ${developmentKey()}` };
    const from = output.length;
    process.kill(recordedPids()['subgraphs']!, 'SIGKILL');
    await outputLine(/subgraphs exited unexpectedly \(killed by SIGKILL\); restarting it in 1 s/, from, 30_000);
    const partial = await postGraphQL(gatewayUrl, { query: usageAndWebsite() }, headers);
    expect(partial.data).toEqual({ usage: { requests: { total: expect.any(Number) } }, website: null });
    expect(partial.errors).toEqual([expect.objectContaining({ extensions: expect.objectContaining({ code: 'UPSTREAM_UNAVAILABLE', service: 'content' }) })]);

    await outputLine(/subgraphs is running again \(pid \d+, restart 1\)/, from, 90_000);
    const whole = await postGraphQL(gatewayUrl, { query: usageAndWebsite() }, headers);
    expect(whole.errors).toBeUndefined();
    expect(whole.data).toEqual({ usage: { requests: { total: expect.any(Number) } }, website: null });
  }, 120_000);

  it('restarts a killed redis-server on the same port, and the stack serves again', async () => {
    const from = output.length;
    process.kill(recordedPids()['redis-server']!, 'SIGKILL');
    await outputLine(/redis-server exited unexpectedly \(killed by SIGKILL\); restarting it in 1 s/, from, 30_000);
    await outputLine(/redis-server is running again/, from, 60_000);
    // The services' Redis clients reconnect on their own, within a few retries.
    let answer = await postGraphQL(gatewayUrl, { query: '{ campaigns(first: 1) { edges { node { name } } } }' }, { authorization: `Bearer ${developmentKey()}` });
    for (let attempt = 0; attempt < 40 && answer.errors; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      answer = await postGraphQL(gatewayUrl, { query: '{ campaigns(first: 1) { edges { node { name } } } }' }, { authorization: `Bearer ${developmentKey()}` });
    }
    expect(answer.errors).toBeUndefined();
    expect(answer.data).toEqual({ campaigns: { edges: expect.any(Array) } });
  }, 90_000);

  it('stops everything it started on Ctrl-C', async () => {
    const pids = [...Object.values(recordedPids()), postgresPid()];
    launcher.kill('SIGINT');
    await expect(exited).resolves.toBe(0);
    expect(pids.filter(isAlive)).toEqual([]);
    expect(existsSync(join(dataDirectory, 'processes.json'))).toBe(false);
    expect(output).toContain('start                stopped');
  }, 90_000);
});
