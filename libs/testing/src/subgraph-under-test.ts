import type { CallerContext } from '@gtm/caller';
import type { TestCallerKeys } from './callers.js';
import { createSubgraphClient } from './graphql-client.js';
import { createSubgraphTestSetup } from './subgraph-test-setup.js';

export interface SubgraphUnderTest<App> {
  app: App;
  /** Calls the subgraph over HTTP as a given caller, signed as the gateway would sign it. */
  call: ReturnType<typeof createSubgraphClient>;
  /** The key pair standing in for the gateway's: signs callers, delegated tokens and relay tokens for this subgraph. */
  callerKeys: TestCallerKeys;
  /** A caller token as the gateway signs it, for a request made by hand (an HTTP route beside /graphql). */
  signCaller(caller: CallerContext): Promise<string>;
  /** Every SQL statement the app ran; clear it (`length = 0`) before counting. */
  queries: string[];
  close(): Promise<void>;
  /** `close()`, for `await using subgraph = await startSubgraphUnderTest(…)`. */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Starts one subgraph for a service test on its own fresh database, real Redis and a test key pair.
 * `start` is the app's own composition root, given the environment and the query counter.
 */
export async function startSubgraphUnderTest<App extends { url: string; close(): Promise<void> }>(
  start: (environment: Record<string, string>, onQuery: (sql: string) => void) => Promise<App>,
): Promise<SubgraphUnderTest<App>> {
  const setup = await createSubgraphTestSetup();
  const queries: string[] = [];
  try {
    const app = await start(setup.environment, (sql) => queries.push(sql));
    const close = async () => {
      await app.close();
      await setup.dispose();
    };
    return { app, call: createSubgraphClient(app.url, setup.callerKeys.signer), callerKeys: setup.callerKeys, signCaller: (caller) => setup.callerKeys.signer.sign(caller), queries, close, [Symbol.asyncDispose]: close };
  } catch (error) {
    await setup.dispose();
    throw error;
  }
}
