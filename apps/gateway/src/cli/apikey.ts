// `npm run apikey -- create|list|revoke`: manages API keys from the command line.
import { parseArgs } from 'node:util';
import { badUserInput, ConfigurationError, createLogger } from '@gtm/runtime';
import { GraphQLError } from 'graphql';
import { openApiKeyRegistry } from '../api-key/api-key.registry.js';
import type { ApiKeyListing } from '../api-key/api-key.service.js';
import { loadApiKeyCommandConfig } from '../config.js';

const usage = `Usage:
  npm run apikey -- create --tenant <slug> --tier <free|pro|enterprise> [--scopes read,write,admin] [--name <text>]
  npm run apikey -- list [--tenant <slug>]
  npm run apikey -- revoke <key id or prefix>
Needs DATABASE_URL (the gateway's PostgreSQL); npm run apikey finds npm start's embedded one by itself.`;

function describe(apiKey: ApiKeyListing): string {
  const state = apiKey.revokedAt ? `revoked ${apiKey.revokedAt.toISOString()}` : 'active';
  const lastUsed = apiKey.lastUsedAt ? apiKey.lastUsedAt.toISOString() : 'never';
  return `${apiKey.prefix}  ${apiKey.tenant}  ${apiKey.tier}  ${apiKey.scopes.join(',')}  ${state}  last used ${lastUsed}  id ${apiKey.id}${apiKey.name ? `  "${apiKey.name}"` : ''}`;
}

async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { tenant: { type: 'string' }, tier: { type: 'string' }, scopes: { type: 'string' }, name: { type: 'string' }, help: { type: 'boolean' } },
  });
  const [command, argument] = positionals;
  if (values.help || !command || !['create', 'list', 'revoke'].includes(command)) {
    process.stdout.write(`${usage}\n`);
    return values.help ? 0 : 2;
  }
  const config = loadApiKeyCommandConfig();
  const logger = createLogger({ service: 'apikey', level: config.LOG_LEVEL === 'info' ? 'warn' : config.LOG_LEVEL });
  const registry = await openApiKeyRegistry({ databaseUrl: config.DATABASE_URL, logger, poolMax: 2 });
  try {
    const service = registry.apiKeys;
    if (command === 'create') {
      const { key, apiKey } = await service.createKey({
        tenant: values.tenant ?? '',
        tier: (values.tier ?? '') as never,
        scopes: values.scopes ? (values.scopes.split(',').map((scope) => scope.trim()) as never) : undefined,
        name: values.name,
      });
      process.stdout.write(`${key}\n\nThis key is shown once; store it now. ${describe(apiKey)}\n`);
    } else if (command === 'list') {
      const keys = await service.listKeys(values.tenant);
      process.stdout.write(keys.length === 0 ? 'No API keys.\n' : `${keys.map(describe).join('\n')}\n`);
    } else {
      if (!argument) throw badUserInput('Say which key to revoke: its id or its prefix.', 'key');
      process.stdout.write(`Revoked. ${describe(await service.revokeKey(argument))}\n`);
    }
    return 0;
  } finally {
    await registry.close();
  }
}

try {
  process.exitCode = await run(process.argv.slice(2));
} catch (error) {
  if (error instanceof ConfigurationError || error instanceof GraphQLError) {
    process.stderr.write(`apikey: ${error.message}\n`);
    process.exitCode = 2;
  } else {
    process.stderr.write(`apikey: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  }
}
