// `<data>/processes.json`: which `npm start` owns the data directory and which processes it runs,
// so that a run killed outright (kill -9, a closed terminal) is cleaned up by the next one.
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { delay } from './network.ts';
import { say } from './output.ts';
import { StartError } from './start-error.ts';

export type StopStep = [signal: NodeJS.Signals, waitMs: number];

export const appStopSteps: StopStep[] = [
  ['SIGTERM', 10_000],
  ['SIGKILL', 5_000],
];

/** The gateway answers requests in flight for up to its OPERATION_TIMEOUT_MS (30 s) plus 2 s. */
export const gatewayStopSteps: StopStep[] = [
  ['SIGTERM', 35_000],
  ['SIGKILL', 5_000],
];

export interface ProcessRecord {
  name: string;
  pid: number;
  /** A part of its command line that tells it apart from an unrelated process reusing its pid. */
  marker: string;
}

interface RecordsFile {
  /** The pid of the `npm start` that owns the data directory. */
  owner: number;
  processes: ProcessRecord[];
}

export interface ProcessRecords {
  /** Claims the data directory: refuses while another run lives, stops what a dead one left. */
  claim(): Promise<void>;
  add(record: ProcessRecord): void;
  remove(pid: number): void;
  /** Forgets the file, once everything this run started has stopped. */
  release(): void;
}

export function createProcessRecords(dataDirectory: string): ProcessRecords {
  const path = join(dataDirectory, 'processes.json');
  let processes: ProcessRecord[] = [];
  let claimed = false;
  const write = () => writeFileSync(path, `${JSON.stringify({ owner: process.pid, processes } satisfies RecordsFile, null, 2)}\n`);

  return {
    async claim() {
      let previous: RecordsFile = { owner: 0, processes: [] };
      try {
        previous = { ...previous, ...(JSON.parse(readFileSync(path, 'utf8')) as Partial<RecordsFile>) };
      } catch {
        // Missing or unreadable: nothing to go on.
      }
      if (previous.owner > 0 && previous.owner !== process.pid && commandLineOf(previous.owner)?.includes('tools/start.ts')) {
        throw new StartError(`GTM Graph is already running from this data directory (npm start, pid ${previous.owner}). Stop it first (Ctrl-C in its terminal).`);
      }
      const leftovers = previous.processes.filter((record) => record.marker && commandLineOf(record.pid)?.includes(record.marker));
      // The order of a normal stop: gateway, subgraphs, then Redis.
      await Promise.all(leftovers.filter((record) => record.name === 'gateway').map(stopLeftover));
      await Promise.all(leftovers.filter((record) => record.name !== 'gateway' && record.name !== 'redis-server').map(stopLeftover));
      await Promise.all(leftovers.filter((record) => record.name === 'redis-server').map(stopLeftover));
      claimed = true;
      write();
    },
    add(record) {
      processes.push(record);
      if (claimed) write();
    },
    remove(pid) {
      processes = processes.filter((record) => record.pid !== pid);
      if (claimed) write();
    },
    release() {
      // Only when this run had claimed it: a run refused as a second one leaves the first's file.
      if (claimed) rmSync(path, { force: true });
    },
  };
}

async function stopLeftover(record: ProcessRecord): Promise<void> {
  say(`stopping ${record.name} (pid ${record.pid}), left running by an earlier npm start that did not shut down`);
  await stopPid(record.pid, appStopSteps);
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
export function commandLineOf(pid: number): string | undefined {
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

/** Stops a process this run did not start (left by an earlier one), step by step. */
export async function stopPid(pid: number, steps: StopStep[]): Promise<void> {
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
