// The benchmark's model server, on its own thread so that serving a request (reading a prompt of
// tens of kilobytes, writing the answer) never competes with the measured services for the main
// event loop, as a real model's servers would not. Answers every call in `delayMs` exactly.
import { parentPort, workerData } from 'node:worker_threads';
import { exampleFromJsonSchema, startFakeOpenAiServer, type FakeLlmReply, type FakeLlmRequest } from '@gtm/testing';

/** A schema-valid answer citing the first passages of the prompt, so grounding has real work to do. */
function respond(request: FakeLlmRequest): FakeLlmReply {
  const answer = exampleFromJsonSchema(request.schema ?? {}) as { sources?: { url: string; quote: string }[] };
  const passages = [...request.prompt.matchAll(/<passage index="\d+" url="([^"]+)" heading="[^"]*">\n([\s\S]*?)\n<\/passage>/g)];
  answer.sources = passages.slice(0, 3).map((match) => ({ url: match[1]!, quote: match[2]!.trim().slice(0, 80) }));
  return { json: answer };
}

const server = await startFakeOpenAiServer({ respond, delayMs: (workerData as { delayMs: number }).delayMs });

parentPort?.on('message', async (message: 'reset' | 'arrivals' | 'close') => {
  if (message === 'reset') server.reset();
  // A worker's postMessage takes a transfer list, not a target origin.
  if (message === 'arrivals') parentPort?.postMessage({ arrivals: server.requests.map((request) => request.receivedAt) }, []);
  if (message === 'close') {
    await server.close();
    parentPort?.close();
  }
});
parentPort?.postMessage({ baseURL: server.baseURL }, []);
