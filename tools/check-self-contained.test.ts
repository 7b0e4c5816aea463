import { afterEach, describe, expect, it } from '@jest/globals';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkSelfContained } from './check-self-contained.ts';

const repositoryRoot = fileURLToPath(new URL('../', import.meta.url));
// The samples are spelled in pieces, so that this file itself passes the check.
const siblingFolder = ['..', 'shared'].join('/');
const up = (levels: number) => '../'.repeat(levels);

let workspace: string | undefined;

function write(path: string, content: string): void {
  const full = join(workspace!, path);
  mkdirSync(dirname(full), { recursive: true });
  writeFileSync(full, content);
}

afterEach(() => {
  if (workspace) rmSync(workspace, { recursive: true, force: true });
  workspace = undefined;
});

describe('checkSelfContained', () => {
  it('finds nothing in this repository', () => {
    expect(checkSelfContained(repositoryRoot)).toEqual([]);
  });

  it('refuses code that reads a file above the repository root, and accepts the same read inside it', () => {
    workspace = mkdtempSync(join(tmpdir(), 'self-contained-'));
    write('fixtures/websites/acme.json', '{}');
    write('apps/content-service/src/inside.ts', `const captures = new URL('${up(3)}fixtures/websites/', import.meta.url);\n`);
    write('apps/content-service/src/outside.ts', `const captures = new URL('${up(4)}fixtures/websites/', import.meta.url);\n`);
    write('e2e/src/outside.test.ts', `import { lead } from '${up(3)}leads.js';\nconst more = await import('${up(3)}more.js');\n`);
    const violations = checkSelfContained(workspace!);
    expect(violations).toEqual([
      expect.stringMatching(/^apps\/content-service\/src\/outside\.ts:1: "\.\.\/\.\.\/\.\.\/\.\.\/fixtures\/websites\/" points outside the repository$/),
      expect.stringMatching(/^e2e\/src\/outside\.test\.ts:1: "\.\.\/\.\.\/\.\.\/leads\.js" points outside the repository$/),
      expect.stringMatching(/^e2e\/src\/outside\.test\.ts:2: "\.\.\/\.\.\/\.\.\/more\.js" points outside the repository$/),
    ]);
  });

  it('refuses any mention of the folder that used to sit beside the repository, in code and in docs', () => {
    workspace = mkdtempSync(join(tmpdir(), 'self-contained-'));
    write('libs/runtime/src/errors.ts', `/** The stable codes (${siblingFolder}/API.md). */\n`);
    write('README.md', `# Title\n\nSee [the design](${siblingFolder}/ARCHITECTURE.md).\n`);
    write('bench/extraction.bench.ts', `// reads ${['shared', 'fixtures'].join('/')}/websites\n`);
    const violations = checkSelfContained(workspace!);
    expect(violations).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^libs\/runtime\/src\/errors\.ts:1: mentions/),
        expect.stringMatching(/^README\.md:3: mentions/),
        expect.stringMatching(/^README\.md:3: ".*ARCHITECTURE\.md" points outside the repository$/),
        expect.stringMatching(/^bench\/extraction\.bench\.ts:1: mentions "shared\/fixtures"/),
      ]),
    );
  });

  it('skips installed packages and build output', () => {
    workspace = mkdtempSync(join(tmpdir(), 'self-contained-'));
    write('node_modules/some-package/index.js', `const x = new URL('${up(4)}x', import.meta.url);\n`);
    write('apps/gateway/dist/app.js', `// ${siblingFolder}/API.md\n`);
    expect(checkSelfContained(workspace!)).toEqual([]);
  });
});
