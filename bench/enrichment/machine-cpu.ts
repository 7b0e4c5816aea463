// Where the machine's CPU goes besides the benchmark's own process: PostgreSQL's backends and the
// machine as a whole. The benchmark shares two cores with PostgreSQL and the kernel's loopback
// sockets, so the CPU a record costs the process is only part of what bounds its throughput.
import { readFileSync } from 'node:fs';

/** Linux reports process times in clock ticks; 100 a second on every kernel this runs on. */
const ticksPerSecond = 100;

/** user and system seconds a process spent, from `/proc/<pid>/stat`; undefined once it has exited. */
function processSeconds(pid: number): { user: number; system: number } | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return undefined;
  }
  // The command name is in parentheses and may hold spaces: the fields start after the last one.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are the 14th and 15th fields; the list here starts at the 3rd.
  return { user: Number(fields[11]) / ticksPerSecond, system: Number(fields[12]) / ticksPerSecond };
}

/**
 * The CPU spent by the PostgreSQL backends serving one database, sampled from `/proc`: each backend
 * seen (through `pg_stat_activity`) counts from its time at the first sample to its time at the
 * last one, a backend born after the first sample from zero. Sampled every couple of seconds, a
 * backend that exits between two samples loses its last interval; the benchmark's pools keep
 * theirs open through the run. Other databases' backends (other sessions' tests) do not count.
 */
export class DatabaseBackendCpu {
  private readonly first = new Map<number, { user: number; system: number }>();
  private readonly last = new Map<number, { user: number; system: number }>();
  private started = false;
  private readonly backendPids: () => Promise<number[]>;

  constructor(backendPids: () => Promise<number[]>) {
    this.backendPids = backendPids;
  }

  async sample(): Promise<void> {
    for (const pid of await this.backendPids()) {
      const seconds = processSeconds(pid);
      if (!seconds) continue;
      if (!this.first.has(pid)) this.first.set(pid, this.started ? { user: 0, system: 0 } : seconds);
      this.last.set(pid, seconds);
    }
    this.started = true;
  }

  /** user and system seconds since the first sample, over every backend seen. */
  spent(): { user: number; system: number; backends: number } {
    let user = 0;
    let system = 0;
    for (const [pid, last] of this.last) {
      const first = this.first.get(pid)!;
      user += last.user - first.user;
      system += last.system - first.system;
    }
    return { user, system, backends: this.last.size };
  }
}

/** The whole machine's CPU seconds (every core) by kind since `since`, from `/proc/stat`. */
export function machineSeconds(since?: MachineTicks): MachineTicks {
  const [, ...values] = readFileSync('/proc/stat', 'latin1').split('\n')[0]!.trim().split(/\s+/);
  const [user, nice, system, idle, iowait, irq, softirq, steal] = values.map((value) => Number(value) / ticksPerSecond) as number[];
  const now = { user: user! + nice!, system: system! + irq! + softirq!, idle: idle! + iowait!, steal: steal ?? 0 };
  if (!since) return now;
  return { user: now.user - since.user, system: now.system - since.system, idle: now.idle - since.idle, steal: now.steal - since.steal };
}

export interface MachineTicks {
  user: number;
  system: number;
  idle: number;
  steal: number;
}
