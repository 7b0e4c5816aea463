import { LlmNotConfiguredError } from '../llm.errors.js';
import type { LlmProvider, LlmProviderResponse } from '../llm.types.js';

export interface OfflineProviderSettings {
  /** Reported with every offline answer so callers never present it as AI. Default: 0.3. */
  confidence?: number;
}

/**
 * Answers without a model: the task's own `offline(context)`, deterministic and extractive. It lets
 * the system run with no API key and is the last resort when every model failed. Its answers are
 * marked provider `offline` with low confidence, cost nothing and are never cached.
 */
export function createOfflineProvider(settings: OfflineProviderSettings = {}): LlmProvider {
  const details = { provider: 'offline', model: 'offline' };
  return {
    name: 'offline',
    model: 'offline',
    local: true,
    confidence: settings.confidence ?? 0.3,
    async generate(call): Promise<LlmProviderResponse> {
      const usage = { inputTokens: 0, outputTokens: 0 };
      if (call.mode === 'text') {
        if (!call.task.offlineText) {
          throw new LlmNotConfiguredError(`no language model is configured for free text, and task "${call.task.name}" has no offlineText`, details);
        }
        const text = call.task.offlineText(call.context);
        return { text, usage, model: 'offline', assistantMessage: { role: 'assistant', content: text } };
      }
      if (!call.task.offline) throw new LlmNotConfiguredError(`task "${call.task.name}" has no offline answer`, details);
      const object = call.task.offline(call.context);
      const text = JSON.stringify(object);
      return { text, object, usage, model: 'offline', assistantMessage: { role: 'assistant', content: text } };
    },
  };
}
