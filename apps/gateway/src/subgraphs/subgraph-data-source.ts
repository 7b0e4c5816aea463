import { STATUS_CODES } from 'node:http';
import type { GraphQLDataSource, GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import type { GatewayGraphQLResponse } from '@apollo/server-gateway-interface';
import { callerDelegationHeader, callerIdentityKey, callerTokenHeader, requestIdHeader } from '@gtm/caller';
import { publicUrlHeader, upstreamUnavailable } from '@gtm/runtime';
import { GraphQLError } from 'graphql';
import { Agent } from 'undici';
import type { GatewayContext } from '../context.js';
import { createSubgraphFetcher, type SubgraphAnswer, type SubgraphFetcher } from './subgraph-fetcher.js';

export interface SubgraphDataSourceOptions {
  name: string;
  url: string;
  /** Shared keep-alive connection pool to the subgraphs. */
  agent: Agent;
  timeoutMs: number;
  /** Send a longer-lived caller token with every mutation (`CALLER_DELEGATION_SUBGRAPHS`). Default: false. */
  delegatesCaller?: boolean;
  /** Merge identical fetches in flight for the same caller identity (`SUBGRAPH_FETCH_MERGING`). Default: false. */
  mergesFetches?: boolean;
}

/**
 * Keep-alive connections to every subgraph: one pool for the process, so a federated request does
 * not pay a TCP handshake per hop.
 */
export function createSubgraphAgent(): Agent {
  return new Agent({ keepAliveTimeout: 30_000, keepAliveMaxTimeout: 60_000, connections: 64, pipelining: 1 });
}

type ProcessOptions = GraphQLDataSourceProcessOptions<GatewayContext>;

/**
 * Sends Apollo's subgraph fetches: the caller's signed context on every one, merged with identical
 * fetches of the same caller in flight when merging is on. A subgraph that cannot be reached (down,
 * timing out, answering garbage) becomes UPSTREAM_UNAVAILABLE for the fields it owns, so the rest
 * of the answer still arrives.
 *
 * It speaks to Apollo as `RemoteGraphQLDataSource` does (the same body, headers, errors and cache
 * hints) without that class's node-fetch `Headers` and `Request`: per fetch they validated every
 * header twice, parsed the URL with the deprecated `url.parse` and copied the body into a buffer
 * that nothing read, which showed in the gateway's CPU per request.
 */
export class SubgraphDataSource implements GraphQLDataSource<GatewayContext> {
  private readonly subgraphName: string;
  private readonly url: string;
  private readonly delegatesCaller: boolean;
  private readonly mergesFetches: boolean;
  private readonly fetchAnswer: SubgraphFetcher;

  constructor(options: SubgraphDataSourceOptions) {
    this.subgraphName = options.name;
    this.url = options.url;
    this.delegatesCaller = options.delegatesCaller ?? false;
    this.mergesFetches = options.mergesFetches ?? false;
    this.fetchAnswer = createSubgraphFetcher({ agent: options.agent, timeoutMs: options.timeoutMs });
  }

  async process(options: ProcessOptions): Promise<GatewayGraphQLResponse> {
    const { request, context } = options;
    if (!request.query) throw new Error('Missing query');
    const headers = await this.headersFor(options);
    // The fields in the order Apollo's data source sends them; undefined ones are left out.
    const body = JSON.stringify({ query: request.query, variables: request.variables, operationName: request.operationName, extensions: request.extensions });
    let answer: SubgraphAnswer | undefined;
    try {
      answer = await this.fetchAnswer({ url: this.url, headers, body, deadline: 'deadline' in context ? context.deadline : undefined, mergeKey: this.mergeKeyOf(options) });
      if (answer.status < 200 || answer.status > 299) throw errorFromAnswer(this.url, answer);
      const parsed = bodyOf(answer);
      if (!isObject(parsed)) throw new Error(`Expected JSON response body, but received: ${String(parsed)}`);
      restrictCachePolicy(options, answer);
      return parsed as GatewayGraphQLResponse;
    } catch (error) {
      throw this.failure(error as Error, answer?.status, context as Partial<GatewayContext>);
    }
  }

  /**
   * What the fetch carries: the caller's token, the request id beside it, the gateway's public URL,
   * and for a mutation to a delegating subgraph the longer-lived token background work runs with.
   * Health checks and schema loading carry no caller; every operation a client sent does.
   */
  async headersFor(options: ProcessOptions): Promise<Record<string, string>> {
    const headers: Record<string, string> = {};
    // Apollo adds its own only to ask a subgraph for a trace.
    for (const [name, value] of options.request.http?.headers ?? []) headers[name.toLowerCase()] = value;
    headers['content-type'] = 'application/json';
    const { context } = options;
    if (!('callerToken' in context) || !context.callerToken) return headers;
    headers[callerTokenHeader] = context.callerToken;
    headers[requestIdHeader] = context.requestId;
    if (context.publicUrl) headers[publicUrlHeader] = context.publicUrl;
    // Only a mutation starts background work; queries never carry the longer-lived token.
    const isMutation = 'incomingRequestContext' in options && options.incomingRequestContext.operation?.operation === 'mutation';
    if (this.delegatesCaller && isMutation && context.delegatedCallerToken) headers[callerDelegationHeader] = await context.delegatedCallerToken();
    return headers;
  }

  /**
   * Who a fetch may be merged with: the same caller identity, reaching the subgraph through the
   * same public URL (file links in the answer are built from it). None for a mutation, which must
   * run once per request, nor for a fetch without a caller.
   */
  private mergeKeyOf(options: ProcessOptions): string | undefined {
    if (!this.mergesFetches || !('caller' in options.context) || !options.context.caller) return undefined;
    if (!('incomingRequestContext' in options) || options.incomingRequestContext.operation?.operation !== 'query') return undefined;
    return `${callerIdentityKey(options.context.caller)}|${options.context.publicUrl ?? ''}`;
  }

  /** A 4xx other than 401 with a GraphQL body is the subgraph answering, passed through as it is; anything else is the subgraph being unavailable. */
  private failure(error: Error, status: number | undefined, context: Partial<GatewayContext>): Error {
    if (status !== undefined && status >= 400 && status < 500 && status !== 401 && error instanceof GraphQLError) return error;
    context.logger?.warn({ subgraph: this.subgraphName, status, err: error }, 'subgraph unavailable');
    // Whether the rest of the answer arrived is only known once every fetch is done: the
    // message is completed by `useUnavailableSubgraphMessages`.
    return upstreamUnavailable(unavailableSubgraphMessage(this.subgraphName, false), { service: this.subgraphName });
  }
}

/** What a client reads when a subgraph could not answer; it says the rest is complete only when there is a rest. */
export function unavailableSubgraphMessage(service: string, otherDataReturned: boolean): string {
  return otherDataReturned
    ? `The ${service} service is unavailable right now, so part of this answer is missing; the rest is complete. Try again shortly.`
    : `The ${service} service is unavailable right now, so this answer has no data. Try again shortly.`;
}

const headerOf = (answer: SubgraphAnswer, name: string): string | undefined => {
  const value = answer.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
};

/** JSON when the answer says it is (GraphQL over HTTP's own media type included), else text. */
function bodyOf(answer: SubgraphAnswer): unknown {
  const contentType = headerOf(answer, 'content-type');
  const text = answer.body.toString('utf8');
  return contentType && (contentType.startsWith('application/json') || contentType.startsWith('application/graphql-response+json')) ? JSON.parse(text) : text;
}

const isObject = (value: unknown): value is object => typeof value === 'object' && value !== null && !Array.isArray(value);

/** An answer that is not a 2xx, as Apollo's data source describes it: status, and the body in `extensions.response`. */
function errorFromAnswer(url: string, answer: SubgraphAnswer): GraphQLError {
  const statusText = STATUS_CODES[answer.status] ?? '';
  const code = answer.status === 401 ? 'UNAUTHENTICATED' : answer.status === 403 ? 'FORBIDDEN' : undefined;
  return new GraphQLError(`${answer.status}: ${statusText}`, {
    extensions: { response: { url, status: answer.status, statusText, body: bodyOf(answer) }, ...(code ? { code } : {}) },
  });
}

/** The subgraph's `Cache-Control` narrows the whole operation's cache policy, as Apollo's data source does. */
function restrictCachePolicy(options: ProcessOptions, answer: SubgraphAnswer): void {
  // Only an operation a client sent has one (health checks and schema loading do not).
  if (!('incomingRequestContext' in options)) return;
  const policy = options.incomingRequestContext.overallCachePolicy;
  if (!policy || !('restrict' in policy)) return;
  const directives = new Map<string, string | true>();
  for (const part of (headerOf(answer, 'cache-control') ?? '').trim().split(/\s*,\s*/)) {
    if (!part) continue;
    const [name, value] = part.split(/\s*=\s*/, 2) as [string, string | undefined];
    directives.set(name, value === undefined ? true : value.replace(/^"|"$/g, ''));
  }
  const maxAge = directives.get('max-age');
  policy.restrict({
    maxAge: typeof maxAge === 'string' && /^[0-9]+$/.test(maxAge) ? Number(maxAge) : 0,
    ...(directives.get('private') === true ? { scope: 'PRIVATE' as const } : {}),
    ...(directives.get('public') === true ? { scope: 'PUBLIC' as const } : {}),
  });
}
