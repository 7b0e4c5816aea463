import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from '@jest/globals';
import { freePort } from './start/network.ts';

const workspaceRoot = fileURLToPath(new URL('../', import.meta.url));

async function check(environment: Record<string, string>): Promise<{ code: number; stderr: string }> {
  try {
    const { stderr } = await promisify(execFile)(process.execPath, ['tools/check-test-services.ts'], { cwd: workspaceRoot, env: { PATH: process.env['PATH'], ...environment } });
    return { code: 0, stderr };
  } catch (error) {
    const failure = error as { code: number; stderr: string };
    return { code: failure.code, stderr: failure.stderr };
  }
}

describe('the check npm test runs first', () => {
  it('passes when PostgreSQL and Redis answer', async () => {
    await expect(check({})).resolves.toEqual({ code: 0, stderr: '' });
  });

  it('stops with one line naming what does not answer and how to get it', async () => {
    const closedPort = await freePort();
    const { code, stderr } = await check({ TEST_DATABASE_URL: `postgres://postgres:secret@127.0.0.1:${closedPort}/postgres`, TEST_REDIS_URL: `redis://127.0.0.1:${closedPort}` });
    expect(code).toBe(1);
    expect(stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(stderr).toContain(`PostgreSQL at postgres://postgres@127.0.0.1:${closedPort}/postgres (TEST_DATABASE_URL) does not answer (connect ECONNREFUSED`);
    expect(stderr).toContain(`Redis at redis://127.0.0.1:${closedPort} (TEST_REDIS_URL) does not answer (connect ECONNREFUSED`);
    expect(stderr).toContain('apt-get install postgresql redis-server');
    expect(stderr).not.toContain('secret');
  });
});
