// Keeps the repository self-contained: a fresh clone must test, build and run with nothing beside
// it, so no file may read or link anything outside the repository. It fails on
//   - a path in code resolved against the file's own place (`new URL(path, import.meta.url)`, an
//     import specifier) or a Markdown link that climbs above the repository root;
//   - a mention of the folder named `shared` that used to sit beside the repository (its fixtures,
//     API and architecture notes): the fixtures live in `fixtures/` now.
// Usage: node tools/check-self-contained.ts [workspaceRoot]   (npm run lint runs it)
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, join, relative, resolve, sep } from 'node:path';

const skippedDirectories = new Set(['node_modules', 'dist', '.git', '.data', '.nx', 'coverage', 'tmp']);
const codeExtensions = new Set(['.ts', '.tsx', '.mts', '.cts', '.js', '.mjs', '.cjs']);
const textExtensions = new Set([...codeExtensions, '.md', '.json', '.yml', '.yaml', '.graphql', '.html', '.sh', '.toml']);
const textFileNames = new Set(['Dockerfile', 'run', '.gitignore', '.npmrc', '.swcrc']);
/** Data files are large and hold third-party text; what matters is who reads them, and that is code. */
const skippedFiles = new Set(['package-lock.json']);

/** The folder that used to hold the fixtures and design notes, beside the repository. */
const outsideFolderMention = /(?:\.\.\/)+shared\b|\bshared\/(?:fixtures|API\.md|ARCHITECTURE\.md)/g;
/**
 * Paths a module resolves against its own location: `new URL('../x', import.meta.url)` (a template
 * literal up to its first substitution), `import … from '../x'`, `export … from '../x'`, `import('../x')`.
 */
const relativeToModule = [
  /new URL\(\s*(['"`])((?:\.\.\/)+[^'"`$\n]*)[^)]*import\.meta\.url/g,
  /^\s*(?:import|export)\s[^'"\n]*?from\s*(['"])((?:\.\.\/)+[^'"\n]*)\1/gm,
  /\bimport\(\s*(['"`])((?:\.\.\/)+[^'"`$\n]*)/g,
];
/** A Markdown link or image whose target is relative and climbs. */
const markdownLink = /\]\(((?:\.\.\/)+[^)\s]*)\)/g;

function* textFiles(directory: string): Generator<string> {
  for (const entry of readdirSync(directory, { withFileTypes: true })) {
    if (entry.isDirectory()) {
      if (!skippedDirectories.has(entry.name)) yield* textFiles(join(directory, entry.name));
    } else if (entry.isFile() && !skippedFiles.has(entry.name) && (textExtensions.has(extname(entry.name)) || textFileNames.has(entry.name))) {
      yield join(directory, entry.name);
    }
  }
}

function lineOf(text: string, index: number): number {
  return text.slice(0, index).split('\n').length;
}

function isInside(root: string, path: string): boolean {
  return path === root || path.startsWith(root + sep);
}

export function checkSelfContained(workspaceRoot: string): string[] {
  const root = resolve(workspaceRoot);
  const violations: string[] = [];
  for (const file of textFiles(root)) {
    if (statSync(file).size > 2_000_000) continue;
    const text = readFileSync(file, 'utf8');
    const where = (index: number) => `${relative(root, file)}:${lineOf(text, index)}`;
    for (const match of text.matchAll(outsideFolderMention)) {
      violations.push(`${where(match.index)}: mentions "${match[0]}", outside the repository; use the copy in fixtures/ (or say it in this repository's docs)`);
    }
    const climbing: [string, number][] = [];
    if (codeExtensions.has(extname(file))) {
      for (const pattern of relativeToModule) for (const match of text.matchAll(pattern)) climbing.push([match[2]!, match.index]);
    }
    if (extname(file) === '.md') for (const match of text.matchAll(markdownLink)) climbing.push([match[1]!, match.index]);
    for (const [path, index] of climbing) {
      if (!isInside(root, resolve(dirname(file), path))) violations.push(`${where(index)}: "${path}" points outside the repository`);
    }
  }
  return violations;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const workspaceRoot = resolve(process.argv[2] ?? '.');
  const violations = checkSelfContained(workspaceRoot);
  if (violations.length > 0) {
    process.stderr.write(`Files that reach outside the repository:\n${violations.map((violation) => `  - ${violation}`).join('\n')}\n`);
    process.exit(1);
  }
  process.stdout.write('Nothing reads or links outside the repository.\n');
}
