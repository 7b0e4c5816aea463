// One run of a part of the stack: a child process, or a worker thread of this process. The
// supervisor treats both alike: their output lines, their end, and how to ask them to stop.
import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { Worker } from 'node:worker_threads';

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface Launched {
  /** The process id; undefined for a worker thread. */
  pid: number | undefined;
  onLine(handle: (line: string) => void): void;
  /** Resolves once it has ended. */
  exited: Promise<ExitStatus>;
  /** SIGTERM and SIGINT ask it to stop; SIGKILL (and SIGQUIT for a worker) ends it at once. */
  signal(signal: NodeJS.Signals): void;
}

export interface ProcessLaunch {
  command: string;
  args: string[];
  environment: NodeJS.ProcessEnv;
  /** Run as this user (PostgreSQL refuses to run as root). Default: this process's user. */
  owner?: { uid: number; gid: number };
}

export function launchProcess(options: ProcessLaunch): Launched {
  // Its own process group: Ctrl-C in the terminal reaches only `npm start`, which then stops
  // everything in order instead of every process at once.
  const child = spawn(options.command, options.args, { env: options.environment, detached: true, stdio: ['ignore', 'pipe', 'pipe'], ...options.owner });
  const listeners: ((line: string) => void)[] = [];
  const emit = (line: string) => listeners.forEach((listener) => listener(line));
  forEachLine(child.stdout, emit);
  forEachLine(child.stderr, emit);
  return {
    pid: child.pid,
    onLine: (handle) => void listeners.push(handle),
    exited: new Promise((resolve) => {
      child.once('error', (error) => {
        emit(error.message);
        resolve({ code: null, signal: null });
      });
      child.once('exit', (code, signal) => resolve({ code, signal }));
    }),
    signal: (signal) => {
      try {
        child.kill(signal);
      } catch {
        // Already gone.
      }
    },
  };
}

export interface WorkerLaunch {
  /** The worker's code, an ES module. It is told to stop by the message `'stop'`. */
  source: string;
  environment: NodeJS.ProcessEnv;
  /** V8 heap limits of the worker's isolate. Default: Node's. */
  resourceLimits?: { maxOldGenerationSizeMb?: number };
}

/**
 * A worker thread: its own V8 isolate and event loop in this process, so an uncaught error ends
 * only the worker, at a fraction of a process's memory. Its standard output and error come to
 * this thread as streams.
 */
export function launchWorker(options: WorkerLaunch): Launched {
  const worker = new Worker(options.source, { eval: true, env: options.environment, stdout: true, stderr: true, resourceLimits: options.resourceLimits });
  const listeners: ((line: string) => void)[] = [];
  const emit = (line: string) => listeners.forEach((listener) => listener(line));
  forEachLine(worker.stdout, emit);
  forEachLine(worker.stderr, emit);
  worker.on('error', (error) => emit(`uncaught: ${error.stack ?? error.message}`));
  return {
    pid: undefined,
    onLine: (handle) => void listeners.push(handle),
    exited: new Promise((resolve) => worker.once('exit', (code) => resolve({ code, signal: null }))),
    signal: (signal) => {
      if (signal === 'SIGKILL' || signal === 'SIGQUIT') void worker.terminate();
      // oxlint-disable-next-line unicorn/require-post-message-target-origin -- a worker thread's port, not a window
      else worker.postMessage('stop');
    },
  };
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
