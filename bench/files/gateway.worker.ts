// The gateway of the upload benchmark, on its own thread as `npm start` runs it.
import { parentPort, workerData } from 'node:worker_threads';
import { createApp } from '@gtm/gateway/app';
import { loadConfig } from '@gtm/gateway/config';
import { createLogger } from '@gtm/runtime';

const gateway = await createApp(loadConfig(workerData as Record<string, string>), { logger: createLogger({ service: 'bench-gateway', level: 'silent' }) });

parentPort?.on('message', async (message: string) => {
  // The CPU time this thread (the gateway) has used, for the cost of forwarding a megabyte.
  if (message === 'cpu') return parentPort?.postMessage({ cpuMicroseconds: process.threadCpuUsage().user + process.threadCpuUsage().system });
  if (message !== 'close') return;
  await gateway.close();
  parentPort?.close();
});
parentPort?.postMessage({ url: gateway.url });
