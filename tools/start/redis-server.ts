// The Redis `npm start` runs when REDIS_URL is not set: `redis-server` from PATH, in memory only,
// on a loopback port that stays the same across its restarts (the services keep its URL).
import { execFileSync } from 'node:child_process';
import { findOnPath, freePort, pingRedis } from './network.ts';
import type { StopStep } from './process-records.ts';
import { StartError } from './start-error.ts';
import { launchProcess } from './launch.ts';
import type { PartSpec } from './supervisor.ts';

const redisStopSteps: StopStep[] = [
  ['SIGTERM', 10_000],
  ['SIGKILL', 5_000],
];

export interface RedisServer {
  spec: PartSpec;
  url: string;
  description: string;
}

export async function prepareRedisServer(environment: NodeJS.ProcessEnv): Promise<RedisServer> {
  const redisServerPath = findOnPath('redis-server');
  if (!redisServerPath) {
    throw new StartError(
      'no Redis: REDIS_URL is not set and redis-server is not on PATH. Either\n' +
        '  - install Redis (Debian/Ubuntu: sudo apt-get install redis-server; macOS: brew install redis), or\n' +
        '  - point at a running one: REDIS_URL=redis://127.0.0.1:6379 npm start',
    );
  }
  const port = await freePort();
  let version = '';
  try {
    version = /v=(\S+)/.exec(execFileSync(redisServerPath, ['--version'], { encoding: 'utf8' }))?.[1] ?? '';
  } catch {
    // The version is only for the banner.
  }
  return {
    spec: {
      name: 'redis-server',
      // In memory only: nothing is written to disk, so nothing is left behind.
      launch: () => launchProcess({ command: redisServerPath, args: ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no'], environment }),
      show: () => false,
      marker: `127.0.0.1:${port}`,
      stopSteps: redisStopSteps,
      ready: () => pingRedis(port),
    },
    url: `redis://127.0.0.1:${port}`,
    description: `redis-server ${version} on 127.0.0.1:${port}, in memory (restarted empty if it stops)`,
  };
}
