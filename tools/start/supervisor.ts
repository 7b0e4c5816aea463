// Runs the stack's parts and keeps them running. A part is a process (PostgreSQL, Redis, the
// subgraphs) or a worker thread of this process (the gateway). While the stack starts, a part that
// exits fails the start (a bad setting, a port in use: restarting would not help). Once the stack
// runs, a part that exits is restarted after a delay that doubles with each failure in a row (1 s,
// 2 s, 4 s … at most 30 s; a run that served for a minute resets it), and the others keep serving
// meanwhile: the gateway answers with what the remaining subgraphs provide.
import { delay } from './network.ts';
import { formatLine, printLine, say, sayProblem, type FormattedLine } from './output.ts';
import type { ProcessRecords, StopStep } from './process-records.ts';
import type { ExitStatus, Launched } from './launch.ts';
import { StartError } from './start-error.ts';

export interface PartSpec {
  name: string;
  /** Starts one run of it. */
  launch: () => Launched;
  /** Which of its lines to show as they come; all are kept for error reports. Default: all. */
  show?: (line: string) => boolean;
  /** A process's command-line marker, recorded so a later `npm start` can stop it (process-records.ts). Default: not recorded. */
  marker?: string;
  stopSteps: StopStep[];
  /** Resolves once it serves; called again and again until it does. */
  ready: () => Promise<void>;
  /** Runs before each restart, e.g. to clear a lock file the dead process left. Default: none. */
  beforeRestart?: () => Promise<void>;
}

export interface RestartPolicy {
  /** The first delay; it doubles with each failure in a row. */
  initialDelayMs: number;
  maxDelayMs: number;
  /** A part that served this long before it exited starts again from the first delay. */
  stableAfterMs: number;
}

export const defaultRestartPolicy: RestartPolicy = { initialDelayMs: 1_000, maxDelayMs: 30_000, stableAfterMs: 60_000 };

interface Run {
  launched: Launched;
  exitStatus: ExitStatus | undefined;
  readyAt: number | undefined;
}

export interface SupervisedPart {
  name: string;
  /** The pid of its current run, when it is a process. */
  pid(): number | undefined;
  stop(): Promise<void>;
}

export interface Supervisor {
  /** Starts a part and resolves once it is ready; rejects when it (or any other) exits first or is not ready in time. */
  start(spec: PartSpec): Promise<SupervisedPart>;
  /** From now on, a part that exits is restarted. */
  markRunning(): void;
  /** No more restarts; pending ones are dropped. Stop each part afterwards, in order. */
  beginStopping(): void;
  isStopping(): boolean;
  /** Every part started, ready or not, in start order. */
  parts(): SupervisedPart[];
}

/** Where the supervisor's own messages and its parts' lines go. */
export interface SupervisorReport {
  say(message: string): void;
  problem(message: string, recentLines?: string[]): void;
  line(formatted: FormattedLine): void;
}

const terminal: SupervisorReport = { say, problem: sayProblem, line: printLine };

export interface SupervisorOptions {
  records: ProcessRecords;
  /** Default: the terminal (output.ts). */
  report?: SupervisorReport;
  /** Default: 60 s. */
  readinessTimeoutMs?: number;
  /** Default: `defaultRestartPolicy`. */
  restartPolicy?: RestartPolicy;
}

const readinessPollMs = 250;
const keptLines = 30;

interface Entry {
  name: string;
  current(): Run | undefined;
  recentLines: string[];
  restartIfExited(): void;
  part: SupervisedPart;
}

export function createSupervisor(options: SupervisorOptions): Supervisor {
  const readinessTimeoutMs = options.readinessTimeoutMs ?? 60_000;
  const policy = options.restartPolicy ?? defaultRestartPolicy;
  const report = options.report ?? terminal;
  let phase: 'starting' | 'running' | 'stopping' = 'starting';
  const stopping = new AbortController();
  const entries: Entry[] = [];

  const throwIfAnyExited = () => {
    for (const entry of entries) {
      const status = entry.current()?.exitStatus;
      if (status) throw new StartError(`${entry.name} exited before the stack was ready (${describeExit(status)})`, entry.recentLines);
    }
  };

  function supervise(spec: PartSpec): { entry: Entry; firstRun: Run; waitUntilReady(run: Run, whileStarting: boolean): Promise<void> } {
    const recentLines: string[] = [];
    let current: Run | undefined;
    let failuresInARow = 0;
    let restarts = 0;

    const remember = (line: string) => {
      if (line.trim() === '') return;
      const formatted = formatLine(spec.name, line);
      recentLines.push(...formatted.text.split('\n'));
      recentLines.splice(0, Math.max(0, recentLines.length - keptLines));
      if (spec.show?.(line) ?? true) report.line(formatted);
    };

    const launch = (): Run => {
      if (phase === 'stopping') throw new StartError('stopping');
      const launched = spec.launch();
      const run: Run = { launched, exitStatus: undefined, readyAt: undefined };
      launched.onLine(remember);
      const pid = launched.pid;
      if (pid !== undefined && spec.marker) options.records.add({ name: spec.name, pid, marker: spec.marker });
      void launched.exited.then((status) => {
        run.exitStatus = status;
        if (pid !== undefined) options.records.remove(pid);
        void restartAfter(run, status);
      });
      current = run;
      return run;
    };

    const waitUntilReady = async (run: Run, whileStarting: boolean) => {
      const deadline = Date.now() + readinessTimeoutMs;
      let lastProblem = 'no answer yet';
      while (Date.now() < deadline) {
        if (phase === 'stopping') throw new StartError('stopping');
        if (whileStarting) throwIfAnyExited();
        else if (run.exitStatus) throw new StartError(`${spec.name} exited again (${describeExit(run.exitStatus)})`);
        try {
          await spec.ready();
          run.readyAt = Date.now();
          return;
        } catch (error) {
          lastProblem = error instanceof Error ? error.message : String(error);
        }
        await delay(readinessPollMs);
      }
      throw new StartError(`${spec.name} was not ready within ${readinessTimeoutMs / 1000} s (last answer: ${lastProblem})`, recentLines);
    };

    const restartAfter = async (run: Run, status: ExitStatus): Promise<void> => {
      if (run !== current || phase !== 'running') return;
      await delay(100); // its last lines may still be in the pipe
      if (phase !== 'running') return;
      if (run.readyAt !== undefined && Date.now() - run.readyAt >= policy.stableAfterMs) failuresInARow = 0;
      failuresInARow += 1;
      const waitMs = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** (failuresInARow - 1));
      report.problem(`${spec.name} exited unexpectedly (${describeExit(status)}); restarting it in ${waitMs / 1000} s`, recentLines.slice(-12));
      await delay(waitMs, stopping.signal);
      if (phase !== 'running') return;
      let next: Run | undefined;
      try {
        await spec.beforeRestart?.();
        restarts += 1;
        next = launch();
        await waitUntilReady(next, false);
        report.say(`${spec.name} is running again (${next.launched.pid ? `pid ${next.launched.pid}, ` : ''}restart ${restarts})`);
      } catch (error) {
        if (phase !== 'running') return;
        report.problem(`${spec.name} did not come back: ${error instanceof Error ? error.message : String(error)}`);
        if (!next) {
          // Nothing was started: try again after the next delay.
          run.readyAt = undefined;
          void restartAfter(run, status);
        } else if (!next.exitStatus) {
          // Alive but not serving: stop it; its exit schedules the next attempt.
          next.launched.signal('SIGKILL');
        }
      }
    };

    const firstRun = launch();
    const part: SupervisedPart = {
      name: spec.name,
      pid: () => current?.launched.pid,
      async stop() {
        const run = current;
        if (!run) return;
        for (const [index, [signal, waitMs]] of spec.stopSteps.entries()) {
          if (run.exitStatus) return;
          if (index > 0) report.say(`${spec.name} did not stop in time; sending ${signal}`);
          run.launched.signal(signal);
          await Promise.race([run.launched.exited, delay(waitMs)]);
        }
      },
    };
    const entry: Entry = {
      name: spec.name,
      current: () => current,
      recentLines,
      restartIfExited: () => {
        if (current?.exitStatus) void restartAfter(current, current.exitStatus);
      },
      part,
    };
    entries.push(entry);
    return { entry, firstRun, waitUntilReady };
  }

  return {
    async start(spec) {
      const { entry, firstRun, waitUntilReady } = supervise(spec);
      await waitUntilReady(firstRun, true);
      return entry.part;
    },
    markRunning() {
      if (phase !== 'starting') return;
      phase = 'running';
      // One that exited between its readiness and now was seen by no one yet.
      for (const entry of entries) entry.restartIfExited();
    },
    beginStopping() {
      phase = 'stopping';
      stopping.abort();
    },
    isStopping: () => phase === 'stopping',
    parts: () => entries.map((entry) => entry.part),
  };
}

function describeExit(status: ExitStatus): string {
  if (status.signal) return `killed by ${status.signal}`;
  return status.code === null ? 'could not be started' : `exit code ${status.code}`;
}
