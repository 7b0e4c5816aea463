// The gateway of the upload benchmark, on its own thread as `npm start` runs it.
import { parentPort, workerData } from 'node:worker_threads';
import { createApp } from '@gtm/gateway/app';
import { loadConfig } from '@gtm/gateway/config';
import { createLogger } from '@gtm/runtime';

const gateway = await createApp(loadConfig(workerData as Record<string, string>), { logger: createLogger({ service: 'bench-gateway', level: 'silent' }) });

parentPort?.on('message', async (message: string) => {
  // The CPU time this thread (the gateway) has used, for the cost of forwarding a megabyte.
  if (message === 'cpu') {
    const usage = process.threadCpuUsage();
    return parentPort?.postMessage({ cpuMicroseconds: usage.user + usage.system }, []);
  }
  if (message !== 'close') return;
  await gateway.close();
  parentPort?.close();
});
// A worker's postMessage takes a transfer list, not a target origin.
parentPort?.postMessage({ url: gateway.url }, []);
