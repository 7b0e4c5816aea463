import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { launchProcess, launchWorker } from './launch.ts';
import { createProcessRecords } from './process-records.ts';
import { StartError } from './start-error.ts';
import { createSupervisor, type PartSpec, type Supervisor, type SupervisorReport } from './supervisor.ts';

const directories: string[] = [];
const supervisors: Supervisor[] = [];

afterEach(async () => {
  for (const supervisor of supervisors.splice(0)) {
    supervisor.beginStopping();
    await Promise.all(supervisor.parts().map((part) => part.stop()));
  }
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
});

function recordingReport(): SupervisorReport & { messages: string[]; lines: string[] } {
  const messages: string[] = [];
  const lines: string[] = [];
  return { messages, lines, say: (message) => messages.push(message), problem: (message) => messages.push(message), line: (formatted) => lines.push(formatted.text) };
}

function supervisorFor(report: SupervisorReport, restartPolicy = { initialDelayMs: 20, maxDelayMs: 80, stableAfterMs: 60_000 }): Supervisor {
  const directory = mkdtempSync(join(tmpdir(), 'supervisor-'));
  directories.push(directory);
  const supervisor = createSupervisor({ records: createProcessRecords(directory), report, restartPolicy, readinessTimeoutMs: 10_000 });
  supervisors.push(supervisor);
  return supervisor;
}

/** A Node process that says hello, then runs for `lifetimeMs` and exits with code 3. */
function shortLived(name: string, lifetimeMs: number): PartSpec {
  return {
    name,
    launch: () => launchProcess({ command: process.execPath, args: ['-e', `console.log('hello from ${name}'); setTimeout(() => process.exit(3), ${lifetimeMs});`], environment: {} }),
    stopSteps: [
      ['SIGTERM', 2_000],
      ['SIGKILL', 2_000],
    ],
    ready: async () => undefined,
  };
}

async function waitFor(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 20));
}

describe('the npm start supervisor', () => {
  it('restarts a part that exits once the stack runs, each time after twice the delay, up to the longest', async () => {
    const report = recordingReport();
    const supervisor = supervisorFor(report);
    await supervisor.start(shortLived('subgraphs', 150));
    supervisor.markRunning();
    await waitFor(() => report.messages.filter((message) => message.startsWith('subgraphs exited unexpectedly')).length >= 4);
    const delays = report.messages.filter((message) => message.startsWith('subgraphs exited unexpectedly')).map((message) => /restarting it in ([\d.]+) s/.exec(message)?.[1]);
    expect(delays.slice(0, 4)).toEqual(['0.02', '0.04', '0.08', '0.08']);
    expect(report.messages.some((message) => message.startsWith('subgraphs exited unexpectedly (exit code 3)'))).toBe(true);
    expect(report.messages).toContainEqual(expect.stringMatching(/^subgraphs is running again \(pid \d+, restart 1\)$/));
    expect(report.lines.filter((line) => line === 'hello from subgraphs').length).toBeGreaterThanOrEqual(4);
  });

  it('starts again from the first delay after a run that served long enough', async () => {
    const report = recordingReport();
    const supervisor = supervisorFor(report, { initialDelayMs: 20, maxDelayMs: 80, stableAfterMs: 100 });
    await supervisor.start(shortLived('redis-server', 300));
    supervisor.markRunning();
    await waitFor(() => report.messages.filter((message) => message.startsWith('redis-server exited unexpectedly')).length >= 3);
    const delays = report.messages.filter((message) => message.startsWith('redis-server exited unexpectedly')).map((message) => /restarting it in ([\d.]+) s/.exec(message)?.[1]);
    expect(delays.slice(0, 3)).toEqual(['0.02', '0.02', '0.02']);
  });

  it('fails the start, with what the part wrote last, when it exits before the stack is ready', async () => {
    const report = recordingReport();
    const supervisor = supervisorFor(report);
    const failing: PartSpec = { ...shortLived('postgres', 10), ready: () => Promise.reject(new Error('not yet')) };
    const failure = await supervisor.start(failing).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(StartError);
    expect((failure as StartError).message).toBe('postgres exited before the stack was ready (exit code 3)');
    expect((failure as StartError).recentLines).toContain('hello from postgres');
    expect(report.messages).toEqual([]);
  });

  it('restarts a worker thread that throws, and stops it by message', async () => {
    const report = recordingReport();
    const supervisor = supervisorFor(report);
    let runs = 0;
    const gateway: PartSpec = {
      name: 'gateway',
      launch: () => {
        runs += 1;
        // The first run fails after it is ready; the next ones run until told to stop.
        const source =
          runs === 1
            ? `setTimeout(() => { throw new Error('gateway failed'); }, 100);`
            : `import { parentPort } from 'node:worker_threads'; console.log('gateway up'); parentPort.on('message', (message) => { if (message === 'stop') process.exit(0); });`;
        return launchWorker({ source, environment: {} });
      },
      stopSteps: [
        ['SIGTERM', 2_000],
        ['SIGKILL', 2_000],
      ],
      ready: async () => undefined,
    };
    const part = await supervisor.start(gateway);
    supervisor.markRunning();
    await waitFor(() => report.messages.some((message) => message.startsWith('gateway is running again')));
    expect(report.messages[0]).toMatch(/^gateway exited unexpectedly \(exit code 1\); restarting it in 0\.02 s$/);
    expect(report.lines.some((line) => line.includes('gateway failed'))).toBe(true);
    supervisor.beginStopping();
    await part.stop();
    expect(report.messages.filter((message) => message.includes('exited unexpectedly'))).toHaveLength(1);
  });

  it('does not restart a part that was stopped', async () => {
    const report = recordingReport();
    const supervisor = supervisorFor(report);
    const part = await supervisor.start(shortLived('subgraphs', 60_000));
    supervisor.markRunning();
    supervisor.beginStopping();
    await part.stop();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(report.messages).toEqual([]);
  });
});
