import { randomBytes } from 'node:crypto';
import { accessSync, constants, createReadStream, createWriteStream, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createBrotliDecompress } from 'node:zlib';

/** What every Chromium this project launches is started with (tests and the content service alike). */
export const chromiumArguments: readonly string[] = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'];

/** Debian's `chromium` package. */
export const systemChromiumPath = '/usr/bin/chromium';

export interface ChromiumExecutableOptions {
  /** A Chromium the configuration names (`CHROMIUM_PATH`); used as it is. Default: none. */
  configuredPath?: string;
  /** Where a Chromium installed by the system package would be. Default: `/usr/bin/chromium`. */
  systemPath?: string;
  /** Where the packaged Chromium is unpacked. Default: a folder per package version under the OS temp dir. */
  unpackDirectory?: string;
}

/**
 * The Chromium to launch: the configured one, else the system's when it is installed, else the one
 * the npm package `@sparticuz/chromium` ships (brotli-compressed inside the package), unpacked on
 * first use. So `npm install` is all a machine needs to render pages and run the browser tests.
 */
export async function chromiumExecutablePath(options: ChromiumExecutableOptions = {}): Promise<string> {
  if (options.configuredPath) return options.configuredPath;
  const systemPath = options.systemPath ?? systemChromiumPath;
  if (isExecutable(systemPath)) return systemPath;
  if (process.platform !== 'linux') {
    // The packaged binary is built for Linux only.
    throw new Error(`No Chromium at ${systemPath}: set CHROMIUM_PATH to a Chromium or Chrome executable (on macOS, /Applications/Google Chrome.app/Contents/MacOS/Google Chrome)`);
  }
  return unpackPackagedChromium(options.unpackDirectory);
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

let unpacking: Map<string, Promise<string>> | undefined;

/**
 * Unpacks the package's `bin/chromium.br` to `<directory>/chromium`, once. The package's own
 * `executablePath()` writes to a fixed `/tmp/chromium` in place and treats any file there as
 * complete, so a second process (a parallel test worker) can launch a half-written binary; here
 * each process writes a file of its own and renames it into place, which is atomic, and the
 * folder is named by the package version, so an upgrade never launches an older binary.
 */
function unpackPackagedChromium(unpackDirectory: string | undefined): Promise<string> {
  const packageRoot = join(dirname(createRequire(import.meta.url).resolve('@sparticuz/chromium')), '..');
  const { version } = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version: string };
  const directory = unpackDirectory ?? join(tmpdir(), `gtm-chromium-${version}`);
  const executable = join(directory, 'chromium');
  unpacking ??= new Map();
  let pending = unpacking.get(executable);
  if (!pending) {
    pending = (async () => {
      if (existsSync(executable)) return executable;
      mkdirSync(directory, { recursive: true });
      const partial = join(directory, `chromium.${process.pid}.${randomBytes(4).toString('hex')}.partial`);
      try {
        await pipeline(createReadStream(join(packageRoot, 'bin', 'chromium.br')), createBrotliDecompress(), createWriteStream(partial, { mode: 0o755 }));
        renameSync(partial, executable);
      } finally {
        rmSync(partial, { force: true });
      }
      return executable;
    })();
    unpacking.set(executable, pending);
    pending.catch(() => unpacking?.delete(executable));
  }
  return pending;
}
