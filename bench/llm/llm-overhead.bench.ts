// What the LLM layer adds to a call, measured against the raw SDKs on the same local servers:
//   1. per-call latency of generateObject vs a raw `openai` chat.completions call (same body),
//      without Redis and with Redis on the cache-miss path (lookup, lock, store and unlock), and
//      what a cache hit costs instead;
//   2. failover once a breaker is open (first provider skipped, second answers) vs a direct call.
// Variants run interleaved round by round in random order, so machine noise hits all of them
// alike; results are medians and medians of per-round differences.
//   npm run bench:llm                       (builds the libraries, then runs this)
//   node bench/llm/llm-overhead.bench.ts [rounds]   (needs `nx run-many -t build -p llm,testing`)
// Erasable TypeScript only: Node runs this file by stripping types.
import { cpus, loadavg } from 'node:os';
import { randomBytes } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { Redis } from 'ioredis';
import { z } from 'zod';
import { createAnthropicProvider, createLlm, createOpenAiProvider, prepareOutputSchema, type Llm, type LlmTask } from '@gtm/llm';

const rounds = Number(process.argv[2] ?? 2_000);
const warmup = Math.min(300, Math.ceil(rounds / 5));

const schema = z.object({ headline: z.string().min(1), proofPoints: z.array(z.string()) });
type Positioning = z.infer<typeof schema>;
const task: LlmTask<Positioning, null> = { name: 'positioning', version: '1', schema, offline: () => ({ headline: 'offline', proofPoints: [] }) };
const system = 'You write B2B positioning grounded in the company website.';
const { schema: outputSchema } = prepareOutputSchema(task.name, schema);

const worker = new Worker(new URL('./fake-servers.worker.ts', import.meta.url));
const servers = await new Promise<{ openAiBaseURL: string; anthropicBaseURL: string; failingBaseURL: string }>((resolve) => worker.once('message', resolve));

const redisUrl = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const redis = new Redis(redisUrl, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1 });
const redisAvailable = await redis.connect().then(
  () => true,
  () => false,
);
const keyPrefix = `bench:llm:${randomBytes(4).toString('hex')}:`;

const rawOpenAi = new OpenAI({ apiKey: 'sk-bench', baseURL: servers.openAiBaseURL, maxRetries: 0 });
const rawAnthropic = new Anthropic({ apiKey: 'sk-ant-bench', authToken: null, baseURL: servers.anthropicBaseURL, maxRetries: 0 });
const openAiProvider = () => createOpenAiProvider({ apiKey: 'sk-bench', baseURL: servers.openAiBaseURL, model: 'gpt-5-mini' });
const anthropicProvider = () => createAnthropicProvider({ apiKey: 'sk-ant-bench', baseURL: servers.anthropicBaseURL, model: 'claude-haiku-4-5' });

const layer = createLlm({ providers: [openAiProvider()] });
const layerWithRedis = redisAvailable ? createLlm({ providers: [openAiProvider()], redis, cacheKeyPrefix: keyPrefix, cacheTtlSeconds: 60 }) : undefined;
const anthropicOnly = createLlm({ providers: [anthropicProvider()] });
const withFailover = createLlm({
  providers: [createOpenAiProvider({ apiKey: 'sk-bench', baseURL: servers.failingBaseURL, model: 'gpt-5-mini' }), anthropicProvider()],
  maxRetries: 0,
  breakerFailures: 3,
  breakerHalfOpenAfterMs: 3_600_000,
});

// Open the first provider's circuit: three failed calls (each answered by the second provider).
for (let index = 0; index < 3; index += 1) await withFailover.generateObject({ task, context: null, system, prompt: `open the breaker ${index}` });
if (withFailover.providerStates()[0]?.circuit !== 'open') throw new Error('the breaker did not open');

const prompt = (round: number) => `Website text of company ${round}: Acme helps finance teams close their books in a day.`;

type Variant = { name: string; run: (round: number) => Promise<unknown> };
const variants: Variant[] = [
  {
    name: 'raw openai SDK',
    run: async (round) => {
      const completion = await rawOpenAi.chat.completions.create({
        model: 'gpt-5-mini',
        messages: [
          { role: 'system', content: system },
          { role: 'user', content: prompt(round) },
        ],
        response_format: { type: 'json_schema', json_schema: { name: outputSchema.name, schema: outputSchema.jsonSchema, strict: outputSchema.strict } },
      });
      return JSON.parse(completion.choices[0]?.message.content ?? 'null');
    },
  },
  { name: 'layer, openai (no Redis)', run: (round) => layer.generateObject({ task, context: null, system, prompt: prompt(round), bypassCache: true }) },
  ...(layerWithRedis
    ? [
        { name: 'layer, openai (Redis, cache miss)', run: (round: number) => (layerWithRedis as Llm).generateObject({ task, context: null, system, prompt: prompt(round) }) },
        // The same prompt every round: answered from Redis after the first warm-up round.
        { name: 'layer, cache hit (Redis)', run: () => (layerWithRedis as Llm).generateObject({ task, context: null, system, prompt: prompt(-1) }) },
      ]
    : []),
  {
    name: 'raw anthropic SDK',
    run: (round) =>
      rawAnthropic.messages.create({
        model: 'claude-haiku-4-5',
        max_tokens: 4096,
        system,
        messages: [{ role: 'user', content: prompt(round) }],
        tools: [{ name: outputSchema.name, input_schema: outputSchema.jsonSchema as { type: 'object' } }],
        tool_choice: { type: 'tool', name: outputSchema.name },
      }),
  },
  { name: 'layer, anthropic only', run: (round) => anthropicOnly.generateObject({ task, context: null, system, prompt: prompt(round), bypassCache: true }) },
  { name: 'layer, openai circuit open → anthropic', run: (round) => withFailover.generateObject({ task, context: null, system, prompt: prompt(round), bypassCache: true }) },
];

const samples = new Map<string, number[]>(variants.map((variant) => [variant.name, []]));
const shuffled = <Item>(items: Item[]) => {
  const copy = [...items];
  for (let index = copy.length - 1; index > 0; index -= 1) {
    const other = Math.floor(Math.random() * (index + 1));
    [copy[index], copy[other]] = [copy[other] as Item, copy[index] as Item];
  }
  return copy;
};

const load = loadavg()[0]?.toFixed(2);
for (let round = -warmup; round < rounds; round += 1) {
  for (const variant of shuffled(variants)) {
    const started = performance.now();
    await variant.run(round + 1_000_000 * (round < 0 ? 1 : 0));
    const elapsed = performance.now() - started;
    if (round >= 0) samples.get(variant.name)?.push(elapsed);
  }
}

const quantile = (values: number[], q: number) => {
  const sorted = values.toSorted((left, right) => left - right);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
};
const median = (values: number[]) => quantile(values, 0.5);
const paired = (name: string, baseline: string) => {
  const a = samples.get(name) ?? [];
  const b = samples.get(baseline) ?? [];
  return a.map((value, index) => value - (b[index] ?? Number.NaN));
};
const ms = (value: number) => value.toFixed(3);

const lines: string[] = [];
lines.push(`rounds: ${rounds} (after ${warmup} warm-up rounds), variants interleaved in random order each round`);
lines.push(`machine: ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}, load average at start ${load}`);
lines.push('');
lines.push('| variant | median ms | p90 ms |');
lines.push('|---|---:|---:|');
for (const variant of variants) {
  const values = samples.get(variant.name) ?? [];
  lines.push(`| ${variant.name} | ${ms(median(values))} | ${ms(quantile(values, 0.9))} |`);
}
lines.push('');
lines.push('| comparison | median of per-round difference ms | ratio of medians | goal |');
lines.push('|---|---:|---:|---|');
const compare = (name: string, baseline: string, goal: (difference: number, baselineMedian: number) => string) => {
  if (!samples.has(name)) return;
  const difference = median(paired(name, baseline));
  const baselineMedian = median(samples.get(baseline) ?? []);
  const ratio = median(samples.get(name) ?? []) / baselineMedian;
  lines.push(`| ${name} − ${baseline} | ${ms(difference)} | ${ratio.toFixed(3)} | ${goal(difference, baselineMedian)} |`);
};
const overheadGoal = (difference: number, baselineMedian: number) => {
  const allowed = Math.max(2, 0.05 * baselineMedian);
  return `< ${ms(allowed)} ms: ${difference < allowed ? 'met' : 'NOT met'}`;
};
compare('layer, openai (no Redis)', 'raw openai SDK', overheadGoal);
compare('layer, openai (Redis, cache miss)', 'raw openai SDK', overheadGoal);
compare('layer, anthropic only', 'raw anthropic SDK', overheadGoal);
compare('layer, openai circuit open → anthropic', 'layer, anthropic only', (difference) => `failover < 50 ms: ${difference < 50 ? 'met' : 'NOT met'}`);
compare('layer, openai circuit open → anthropic', 'raw anthropic SDK', (difference) => `failover < 50 ms: ${difference < 50 ? 'met' : 'NOT met'}`);
const failoverTotal = median(samples.get('layer, openai circuit open → anthropic') ?? []);
lines.push('');
lines.push(`failover answer (open circuit skipped, second provider answers): median ${ms(failoverTotal)} ms end to end`);
if (!redisAvailable) lines.push(`Redis at ${redisUrl} was not reachable: the Redis variant was skipped.`);
process.stdout.write(`${lines.join('\n')}\n`);

if (redisAvailable) {
  const keys = await redis.keys(`${keyPrefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
}
// A worker's postMessage takes a transfer list, not a target origin.
worker.postMessage('close', []);
await new Promise((resolve) => worker.once('exit', resolve));
