// How one provider is asked for a structured object (validated, repaired, re-asked once) or for
// text, and how each kind of answer is keyed in the cache.
import type { Mode, ProviderSlot, TaskLabel, Tally, UpstreamResult } from './llm.answer.js';
import { cacheHash } from './llm.cache.js';
import { LlmInvalidOutputError } from './llm.errors.js';
import type { LlmLogger } from './llm.logger.js';
import type { LlmMetering } from './llm.metering.js';
import type { LlmMetrics } from './llm.metrics.js';
import type { GenerateObjectRequest, GenerateTextRequest, LlmMessage, LlmProvider, LlmProviderCall } from './llm.types.js';
import type { PreparedOutputSchema } from './output-schema.js';
import type { ProviderPolicy } from './provider-policy.js';
import { parseStructuredOutput } from './structured-output.js';

/** What a mode needs of the layer around it. */
export interface ModeDependencies {
  /** Prefix of the cache keys. */
  keyPrefix: string;
  upstream(slot: ProviderSlot & { policy: ProviderPolicy }, call: LlmProviderCall, tally: Tally, task: TaskLabel, signal: AbortSignal): Promise<UpstreamResult>;
  metering: LlmMetering;
  metrics: LlmMetrics;
  logger: LlmLogger;
}

/** The follow-up turn of a corrective re-ask, in the shape the protocol expects after the model's answer. */
function correctionMessage(previous: LlmMessage, issues: string[]): LlmMessage {
  const content = `Your answer does not match the required JSON schema:\n${issues
    .slice(0, 20)
    .map((issue) => `- ${issue}`)
    .join('\n')}\nAnswer again with the complete corrected object, matching the schema exactly.`;
  if (previous.role === 'assistant' && previous.toolCall) return { role: 'tool-result', toolCallId: previous.toolCall.id, content, isError: true };
  return { role: 'user', content };
}

/** A local provider's answer: no policy, no cost. */
async function askLocally(provider: LlmProvider, call: LlmProviderCall, task: TaskLabel, metrics: LlmMetrics) {
  const started = performance.now();
  const response = await provider.generate(call);
  return { response, record: (outcome: 'ok' | 'invalid_output') => metrics.upstreamCall({ task: task.name, provider: provider.name, model: provider.model, outcome }, performance.now() - started, response.usage, 0) };
}

/** An object that matches the task's schema: repaired when it nearly does, else asked for once more with what was wrong. */
export function objectMode<Output, Context>(request: GenerateObjectRequest<Output, Context>, output: PreparedOutputSchema, dependencies: ModeDependencies): Mode<Output> {
  const { task, prompt } = request;
  const { metering, logger } = dependencies;
  const system = request.system ?? task.system;
  const cacheParts = (provider: string, model: string) => [task.name, task.version, provider, model, system ?? '', prompt, output.fingerprint];
  const taskLabel = { name: task.name, version: task.version };

  return {
    task: taskLabel,
    fingerprint: cacheHash(['object', ...cacheParts('*', '*')]),
    cacheKey: (provider) => `${dependencies.keyPrefix}object:${cacheHash(cacheParts(provider.name, provider.model))}`,
    decode(cached) {
      try {
        const parsed = task.schema.safeParse(JSON.parse(cached));
        return parsed.success ? parsed.data : undefined;
      } catch {
        return undefined;
      }
    },
    async attempt(slot, tally, signal) {
      const { provider } = slot;
      const call: LlmProviderCall = {
        mode: 'object',
        system,
        messages: [{ role: 'user', content: prompt }],
        schema: output.schema,
        temperature: request.temperature,
        maxOutputTokens: request.maxOutputTokens,
        signal,
        task,
        context: request.context,
      };
      const details = { provider: provider.name, model: provider.model };
      if (!slot.policy) {
        const { response, record } = await askLocally(provider, call, taskLabel, dependencies.metrics);
        const parsed = parseStructuredOutput(response, task.schema, { wrapped: false });
        record(parsed.success ? 'ok' : 'invalid_output');
        if (!parsed.success) throw new LlmInvalidOutputError(`the offline answer does not match the schema: ${parsed.issues.slice(0, 5).join('; ')}`, parsed.issues, details);
        return { value: parsed.object, provider: provider.name, model: response.model, firstAttemptValid: true, repaired: false, confidence: provider.confidence, local: true, cached: false };
      }
      const withPolicy = { ...slot, policy: slot.policy };
      const answerOf = (result: UpstreamResult, parsed: { object: Output; candidate: unknown; repaired: boolean }, firstAttemptValid: boolean) => ({
        value: parsed.object,
        provider: provider.name,
        model: result.response.model || provider.model,
        cacheable: JSON.stringify(parsed.candidate),
        firstAttemptValid,
        repaired: parsed.repaired,
        confidence: provider.confidence,
        local: false,
        cached: false,
      });

      const first = await dependencies.upstream(withPolicy, call, tally, taskLabel, signal);
      const firstParsed = parseStructuredOutput(first.response, task.schema, { wrapped: output.wrapped });
      metering.answered(provider, taskLabel, first, firstParsed.success ? 'ok' : 'invalid_output');
      if (firstParsed.success) return answerOf(first, firstParsed, !firstParsed.repaired);

      logger.debug({ ...details, task: task.name, issues: firstParsed.issues.slice(0, 5) }, 'LLM answer did not match the schema; asking again with the errors');
      const corrective: LlmProviderCall = { ...call, messages: [...call.messages, first.response.assistantMessage, correctionMessage(first.response.assistantMessage, firstParsed.issues)] };
      const second = await dependencies.upstream(withPolicy, corrective, tally, taskLabel, signal);
      const secondParsed = parseStructuredOutput(second.response, task.schema, { wrapped: output.wrapped });
      metering.answered(provider, taskLabel, second, secondParsed.success ? 'ok' : 'invalid_output');
      if (!secondParsed.success) {
        throw new LlmInvalidOutputError(`the answer did not match the schema, even after a corrective re-ask: ${secondParsed.issues.slice(0, 5).join('; ')}`, secondParsed.issues, details);
      }
      return answerOf(second, secondParsed, false);
    },
  };
}

/** Free text; an empty answer is invalid. */
export function textMode<Context>(request: GenerateTextRequest<Context>, dependencies: ModeDependencies): Mode<string> {
  const { task, prompt } = request;
  const system = request.system ?? task.system;
  const cacheParts = (provider: string, model: string) => [task.name, task.version, provider, model, system ?? '', prompt, 'text'];
  const taskLabel = { name: task.name, version: task.version };

  return {
    task: taskLabel,
    fingerprint: cacheHash(['text', ...cacheParts('*', '*')]),
    cacheKey: (provider) => `${dependencies.keyPrefix}text:${cacheHash(cacheParts(provider.name, provider.model))}`,
    decode: (cached) => cached,
    async attempt(slot, tally, signal) {
      const { provider } = slot;
      const call: LlmProviderCall = {
        mode: 'text',
        system,
        messages: [{ role: 'user', content: prompt }],
        temperature: request.temperature,
        maxOutputTokens: request.maxOutputTokens,
        signal,
        task,
        context: request.context,
      };
      if (!slot.policy) {
        const { response, record } = await askLocally(provider, call, taskLabel, dependencies.metrics);
        record('ok');
        return { value: response.text, provider: provider.name, model: response.model, firstAttemptValid: true, repaired: false, confidence: provider.confidence, local: true, cached: false };
      }
      const result = await dependencies.upstream({ ...slot, policy: slot.policy }, call, tally, taskLabel, signal);
      const text = result.response.text;
      const empty = text.trim() === '';
      dependencies.metering.answered(provider, taskLabel, result, empty ? 'invalid_output' : 'ok');
      if (empty) throw new LlmInvalidOutputError('the model answered with empty text', ['(root): empty answer'], { provider: provider.name, model: provider.model });
      return { value: text, provider: provider.name, model: result.response.model || provider.model, cacheable: text, firstAttemptValid: true, repaired: false, confidence: provider.confidence, local: false, cached: false };
    },
  };
}
