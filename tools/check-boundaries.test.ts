import { afterEach, describe, expect, it } from '@jest/globals';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { checkBoundaries } from './check-boundaries.ts';

let workspace: string;

function write(path: string, content: unknown): void {
  const full = join(workspace, path);
  mkdirSync(dirname(full), { recursive: true });
  writeFileSync(full, typeof content === 'string' ? content : JSON.stringify(content));
}

function project(root: string, name: string, tags: string[], dependencies: Record<string, string> = {}): void {
  write(`${root}/project.json`, { name, tags });
  write(`${root}/package.json`, { name: `@gtm/${name}`, dependencies });
}

function createWorkspace(): void {
  workspace = mkdtempSync(join(tmpdir(), 'boundaries-'));
  project('apps/crm-service', 'crm-service', ['type:app', 'scope:crm'], { '@gtm/runtime': '*' });
  project('apps/campaign-service', 'campaign-service', ['type:app', 'scope:campaign'], { '@gtm/runtime': '*' });
  project('libs/runtime', 'runtime', ['type:data', 'scope:shared']);
  project('libs/caller', 'caller', ['type:util', 'scope:shared']);
  project('libs/testing', 'testing', ['type:testing', 'scope:shared']);
  write('apps/crm-service/src/app.ts', `import { createLogger } from '@gtm/runtime';\n`);
  write('libs/runtime/src/index.ts', `export const x = 1;\n`);
}

afterEach(() => rmSync(workspace, { recursive: true, force: true }));

describe('checkBoundaries', () => {
  it('accepts declared imports of shared libraries', () => {
    createWorkspace();
    expect(checkBoundaries(workspace)).toEqual([]);
  });

  it('refuses an app importing another app, by package or by relative path', () => {
    createWorkspace();
    write('apps/crm-service/src/leak.ts', `import { createApp } from '@gtm/campaign-service';\nimport { x } from '../../campaign-service/src/app.js';\n`);
    const violations = checkBoundaries(workspace);
    expect(violations.some((violation) => /crm-service \(type:app\) must not import campaign-service \(type:app\)/.test(violation))).toBe(true);
    expect(violations.some((violation) => /reaches into campaign-service by relative path/.test(violation))).toBe(true);
  });

  it('refuses an undeclared workspace import and testing code outside tests', () => {
    createWorkspace();
    write('libs/runtime/src/helper.ts', `import { createTestCaller } from '@gtm/testing';\n`);
    write('libs/runtime/src/helper.test.ts', `import { createTestCaller } from '@gtm/testing';\n`);
    const violations = checkBoundaries(workspace);
    expect(violations.filter((violation) => violation.includes('helper.ts: runtime (type:data) must not import testing'))).toHaveLength(1);
    expect(violations.some((violation) => violation.includes('helper.test.ts') && violation.includes('must not import'))).toBe(false);
    expect(violations.some((violation) => violation.includes('without declaring it'))).toBe(true);
  });

  it('keeps a util library from importing a data library, and lets a data library import a util one', () => {
    createWorkspace();
    project('libs/caller', 'caller', ['type:util', 'scope:shared'], { '@gtm/runtime': '*' });
    project('libs/runtime', 'runtime', ['type:data', 'scope:shared'], { '@gtm/caller': '*' });
    write('libs/caller/src/token.ts', `import { createLogger } from '@gtm/runtime';\n`);
    write('libs/runtime/src/server.ts', `import { verify } from '@gtm/caller';\n`);
    expect(checkBoundaries(workspace)).toEqual(['libs/caller/src/token.ts: caller (type:util) must not import runtime (type:data)']);
  });

  it('names a project without exactly one known type tag, or without a scope', () => {
    createWorkspace();
    project('libs/caller', 'caller', ['type:util', 'type:data', 'scope:shared']);
    project('libs/runtime', 'runtime', ['type:helpers']);
    const violations = checkBoundaries(workspace);
    expect(violations).toContain('libs/caller/project.json: needs one type tag of type:app, type:data, type:util, type:testing, type:e2e');
    expect(violations).toContain('libs/runtime/project.json: needs one type tag of type:app, type:data, type:util, type:testing, type:e2e');
    expect(violations).toContain('libs/runtime/project.json: needs a scope tag (scope:<domain> or scope:shared)');
  });

  it('checks one project alone when asked, as its lint target does', () => {
    createWorkspace();
    write('apps/crm-service/src/leak.ts', `import { createApp } from '@gtm/campaign-service';\n`);
    expect(checkBoundaries(workspace, { project: 'campaign-service' })).toEqual([]);
    expect(checkBoundaries(workspace, { project: 'crm-service' }).length).toBeGreaterThan(0);
    expect(checkBoundaries(workspace, { project: 'nothing' })).toEqual(['no project is named nothing']);
  });
});
