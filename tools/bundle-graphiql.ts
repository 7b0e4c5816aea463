// Bundles the gateway's GraphiQL page (apps/gateway/src/graphiql/graphiql-page.tsx, and
// graphiql-page.css, which brings GraphiQL's CSS) into graphiql.js and graphiql.css, which the
// gateway serves from its own origin.
// Usage: node tools/bundle-graphiql.ts [--outdir <directory>]   (default apps/gateway/dist/graphiql)
// The output depends only on the sources and the installed packages: no source maps, no absolute
// paths, no timestamps, so two builds of the same tree are byte-identical.
import { mkdir, readFile, rm } from 'node:fs/promises';
import { basename, isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const workspaceRoot = fileURLToPath(new URL('..', import.meta.url));
const sourceDirectory = resolve(workspaceRoot, 'apps/gateway/src/graphiql');
const outputNames = ['graphiql.js', 'graphiql.css'];
export const defaultGraphiqlOutdir = resolve(workspaceRoot, 'apps/gateway/dist/graphiql');

export interface BundledFile {
  name: string;
  bytes: number;
  /** What goes over the wire: the gateway serves the bundle gzipped. */
  gzippedBytes: number;
}

export async function bundleGraphiql(outdir: string = defaultGraphiqlOutdir): Promise<BundledFile[]> {
  // A failed build must not leave an earlier bundle behind to be served as if it were current.
  // Only the two outputs are removed: --outdir may name a directory that holds other files.
  await Promise.all(outputNames.map((name) => rm(join(outdir, name), { force: true })));
  await mkdir(outdir, { recursive: true });
  const result = await build({
    absWorkingDir: workspaceRoot,
    entryPoints: [
      { in: join(sourceDirectory, 'graphiql-page.tsx'), out: 'graphiql' },
      { in: join(sourceDirectory, 'graphiql-page.css'), out: 'graphiql' },
    ],
    outdir,
    bundle: true,
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
    minify: true,
    sourcemap: false,
    jsx: 'automatic',
    define: { 'process.env.NODE_ENV': '"production"' },
    // GraphiQL's stylesheet inlines its fonts and images as data: URLs; nothing else is loaded.
    charset: 'utf8',
    metafile: true,
    write: true,
    logLevel: 'warning',
  });
  const files = await Promise.all(
    Object.entries(result.metafile.outputs).map(async ([path, output]) => ({
      name: basename(path),
      bytes: output.bytes,
      gzippedBytes: gzipSync(await readFile(resolve(workspaceRoot, path)), { level: 9 }).length,
    })),
  );
  return files.toSorted((left, right) => left.name.localeCompare(right.name));
}

function kib(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KiB`;
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { outdir: { type: 'string' } } });
  const outdir = resolve(values.outdir ?? defaultGraphiqlOutdir);
  const started = performance.now();
  const files = await bundleGraphiql(outdir);
  const shownOutdir = relative(process.cwd(), outdir);
  const lines = files.map((file) => `  ${file.name.padEnd(14)} ${kib(file.bytes).padStart(11)}  (${kib(file.gzippedBytes)} gzipped)`);
  process.stdout.write(
    `GraphiQL bundled into ${shownOutdir.startsWith('..') || isAbsolute(shownOutdir) ? outdir : shownOutdir || '.'} in ${Math.round(performance.now() - started)} ms\n${lines.join('\n')}\n`,
  );
}
