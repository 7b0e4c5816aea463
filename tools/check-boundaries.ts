// Enforces the workspace's module boundaries from the Nx project tags (project.json):
//   - every project has one known type tag and one scope tag;
//   - by type (what a project is): an app never imports another app; a data library (one that
//     holds or reaches state: PostgreSQL, Redis, a model API) imports data and util libraries; a
//     util library (no I/O of its own) imports only util libraries; a testing library imports the
//     libraries it fakes or drives; any project's *.test.ts files may import type:testing;
//   - a project of scope:X imports only scope:X or scope:shared;
//   - every imported @gtm/* package is declared in the importer's package.json, so Nx's project
//     graph (and `nx run-many -t build` ordering) sees the same edges as the code.
// typescript-eslint cannot run on TypeScript 7, so @nx/eslint-plugin's rule is out of reach; this
// script reads the same tags. Usage: node tools/check-boundaries.ts [workspaceRoot] [--project name]
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { parseArgs } from 'node:util';

interface Project {
  name: string;
  root: string;
  type: string;
  scope: string;
  packageName: string;
  declared: Set<string>;
}

/** For each type, the types its shipped code may import. */
const allowedTypes: Record<string, string[]> = {
  app: ['data', 'util'],
  data: ['data', 'util'],
  util: ['util'],
  testing: ['data', 'util', 'testing'],
  e2e: ['app', 'data', 'util', 'testing'],
};

function loadProjects(workspaceRoot: string): Project[] {
  const projects: Project[] = [];
  for (const group of ['apps', 'libs', 'e2e']) {
    const groupPath = join(workspaceRoot, group);
    if (!existsSync(groupPath)) continue;
    const roots = existsSync(join(groupPath, 'project.json')) ? [groupPath] : readdirSync(groupPath).map((entry) => join(groupPath, entry));
    for (const root of roots) {
      if (!existsSync(join(root, 'project.json'))) continue;
      const projectJson = JSON.parse(readFileSync(join(root, 'project.json'), 'utf8')) as { name: string; tags?: string[] };
      const packageJson = existsSync(join(root, 'package.json'))
        ? (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { name?: string; dependencies?: object; devDependencies?: object })
        : {};
      // A project with no tag of a dimension, or two, has none: the check then names it.
      const tag = (prefix: string) => {
        const values = (projectJson.tags ?? []).filter((candidate) => candidate.startsWith(prefix)).map((candidate) => candidate.slice(prefix.length));
        return values.length === 1 ? values[0]! : '';
      };
      projects.push({
        name: projectJson.name,
        root,
        type: tag('type:'),
        scope: tag('scope:'),
        packageName: packageJson.name ?? '',
        declared: new Set([...Object.keys(packageJson.dependencies ?? {}), ...Object.keys(packageJson.devDependencies ?? {})]),
      });
    }
  }
  return projects;
}

function* sourceFiles(directory: string): Generator<string> {
  for (const entry of readdirSync(directory, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name === 'dist') continue;
    const path = join(directory, entry.name);
    if (entry.isDirectory()) yield* sourceFiles(path);
    else if (/\.(ts|tsx|mts)$/.test(entry.name)) yield path;
  }
}

const importPattern = /(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\s*\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s*['"]([^'"]+)['"]/gm;

export interface CheckBoundariesOptions {
  /** Check only this project's imports (its lint target); default: every project. */
  project?: string;
}

export function checkBoundaries(workspaceRoot: string, options: CheckBoundariesOptions = {}): string[] {
  const projects = loadProjects(workspaceRoot);
  const byPackage = new Map(projects.map((project) => [project.packageName, project]));
  const owning = (file: string) => projects.find((project) => file.startsWith(project.root + sep));
  const violations: string[] = [];
  const checked = options.project === undefined ? projects : projects.filter((project) => project.name === options.project);
  if (checked.length === 0) return [`no project is named ${options.project}`];
  for (const project of checked) {
    const projectFile = relative(workspaceRoot, join(project.root, 'project.json'));
    if (!(project.type in allowedTypes)) violations.push(`${projectFile}: needs one type tag of ${Object.keys(allowedTypes).map((type) => `type:${type}`).join(', ')}`);
    if (!project.scope) violations.push(`${projectFile}: needs a scope tag (scope:<domain> or scope:shared)`);
    for (const file of sourceFiles(project.root)) {
      const text = readFileSync(file, 'utf8');
      for (const match of text.matchAll(importPattern)) {
        const specifier = match[1] ?? match[2] ?? match[3] ?? '';
        let target: Project | undefined;
        if (specifier.startsWith('.')) target = owning(resolve(dirname(file), specifier));
        else if (specifier.startsWith('@gtm/')) target = byPackage.get(specifier.split('/').slice(0, 2).join('/'));
        if (!target || target === project) continue;
        const where = relative(workspaceRoot, file);
        // Any project's tests may use the testing library; its shipped code may not.
        const allowed = [...(allowedTypes[project.type] ?? []), ...(/\.test\.tsx?$/.test(file) ? ['testing'] : [])];
        if (!allowed.includes(target.type)) {
          violations.push(`${where}: ${project.name} (type:${project.type}) must not import ${target.name} (type:${target.type})`);
        }
        if (target.scope !== 'shared' && target.scope !== project.scope && project.type !== 'e2e') {
          violations.push(`${where}: ${project.name} (scope:${project.scope}) must not import ${target.name} (scope:${target.scope})`);
        }
        if (specifier.startsWith('.')) {
          violations.push(`${where}: reaches into ${target.name} by relative path; import its package ${target.packageName || '(none)'} instead`);
        } else if (!project.declared.has(target.packageName)) {
          violations.push(`${where}: imports ${target.packageName} without declaring it in ${relative(workspaceRoot, join(project.root, 'package.json'))}`);
        }
      }
    }
  }
  return violations;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { project: { type: 'string' } } });
  const workspaceRoot = resolve(positionals[0] ?? '.');
  const violations = checkBoundaries(workspaceRoot, { project: values.project });
  if (violations.length > 0) {
    process.stderr.write(`Module boundary violations:\n${violations.map((violation) => `  - ${violation}`).join('\n')}\n`);
    process.exit(1);
  }
  process.stdout.write(values.project ? `Module boundaries hold for ${values.project}.\n` : `Module boundaries hold across ${loadProjects(workspaceRoot).length} projects.\n`);
}
