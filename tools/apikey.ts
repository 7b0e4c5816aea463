// `npm run apikey -- create|list|revoke …`: the gateway's key command (apps/gateway/src/cli), on the
// database in DATABASE_URL or, when that is not set, on the embedded PostgreSQL a running
// `npm start` of this checkout serves from its data directory.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { runningEmbeddedDatabaseUrl } from './start/embedded-postgres.ts';
import { dataDirectoryOf, workspaceRoot } from './start/settings.ts';

const databaseUrl = process.env['DATABASE_URL']?.trim() || runningEmbeddedDatabaseUrl(dataDirectoryOf(process.env));
if (!databaseUrl) {
  process.stderr.write(
    `apikey: DATABASE_URL is not set, and no embedded PostgreSQL of npm start is running in ${join(dataDirectoryOf(process.env), 'postgres')}. ` +
      'Start the stack first (npm start, in another terminal), or set DATABASE_URL to the gateway\'s PostgreSQL.\n',
  );
  process.exit(2);
}

const command = spawn(process.execPath, [join(workspaceRoot, 'apps', 'gateway', 'dist', 'cli', 'apikey.js'), ...process.argv.slice(2)], {
  stdio: 'inherit',
  env: { ...process.env, DATABASE_URL: databaseUrl },
});
command.once('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
