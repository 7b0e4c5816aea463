// A worker process for the kill-and-resume test: runs counting jobs until it is killed, or until
// SIGTERM closes it. Reads its settings from the environment the test gives it.
import { createDatabase, createLogger, createRedis } from '@gtm/runtime';
import { jobEntities } from '../job.entity.js';
import { startJobWorker } from '../job-worker.js';
import { countingMigrations, countingSchema, countingWorkerSchema, createCountingKind } from './counting-job.js';

const databaseUrl = process.env['DATABASE_URL']!;
const delayMs = Number(process.env['ITEM_DELAY_MS'] ?? '0');
const logger = createLogger({ service: 'counting-worker', level: 'warn' });
const database = await createDatabase({ url: databaseUrl, schema: countingSchema, entities: jobEntities, migrations: countingMigrations, logger, poolMax: 3 });
const redis = createRedis({ url: process.env['REDIS_URL']!, keyPrefix: process.env['REDIS_KEY_PREFIX'] });
await redis.connect();
const kind = createCountingKind({ beforeItem: () => new Promise((resolve) => setTimeout(resolve, delayMs)) });
const worker = await startJobWorker({
  database,
  databaseUrl,
  workerSchema: countingWorkerSchema,
  redis,
  logger,
  kinds: [kind],
  recoveryIntervalMs: 100,
  pollIntervalMs: 100,
  lockGraceMs: 0,
});
process.stdout.write('ready\n');
process.once('SIGTERM', () => {
  void worker
    .close()
    .then(() => Promise.all([database.close(), redis.quit()]))
    .then(() => process.exit(0));
});
