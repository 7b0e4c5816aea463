import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const workspaceRoot = fileURLToPath(new URL('../../', import.meta.url));
const apps = ['gateway', 'campaign-service', 'content-service', 'enrichment-service', 'crm-service', 'conversation-service'];

describe('invalid configuration', () => {
  it.each(apps)('stops %s at start with a message that names the variable', (app) => {
    const main = `${workspaceRoot}apps/${app}/dist/main.js`;
    expect(existsSync(main) ? main : `${main} is missing: run npm run build`).toBe(main);
    const result = spawnSync(process.execPath, [main], {
      env: { PATH: process.env['PATH'], REDIS_URL: 'not-a-url', GATEWAY_PORT: 'eighty', PORT: 'eighty' },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/Invalid configuration/);
    expect(result.stderr).toMatch(app === 'gateway' ? /CALLER_TOKEN_PRIVATE_KEY is required but not set/ : /DATABASE_URL is required but not set/);
    expect(result.stderr).toMatch(app === 'gateway' ? /GATEWAY_PORT/ : /REDIS_URL must be a redis:\/\/ URL/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});
