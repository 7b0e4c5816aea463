import { callerTokenHeader } from '@gtm/caller';
import { forwardedRequestId } from './request-id.js';
import { z } from 'zod';

/** Another service could not answer (down, timed out, answered nonsense): try again later. */
export class UpstreamError extends Error {
  override readonly name = 'UpstreamError';
  readonly isRetryable = true;
  constructor(
    readonly service: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

const answerSchema = z.object({
  data: z.record(z.string(), z.unknown()).nullish(),
  errors: z.array(z.object({ message: z.string(), extensions: z.looseObject({ code: z.string().optional() }).optional() })).optional(),
});

export type UpstreamAnswer = z.infer<typeof answerSchema>;

export interface GraphQLUpstreamOptions {
  /** The service's name, in error messages: `crm-service`. */
  service: string;
  url: string;
  timeoutMs: number;
}

/**
 * Another subgraph's GraphQL API, called with the caller's own signed token (decision 0004): this
 * service can forward a token, never mint one, so it sees exactly what the caller may see.
 */
export class GraphQLUpstream {
  constructor(private readonly options: GraphQLUpstreamOptions) {}

  get service(): string {
    return this.options.service;
  }

  async post(callerToken: string | undefined, query: string, variables: Record<string, unknown>): Promise<UpstreamAnswer> {
    const { service } = this.options;
    if (!callerToken) throw new UpstreamError(service, `no caller token to forward to ${service}`);
    let response: Response;
    try {
      response = await fetch(this.options.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json', [callerTokenHeader]: callerToken, ...forwardedRequestId() },
        body: JSON.stringify({ query, variables }),
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
    } catch (error) {
      throw new UpstreamError(service, `${service} did not answer: ${(error as Error).message}`, { cause: error });
    }
    let json: unknown;
    try {
      json = await response.json();
    } catch {
      throw new UpstreamError(service, `${service} answered ${response.status} without JSON`);
    }
    const parsed = answerSchema.safeParse(json);
    if (!parsed.success) throw new UpstreamError(service, `${service} answered ${response.status} with something other than a GraphQL response`);
    // A GraphQL error travels with 200 or, from Apollo, 400; other statuses mean the call failed.
    if (response.status !== 200 && !(response.status === 400 && parsed.data.errors)) {
      throw new UpstreamError(service, `${service} answered ${response.status}${parsed.data.errors?.[0] ? `: ${parsed.data.errors[0].message}` : ''}`);
    }
    return parsed.data;
  }
}

/** Whether an answer's errors say the service's schema has no such field (an older deployment). */
export function isUnknownField(answer: UpstreamAnswer): boolean {
  return Boolean(answer.errors?.some((error) => error.extensions?.code === 'GRAPHQL_VALIDATION_FAILED' && /Cannot query field/.test(error.message)));
}
