import { spawn, type ChildProcess } from 'node:child_process';
import { createConnection, createServer } from 'node:net';

export interface RedisServerUnderTest extends AsyncDisposable {
  /** `redis://127.0.0.1:<port>`: the same while the server is stopped and started again. */
  url: string;
  port: number;
  /** Stops the server as a crash would (SIGKILL): everything it held is gone. */
  stop(): Promise<void>;
  /** Starts it again on the same port, empty; nothing when it is running. */
  start(): Promise<void>;
  close(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

async function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port }, () => socket.write('PING\r\n'));
    socket.setTimeout(500, () => socket.destroy());
    socket.once('data', (data) => {
      socket.destroy();
      resolve(String(data).startsWith('+PONG'));
    });
    socket.once('error', () => resolve(false));
    socket.once('close', () => resolve(false));
  });
}

/**
 * A `redis-server` of the test's own on a free port, in memory only, that the test can stop and
 * start again: the real server an outage test needs (the machine's shared Redis must stay up for
 * every other test). Needs `redis-server` on PATH, as `npm start` does.
 */
export async function startRedisServer(): Promise<RedisServerUnderTest> {
  const port = await freePort();
  let child: ChildProcess | undefined;

  const start = async () => {
    // Already running: starting again would launch a second server that cannot bind the port.
    if (child && child.exitCode === null && child.signalCode === null) return;
    const launched = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--loglevel', 'warning'], { stdio: 'ignore' });
    child = launched;
    const failed = new Promise<never>((_resolve, reject) => launched.once('error', reject));
    for (let attempt = 0; attempt < 100; attempt += 1) {
      if (await Promise.race([answersPing(port), failed])) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`redis-server did not answer on port ${port}`);
  };

  const stop = async () => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill('SIGKILL');
    await exited;
  };

  await start();
  return { url: `redis://127.0.0.1:${port}`, port, stop, start, close: stop, [Symbol.asyncDispose]: stop };
}
