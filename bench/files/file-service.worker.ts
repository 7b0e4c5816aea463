// The owning service of the upload benchmark, on its own thread as a subgraph runs in its own
// process: the file routes and handlers of @gtm/files' test service.
import { parentPort, workerData } from 'node:worker_threads';
import { createCallerTokenVerifier } from '@gtm/caller';
import { createFileTickets } from '@gtm/files';
import { startFileTestService } from '@gtm/files/testing';
import { createLogger } from '@gtm/runtime';

const { secretsKey, publicKeyPem } = workerData as { secretsKey: string; publicKeyPem: string };
const service = await startFileTestService({
  service: 'crm',
  tickets: createFileTickets({ secretsKey }),
  verifier: await createCallerTokenVerifier({ publicKeyPem }),
  logger: createLogger({ service: 'bench-file-service', level: 'silent' }),
});

parentPort?.on('message', async (message: string) => {
  // The CPU time this thread (the service) has used, for its share of a megabyte.
  if (message === 'cpu') {
    const usage = process.threadCpuUsage();
    return parentPort?.postMessage({ cpuMicroseconds: usage.user + usage.system }, []);
  }
  if (message !== 'close') return;
  await service.close();
  parentPort?.close();
});
// A worker's postMessage takes a transfer list, not a target origin.
parentPort?.postMessage({ url: service.url }, []);
