// content-service for the enrichment benchmark, on its own thread as it would be in its own
// process: the dealers' sites (`.test` hosts) resolve to the providers' local server.
import { parentPort, workerData } from 'node:worker_threads';
import { createApp } from '@gtm/content-service/app';
import { loadConfig } from '@gtm/content-service/config';

const { environment } = workerData as { environment: Record<string, string> };
const app = await createApp(loadConfig(environment), {
  resolveHost: async (hostname) => {
    if (hostname.endsWith('.test')) return [{ address: '127.0.0.1', family: 4 }];
    throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
  },
});
parentPort?.on('message', async (message: 'close') => {
  if (message === 'close') {
    await app.close();
    parentPort?.close();
  }
});
parentPort?.postMessage({ url: app.url }, []);
