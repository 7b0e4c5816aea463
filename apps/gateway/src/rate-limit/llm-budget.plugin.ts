import type { ApolloServerPlugin } from '@apollo/server';
import type { CallerContext } from '@gtm/caller';
import { rateLimited, upstreamUnavailable, type Logger } from '@gtm/runtime';
import { Kind, parse, visit, type OperationDefinitionNode } from 'graphql';
import type { RateLimiter } from './rate-limiter.js';

/**
 * The tag a subgraph puts on a root field that calls a model (`@tag(name: "llm")`, type-graphql:
 * `@Directive('@tag(name: "llm")')`). The gateway reads it from the supergraph, so a new
 * LLM-backed operation is budgeted by declaring it, with no list to keep in step here.
 */
export const llmBackedTag = 'llm';

/** `Mutation.generateAsset`-style coordinates of the root fields tagged as LLM-backed. */
export function llmBackedFieldsOf(supergraphSdl: string): Set<string> {
  const fields = new Set<string>();
  const rootTypes = new Set(['Query', 'Mutation', 'Subscription']);
  visit(parse(supergraphSdl), {
    ObjectTypeDefinition(type) {
      if (!rootTypes.has(type.name.value)) return;
      for (const field of type.fields ?? []) {
        const tagged = field.directives?.some(
          (directive) =>
            directive.name.value === 'tag' &&
            directive.arguments?.some((argument) => argument.name.value === 'name' && argument.value.kind === Kind.STRING && argument.value.value === llmBackedTag),
        );
        if (tagged) fields.add(`${type.name.value}.${field.name.value}`);
      }
    },
  });
  return fields;
}

const rootTypeOf: Record<OperationDefinitionNode['operation'], string> = { query: 'Query', mutation: 'Mutation', subscription: 'Subscription' };

/** How many LLM-backed root fields an operation selects (aliases count: each one runs). */
function llmBackedSelections(operation: OperationDefinitionNode, llmBackedFields: Set<string>): number {
  const rootType = rootTypeOf[operation.operation];
  return operation.selectionSet.selections.filter((selection) => selection.kind === Kind.FIELD && llmBackedFields.has(`${rootType}.${selection.name.value}`)).length;
}

export interface LlmBudgetOptions<Context> {
  limiter: RateLimiter;
  llmBackedFields: Set<string>;
  callerOf: (context: Context) => CallerContext;
  logger: Logger;
  /**
   * Resolves whether the request is within its request rate limit, which may still be deciding
   * while the operation is resolved. A refused request is not charged. Default: always within.
   */
  admittedOf?: (context: Context) => Promise<boolean>;
}

/**
 * The tenant's daily budget of LLM-backed operations, on top of the request rate limits: a
 * request is cheap, a model call is not. Charged once per LLM-backed root field, before anything
 * runs, so a refused operation costs nothing. Unlike the request limits it fails closed: when
 * Redis cannot say how much budget is left, the model is not called (money, not capacity).
 */
export function useLlmBudget<Context extends object>(options: LlmBudgetOptions<Context>): ApolloServerPlugin<Context> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation, contextValue }) {
          if (!operation || options.llmBackedFields.size === 0) return;
          const cost = llmBackedSelections(operation, options.llmBackedFields);
          if (cost === 0) return;
          // Both hooks run at once; the rate-limit gate refuses this request before it runs.
          if (options.admittedOf && !(await options.admittedOf(contextValue))) return;
          const caller = options.callerOf(contextValue);
          let decision;
          try {
            decision = await options.limiter.consumeLlmBudget(caller, cost);
          } catch (error) {
            options.logger.error({ err: error }, 'LLM budget unknown (Redis did not answer): refusing the LLM-backed operation');
            throw upstreamUnavailable('The LLM budget cannot be checked right now, so this operation was not started. Try again shortly.', { http: { status: 503 } });
          }
          if (decision.allowed) return;
          throw rateLimited(
            `Daily LLM budget exceeded: the ${caller.tier} tier allows ${decision.limit.toLocaleString('en-US')} LLM-backed operations per day for your tenant, ` +
              `and this operation needs ${cost} of the ${decision.remaining} left. The budget resets at 00:00 UTC, in ${Math.ceil(decision.resetSeconds / 60)} minutes.`,
            { limit: decision.limit, remaining: decision.remaining, window: 'day', budget: 'llm', retryAfterSeconds: decision.resetSeconds, http: { status: 429 } },
          );
        },
      };
    },
  };
}
