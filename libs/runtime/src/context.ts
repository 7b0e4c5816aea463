import type { CallerContext } from '@gtm/caller';
import type { EntityManager } from './database.js';
import type { Logger } from './logger.js';

/**
 * What every resolver receives for one request: an EntityManager forked for this request and scoped
 * to the caller's tenant, the request's DataLoaders, the caller and a logger that carries the
 * request id. Nothing here outlives the request.
 */
export interface SubgraphContext<Loaders = unknown> {
  em: EntityManager;
  caller: CallerContext;
  loaders: Loaders;
  logger: Logger;
  /**
   * The signed caller token this request arrived with (`x-gtm-caller`), for a call this service
   * makes to another subgraph's API on the caller's behalf: a subgraph can forward it, never mint
   * one. Never returned to a client. Absent in contexts built outside a request (tests, jobs).
   */
  callerToken?: string;
  /**
   * The longer-lived token of the same caller the gateway sends with a mutation to a subgraph that
   * starts background work (`x-gtm-caller-delegation`); unverified here: a service that keeps it
   * verifies it first. Never returned to a client, never logged.
   */
  delegatedCallerToken?: string;
}
