// One gateway of the federation benchmark, in a process of its own so its memory is its own:
// `gtm` (the project's, every edge feature on), `apollo` (bare @apollo/gateway) or `hive` (Hive
// Gateway, installed for the benchmark only). The bare ones get no authentication: they forward a
// caller token the benchmark signs, renewed as the project's gateway renews its own.
import { AsyncLocalStorage } from 'node:async_hooks';
import { subscribe } from 'node:diagnostics_channel';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { Session } from 'node:inspector/promises';
import type { AddressInfo } from 'node:net';
import { constants as performanceConstants, PerformanceObserver } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { ApolloGateway, RemoteGraphQLDataSource } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { expressMiddleware } from '@as-integrations/express5';
import { callerTokenHeader, createCallerIdentityTokens, createCallerTokenSigner, type CallerIdentity } from '@gtm/caller';
import { createApp as createCurrentApp } from '@gtm/gateway/app';
import { callerTokenReuseMsOf, loadConfig as loadCurrentConfig } from '@gtm/gateway/config';
import { createLogger } from '@gtm/runtime';
import express from 'express';

interface WorkerSettings {
  kind: 'gtm' | 'apollo' | 'hive';
  environment: Record<string, string>;
  /** For the bare gateways: the caller whose token they forward. */
  caller: CallerIdentity;
  /** For the bare gateways: the supergraph, its subgraph URLs pointing at the running subgraphs. */
  supergraphSdl: string;
  /** For Hive: whether it merges identical in-flight subgraph requests (its default: yes). */
  deduplicate: boolean;
  /** For ours: without API-key authentication and rate limits (a diagnostic of what they cost). */
  withoutEdgeSecurity: boolean;
  /** For ours: another build of the gateway (its dist folder), to measure before and after side by side. */
  gatewayDist?: string;
}

const settings = JSON.parse(process.env['BENCH_GATEWAY_SETTINGS']!) as WorkerSettings;

// Every collection's pause, to compare the gateways' tails with what the collector cost them.
const gc = { count: 0, totalMs: 0, maximumMs: 0, major: 0 };
// Each pause with its wall-clock start, so the benchmark can tell which burst it fell in.
const pauses: { at: number; ms: number; major: boolean }[] = [];
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    const major = ((entry as { detail?: { kind?: number } }).detail)?.kind === performanceConstants.NODE_PERFORMANCE_GC_MAJOR;
    gc.count += 1;
    gc.totalMs += entry.duration;
    gc.maximumMs = Math.max(gc.maximumMs, entry.duration);
    if (major) gc.major += 1;
    pauses.push({ at: performance.timeOrigin + entry.startTime, ms: entry.duration, major });
  }
}).observe({ entryTypes: ['gc'] });

// BENCH_HEAP_PROFILE_DIR: V8's sampling heap profiler over the whole run, keeping the samples of
// objects the collector has freed, so the profile shows what each function allocates, not only
// what is still alive; written when the benchmark asks for memory (right after the run).
const heapProfileDirectory = process.env['BENCH_HEAP_PROFILE_DIR'];
const heapProfiler = heapProfileDirectory ? new Session() : undefined;
if (heapProfiler) {
  heapProfiler.connect();
  await heapProfiler.post('HeapProfiler.startSampling', { samplingInterval: 64 * 1024, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
}

async function writeHeapProfile() {
  if (!heapProfiler) return;
  const { profile } = await heapProfiler.post('HeapProfiler.stopSampling');
  await writeFile(`${heapProfileDirectory}/${settings.kind}-${process.pid}.heapprofile`, JSON.stringify(profile));
}

// Each request this gateway served: when it arrived, how long until its answer's last byte, and for
// how much of that at least one of its subgraph fetches was in flight (undici's for ours, Node's
// HTTP client for bare Apollo's make-fetch-happen); the rest is the gateway's own time. A fetch
// belongs to the request in whose asynchronous context it was made (a merged fetch to the first
// request that made it, so with merging on a query's own time is overstated: read it for mutations).
interface RequestTiming {
  startedAt: number;
  fetches: [number, number][];
}
const requestInContext = new AsyncLocalStorage<RequestTiming>();
const timingOfResponse = new WeakMap<object, RequestTiming>();
const fetchStartedAt = new WeakMap<object, [RequestTiming, number]>();
const served: { at: number; totalMs: number; fetchMs: number }[] = [];
const timeInFlight = (intervals: [number, number][]) => {
  let total = 0;
  let reached = -Infinity;
  for (const [start, end] of intervals.toSorted((a, b) => a[0] - b[0])) {
    total += Math.max(0, end - Math.max(start, reached));
    reached = Math.max(reached, end);
  }
  return total;
};
subscribe('http.server.request.start', (message) => {
  const timing: RequestTiming = { startedAt: performance.now(), fetches: [] };
  timingOfResponse.set((message as { response: object }).response, timing);
  requestInContext.enterWith(timing);
});
subscribe('http.server.response.finish', (message) => {
  const timing = timingOfResponse.get((message as { response: object }).response);
  if (timing) served.push({ at: performance.timeOrigin + timing.startedAt, totalMs: performance.now() - timing.startedAt, fetchMs: timeInFlight(timing.fetches) });
});
const fetchStarted = (message: unknown) => {
  const timing = requestInContext.getStore();
  if (timing) fetchStartedAt.set((message as { request: object }).request, [timing, performance.now()]);
};
const fetchEnded = (message: unknown) => {
  const started = fetchStartedAt.get((message as { request: object }).request);
  if (started) started[0].fetches.push([started[1], performance.now()]);
};
subscribe('undici:request:create', fetchStarted);
subscribe('undici:request:trailers', fetchEnded);
subscribe('http.client.request.start', fetchStarted);
subscribe('http.client.response.finish', fetchEnded);

/** Memory now, then after a full collection: what the heap still references is what is retained. */
const memoryNow = () => {
  const { rss, heapUsed, heapTotal, external } = process.memoryUsage();
  return { rss, heapUsed, heapTotal, external };
};

async function memoryReport() {
  const before = memoryNow();
  // The run's own pauses, before the forced collections below, which are the benchmark's doing
  // (a forced full collection of a heap full of garbage is the longest pause a gateway ever sees).
  const runPauses = { ...gc };
  await writeHeapProfile();
  setFlagsFromString('--expose-gc');
  const collect = runInNewContext('gc') as () => void;
  const forcedStartedAt = performance.now();
  collect();
  const forcedMs = performance.now() - forcedStartedAt;
  await new Promise((resolve) => setTimeout(resolve, 100));
  collect();
  return { now: before, afterGc: memoryNow(), gc: runPauses, forcedGcMs: forcedMs };
}

async function bareCallerHeaders() {
  const signer = await createCallerTokenSigner({ privateKeyPem: settings.environment['CALLER_TOKEN_PRIVATE_KEY']! });
  const tokens = createCallerIdentityTokens({ signer, reuseMs: callerTokenReuseMsOf({ OPERATION_TIMEOUT_MS: 30_000 }) });
  // The token alone: a request id of its own on every fetch would keep Hive from merging any, and
  // a subgraph names a request that comes without one itself.
  return async () => ({ [callerTokenHeader]: await tokens.tokenFor(settings.caller) });
}

async function listen(handler: Parameters<typeof createServer>[1]): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer(handler);
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function startBareApollo() {
  const headers = await bareCallerHeaders();
  class CallerDataSource extends RemoteGraphQLDataSource {
    override async willSendRequest({ request }: Parameters<NonNullable<RemoteGraphQLDataSource['willSendRequest']>>[0]) {
      for (const [name, value] of Object.entries(await headers())) request.http?.headers.set(name, value);
    }
  }
  const apollo = new ApolloServer({ gateway: new ApolloGateway({ supergraphSdl: settings.supergraphSdl, buildService: ({ url }) => new CallerDataSource({ url }) }) });
  await apollo.start();
  const app = express();
  app.use('/graphql', express.json(), expressMiddleware(apollo));
  const server = await listen(app);
  return { url: server.url, close: async () => (await apollo.stop(), await server.close()) };
}

async function startHive() {
  const headers = await bareCallerHeaders();
  const { createGatewayRuntime } = await import('@graphql-hive/gateway');
  const runtime = createGatewayRuntime({
    supergraph: settings.supergraphSdl,
    logging: false,
    propagateHeaders: { fromClientToSubgraphs: () => headers() },
    ...(settings.deduplicate ? {} : { transportEntries: { '*.http': { options: { deduplicateInflightRequests: false } } } }),
  } as Parameters<typeof createGatewayRuntime>[0]);
  const server = await listen(runtime as unknown as Parameters<typeof createServer>[1]);
  return { url: server.url, close: async () => (await server.close(), await runtime.dispose()) };
}

type GatewayModules = { createApp: typeof createCurrentApp; loadConfig: typeof loadCurrentConfig };
const { createApp, loadConfig }: GatewayModules = settings.gatewayDist
  ? { ...((await import(`${settings.gatewayDist}/app.js`)) as Pick<GatewayModules, 'createApp'>), ...((await import(`${settings.gatewayDist}/config.js`)) as Pick<GatewayModules, 'loadConfig'>) }
  : { createApp: createCurrentApp, loadConfig: loadCurrentConfig };

const gateway =
  settings.kind === 'gtm'
    ? await createApp(loadConfig(settings.environment), {
        logger: createLogger({ service: 'bench-gateway', level: 'silent' }),
        benchmarkWithoutEdgeSecurity: settings.withoutEdgeSecurity ? { ...settings.caller, requestId: 'bench' } : undefined,
      })
    : settings.kind === 'apollo'
      ? await startBareApollo()
      : await startHive();

// BENCH_BURST_PROFILE_DIR: a V8 CPU profile of this gateway's own bursts only, one file per burst,
// so what a request costs can be read without the start, the seeding and the other gateways' turns.
const burstProfiler = new Session();
async function startBurstProfile() {
  burstProfiler.connect();
  await burstProfiler.post('Profiler.enable');
  await burstProfiler.post('Profiler.start');
}
async function stopBurstProfile(path: string) {
  const { profile } = await burstProfiler.post('Profiler.stop');
  burstProfiler.disconnect();
  await writeFile(path, JSON.stringify(profile));
}

process.on('message', async (message) => {
  if (message === 'burst-profile-start') return (await startBurstProfile(), process.send!('started'));
  if (typeof message === 'string' && message.startsWith('burst-profile-stop:')) return (await stopBurstProfile(message.slice('burst-profile-stop:'.length)), process.send!('written'));
  if (message === 'memory') return process.send!(await memoryReport());
  if (message === 'memory-now') return process.send!({ now: memoryNow() });
  if (message === 'gc-pauses') return process.send!(pauses);
  if (message === 'served') return process.send!(served);
  // The process's CPU time so far, all its threads (the collector's helpers too), in ms.
  if (message === 'cpu') return process.send!((process.cpuUsage().user + process.cpuUsage().system) / 1_000);
  if (message !== 'close') return;
  await gateway.close();
  process.exit(0);
});
process.send!({ url: gateway.url });
