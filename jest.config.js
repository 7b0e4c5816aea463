// One jest configuration for the whole workspace: projects differ only in where their tests live,
// and each Nx `test` target narrows the run to its own folder.
import { readFileSync } from 'node:fs';

const swcOptions = JSON.parse(readFileSync(new URL('./.swcrc', import.meta.url), 'utf8'));
delete swcOptions.$schema;

/** @type {import('jest').Config} */
export default {
  testEnvironment: 'node',
  testEnvironmentOptions: { customExportConditions: ['@gtm/source', 'node', 'node-addons'] },
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest', swcOptions] },
  // Sources import their siblings as `./x.js` (what the build emits); in tests the `.ts` is the
  // sibling. A dependency's `x.json.js` wrapper is a real file and must stay one: stripped, it
  // would load the JSON itself (which Node's ESM refuses without an import attribute).
  moduleNameMapper: { '^(\\.{1,2}/.*)(?<!\\.json)\\.js$': '$1' },
  testMatch: ['<rootDir>/apps/*/src/**/*.test.ts', '<rootDir>/libs/*/src/**/*.test.ts', '<rootDir>/e2e/src/**/*.test.ts', '<rootDir>/tools/**/*.test.ts'],
  setupFiles: ['reflect-metadata'],
  reporters: ['default', '<rootDir>/tools/jest-summary-reporter.js'],
  testTimeout: 60_000,
  // Tests share one PostgreSQL server and one Redis; each test file isolates itself with its own
  // database or key prefix, so files may run in parallel on the two cores.
  maxWorkers: 2,
};
