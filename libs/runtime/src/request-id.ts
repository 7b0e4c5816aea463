import { AsyncLocalStorage } from 'node:async_hooks';
import { requestIdHeader } from '@gtm/caller';

/** The id of the request a subgraph is answering, for the calls it makes to other subgraphs on its behalf. */
const currentRequestId = new AsyncLocalStorage<string>();

/** Runs the rest of a request's handling with its id at hand for `forwardedRequestId`. */
export function runWithRequestId<Result>(requestId: string, handle: () => Result): Result {
  return currentRequestId.run(requestId, handle);
}

/**
 * The header that names the current request on a call to another subgraph: the caller token a
 * subgraph forwards names the caller only, so the request id travels beside it to keep one id
 * across every hop. Empty outside a request (background work carries its own ids).
 */
export function forwardedRequestId(): Record<string, string> {
  const requestId = currentRequestId.getStore();
  return requestId ? { [requestIdHeader]: requestId } : {};
}
