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
   * The gateway's public origin as the client reached it (`https://api.example.com`), from the
   * `x-gtm-public-url` header the gateway sets: where a service points the upload and download URLs
   * it issues. Absent outside a request.
   */
  publicUrl?: string;
  /**
   * The longer-lived token of the same caller the gateway sends with a mutation to a subgraph that
   * starts background work (`x-gtm-caller-delegation`); unverified here: a service that keeps it
   * verifies it first. Never returned to a client, never logged.
   */
  delegatedCallerToken?: string;
}

/** The header the gateway sends its public origin in (see SubgraphContext.publicUrl). */
export const publicUrlHeader = 'x-gtm-public-url';
