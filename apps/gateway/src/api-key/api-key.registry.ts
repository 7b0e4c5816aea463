import { createDatabase, type Database, type Logger } from '@gtm/runtime';
import { migrations } from '../migrations/index.js';
import { LlmUsage, RequestUsage } from '../usage/usage.entity.js';
import { ApiKey } from './api-key.entity.js';
import { ApiKeyService } from './api-key.service.js';
import { Tenant } from './tenant.entity.js';

/** The PostgreSQL schema the gateway owns. */
export const gatewaySchema = 'gateway';

export interface ApiKeyRegistry {
  database: Database;
  apiKeys: ApiKeyService;
  close(): Promise<void>;
}

/**
 * Opens the gateway's own schema (tenants, API keys and usage records), migrated. The gateway, `npm run apikey`
 * and `npm start` (which makes the development key) all open it this way.
 */
export async function openApiKeyRegistry(options: { databaseUrl: string; logger: Logger; poolMax?: number }): Promise<ApiKeyRegistry> {
  const database = await createDatabase({
    url: options.databaseUrl,
    schema: gatewaySchema,
    entities: [Tenant, ApiKey, RequestUsage, LlmUsage],
    migrations,
    logger: options.logger,
    poolMax: options.poolMax ?? 5,
    // Finding the tenant of a presented key is a lookup across tenants by nature; the usage
    // repository writes the tenant into each of its queries itself.
    tenantScoped: false,
  });
  try {
    await database.migrate();
  } catch (error) {
    await database.close();
    throw error;
  }
  return { database, apiKeys: new ApiKeyService(database), close: () => database.close() };
}
