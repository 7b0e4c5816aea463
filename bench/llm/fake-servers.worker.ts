// The benchmark's model servers, on their own thread so that serving a request never competes
// with the measured client for the main event loop. Answers at once (no simulated model time), so
// the measured differences are the client side's own work.
import { parentPort } from 'node:worker_threads';
import { startFakeAnthropicServer, startFakeOpenAiServer } from '@gtm/testing';

const answer = { json: { headline: 'Close your books in a day', proofPoints: ['SOC 2 Type II', '200 finance teams'] }, usage: { inputTokens: 420, outputTokens: 36 } };

const [openai, anthropic, failing] = await Promise.all([
  startFakeOpenAiServer({ respond: answer }),
  startFakeAnthropicServer({ respond: answer }),
  startFakeOpenAiServer({ respond: { status: 503 } }),
]);

parentPort?.on('message', async (message: string) => {
  if (message !== 'close') return;
  await Promise.all([openai.close(), anthropic.close(), failing.close()]);
  parentPort?.close();
});
// A worker's postMessage takes a transfer list, not a target origin.
parentPort?.postMessage({ openAiBaseURL: openai.baseURL, anthropicBaseURL: anthropic.baseURL, failingBaseURL: failing.baseURL }, []);
