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
