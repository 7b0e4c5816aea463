// Module hooks that let a plain Node process run the workspace's TypeScript sources the way jest
// does: swc with the workspace's .swcrc (decorators and their metadata, which Node's own type
// stripping cannot run), and `./x.js` imports resolved to `./x.ts`. Loaded by register.ts.
// Erasable syntax only: Node itself loads this file.
import { existsSync, readFileSync } from 'node:fs';
import type { LoadHook, ResolveHook } from 'node:module';
import { fileURLToPath } from 'node:url';
import { transformSync } from '@swc/core';

const swcOptions = JSON.parse(readFileSync(new URL('../../../../.swcrc', import.meta.url), 'utf8')) as Record<string, unknown>;
delete swcOptions['$schema'];

export const resolve: ResolveHook = (specifier, context, nextResolve) => {
  if (context.parentURL?.startsWith('file:') && /^\.{1,2}\//.test(specifier) && specifier.endsWith('.js')) {
    const typescript = new URL(specifier.replace(/\.js$/, '.ts'), context.parentURL);
    if (existsSync(typescript)) return nextResolve(typescript.href, context);
  }
  return nextResolve(specifier, context);
};

export const load: LoadHook = (url, context, nextLoad) => {
  if (!url.startsWith('file:') || !url.endsWith('.ts') || url.includes('/node_modules/')) return nextLoad(url, context);
  const filename = fileURLToPath(url);
  const { code } = transformSync(readFileSync(filename, 'utf8'), { ...swcOptions, filename, sourceMaps: 'inline' });
  return { format: 'module', source: code, shortCircuit: true };
};
