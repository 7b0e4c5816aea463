import { AsyncLocalStorage } from 'node:async_hooks';
import { RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { callerDelegationHeader, callerIdentityKey, callerTokenHeader, requestIdHeader } from '@gtm/caller';
import { publicUrlHeader, upstreamUnavailable } from '@gtm/runtime';
import { GraphQLError } from 'graphql';
import { Agent } from 'undici';
import type { GatewayContext } from '../context.js';
import { createSubgraphFetcher, type SubgraphFetchScope } from './subgraph-fetcher.js';

/** What a subgraph fetch knows of the operation it belongs to: its deadline, and whom it may merge with. */
const fetchScope = new AsyncLocalStorage<SubgraphFetchScope>();

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

/**
 * Forwards the caller's signed context on every subgraph fetch, and turns a subgraph that cannot be
 * reached (down, timing out, answering garbage) into UPSTREAM_UNAVAILABLE for the fields it owns,
 * so the rest of the answer still arrives.
 */
export class SubgraphDataSource extends RemoteGraphQLDataSource<GatewayContext> {
  private readonly subgraphName: string;
  private readonly delegatesCaller: boolean;
  private readonly mergesFetches: boolean;

  constructor(options: SubgraphDataSourceOptions) {
    super({ url: options.url, fetcher: createSubgraphFetcher({ agent: options.agent, timeoutMs: options.timeoutMs, scope: () => fetchScope.getStore() }) });
    this.subgraphName = options.name;
    this.delegatesCaller = options.delegatesCaller ?? false;
    this.mergesFetches = options.mergesFetches ?? false;
  }

  // Apollo's fetcher sees no context: the deadline and the merge scope reach it through async local storage.
  override process(options: GraphQLDataSourceProcessOptions<GatewayContext>) {
    const context = options.context;
    const deadline = 'deadline' in context ? context.deadline : undefined;
    return fetchScope.run({ deadline, mergeKey: this.mergeKeyOf(options) }, () => super.process(options));
  }

  /**
   * Who a fetch may be merged with: the same caller identity, reaching the subgraph through the
   * same public URL (file links in the answer are built from it). None for a mutation, which must
   * run once per request, nor for a fetch without a caller.
   */
  private mergeKeyOf(options: GraphQLDataSourceProcessOptions<GatewayContext>): string | undefined {
    if (!this.mergesFetches || !('caller' in options.context) || !options.context.caller) return undefined;
    if (!('incomingRequestContext' in options) || options.incomingRequestContext.operation?.operation !== 'query') return undefined;
    return `${callerIdentityKey(options.context.caller)}|${options.context.publicUrl ?? ''}`;
  }

  override async willSendRequest(options: GraphQLDataSourceProcessOptions<GatewayContext>): Promise<void> {
    const { request, context } = options;
    // Health checks and schema loading carry no caller; every operation a client sent does.
    if (!('callerToken' in context) || !context.callerToken) return;
    request.http?.headers.set(callerTokenHeader, context.callerToken);
    request.http?.headers.set(requestIdHeader, context.requestId);
    if (context.publicUrl) request.http?.headers.set(publicUrlHeader, context.publicUrl);
    // Only a mutation starts background work; queries never carry the longer-lived token.
    const isMutation = 'incomingRequestContext' in options && options.incomingRequestContext.operation?.operation === 'mutation';
    if (this.delegatesCaller && isMutation && context.delegatedCallerToken) request.http?.headers.set(callerDelegationHeader, await context.delegatedCallerToken());
  }

  override didEncounterError(error: Error, _fetchRequest: unknown, fetchResponse?: { status: number }, context?: GatewayContext): void {
    const status = fetchResponse?.status;
    // A 4xx other than 401 with a GraphQL body is the subgraph answering; pass it through as it is.
    if (status !== undefined && status >= 400 && status < 500 && status !== 401 && error instanceof GraphQLError) throw error;
    context?.logger?.warn({ subgraph: this.subgraphName, status, err: error }, 'subgraph unavailable');
    // Whether the rest of the answer arrived is only known once every fetch is done: the
    // message is completed by `useUnavailableSubgraphMessages`.
    throw upstreamUnavailable(unavailableSubgraphMessage(this.subgraphName, false), { service: this.subgraphName });
  }
}

/** What a client reads when a subgraph could not answer; it says the rest is complete only when there is a rest. */
export function unavailableSubgraphMessage(service: string, otherDataReturned: boolean): string {
  return otherDataReturned
    ? `The ${service} service is unavailable right now, so part of this answer is missing; the rest is complete. Try again shortly.`
    : `The ${service} service is unavailable right now, so this answer has no data. Try again shortly.`;
}
