import type { CallerContext } from '@gtm/caller';
import type { Logger } from '@gtm/runtime';

/** One gateway request: who is calling, the signed token forwarded to subgraphs, and a logger. */
export interface GatewayContext {
  caller: CallerContext;
  callerToken: string;
  requestId: string;
  logger: Logger;
}
