import { AsyncLocalStorage } from 'node:async_hooks';
import { RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { callerDelegationHeader, callerTokenHeader } from '@gtm/caller';
import { publicUrlHeader, upstreamUnavailable } from '@gtm/runtime';
import { GraphQLError } from 'graphql';
import { Agent } from 'undici';
import type { GatewayContext } from '../context.js';
import { createSubgraphFetcher } from './subgraph-fetcher.js';

/** The deadline of the operation a subgraph fetch belongs to. */
const operationDeadline = new AsyncLocalStorage<number | undefined>();

export interface SubgraphDataSourceOptions {
  name: string;
  url: string;
  /** Shared keep-alive connection pool to the subgraphs. */
  agent: Agent;
  timeoutMs: number;
  /** Send a longer-lived caller token with every mutation (`CALLER_DELEGATION_SUBGRAPHS`). Default: false. */
  delegatesCaller?: boolean;
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

  constructor(options: SubgraphDataSourceOptions) {
    super({ url: options.url, fetcher: createSubgraphFetcher({ agent: options.agent, timeoutMs: options.timeoutMs, deadline: () => operationDeadline.getStore() }) });
    this.subgraphName = options.name;
    this.delegatesCaller = options.delegatesCaller ?? false;
  }

  // Apollo's fetcher sees no context: the deadline reaches it through async local storage.
  override process(options: GraphQLDataSourceProcessOptions<GatewayContext>) {
    const deadline = 'deadline' in options.context ? options.context.deadline : undefined;
    return operationDeadline.run(deadline, () => super.process(options));
  }

  override async willSendRequest(options: GraphQLDataSourceProcessOptions<GatewayContext>): Promise<void> {
    const { request, context } = options;
    // Health checks and schema loading carry no caller; every operation a client sent does.
    if (!('callerToken' in context) || !context.callerToken) return;
    request.http?.headers.set(callerTokenHeader, context.callerToken);
    request.http?.headers.set('x-request-id', context.requestId);
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
