// The real owning service of an import upload, on its own thread as it runs in its own process:
// crm-service with its database, its job worker and its lead import upload handler (CSV reader →
// row normaliser → COPY into the import's staging table, in one transaction).
import { parentPort, workerData } from 'node:worker_threads';
import { createApp } from '@gtm/crm-service/app';
import { loadConfig } from '@gtm/crm-service/config';
import { createLogger } from '@gtm/runtime';

const app = await createApp(loadConfig(workerData as Record<string, string>), { logger: createLogger({ service: 'bench-crm-service', level: 'silent' }) });

parentPort?.on('message', async (message: string) => {
  // The CPU time this thread (the service) has used, for its share of a megabyte.
  if (message === 'cpu') {
    const usage = process.threadCpuUsage();
    return parentPort?.postMessage({ cpuMicroseconds: usage.user + usage.system }, []);
  }
  if (message !== 'close') return;
  await app.close();
  parentPort?.close();
});
// A worker's postMessage takes a transfer list, not a target origin.
parentPort?.postMessage({ url: app.url }, []);
