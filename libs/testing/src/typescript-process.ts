import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const registerUrl = new URL('./typescript-process/register.ts', import.meta.url);

/**
 * Starts a Node process running a TypeScript source file of this workspace as the tests see it
 * (workspace packages from their sources, decorators compiled by swc), with no build step. For
 * tests that need a separate process, for instance one they can kill outright.
 */
export function spawnTypeScript(entry: URL, args: string[] = [], options: SpawnOptions = {}): ChildProcess {
  return spawn(process.execPath, ['--conditions=@gtm/source', '--import', registerUrl.href, fileURLToPath(entry), ...args], { stdio: ['ignore', 'pipe', 'pipe'], ...options });
}

/** A service started by `startTypeScriptService`: its process, and the URL it said it listens on. */
export interface ServiceProcess {
  child: ChildProcess;
  url: string;
}

/**
 * Starts a service's TypeScript entry point in a process of its own (`spawnTypeScript`) and
 * resolves once it writes `ready <url>` to its output; rejects with what it wrote to stderr when it
 * exits before that. For tests that kill a service outright and start it again.
 */
export async function startTypeScriptService(entry: URL, env: NodeJS.ProcessEnv): Promise<ServiceProcess> {
  const child = spawnTypeScript(entry, [], { env });
  let errors = '';
  child.stderr?.on('data', (chunk: Buffer) => (errors += chunk.toString()));
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const ready = /ready (\S+)/.exec(output);
      if (ready) resolve(ready[1]!);
    });
    child.once('exit', (code, signal) => reject(new Error(`${fileURLToPath(entry)} exited (${code ?? signal}) before it was ready:\n${errors}`)));
  });
  return { child, url };
}
