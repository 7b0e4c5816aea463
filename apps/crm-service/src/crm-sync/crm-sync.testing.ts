import type { CallerContext } from '@gtm/caller';
import type { SubgraphApp } from '@gtm/runtime';
import { createApp } from '../app.js';
import { loadConfig } from '../config.js';

/** What the provider sync tests share: the CRM subgraph as they start it, and the runs they follow. */

const crmTestPublicUrl = 'https://gtm.example.com';

/**
 * The CRM app as the sync tests start it (with libs/testing's startSubgraphUnderTest), allowed to
 * reach provider fakes on loopback and retrying fast; leads are pushed only by the runs a test
 * starts, unless `settings` turn pushing on lead events back on.
 */
export function createCrmAppForSyncTests(environment: Record<string, string>, onQuery: (sql: string) => void, settings: Record<string, string> = {}): Promise<SubgraphApp> {
  return createApp(
    loadConfig({ ...environment, PUBLIC_URL: crmTestPublicUrl, CRM_FETCH_ALLOWLIST: '127.0.0.1', CRM_SYNC_OVERLAP_SECONDS: '0', CRM_PROVIDER_RETRY_BASE_MS: '5', CRM_PUSH_ON_LEAD_CHANGE: 'false', ...settings }),
    { onQuery },
  );
}

/** What these helpers need of a subgraph under test: GraphQL calls signed as a caller. */
export interface SignedSubgraphCalls {
  call(caller: CallerContext, query: string, variables?: Record<string, unknown>): Promise<{ data?: Record<string, any> | null; errors?: readonly unknown[] }>;
}

export interface SyncTestTarget {
  subgraph: SignedSubgraphCalls;
  connectionId: string;
  /** The CrmSyncRun fields a test reads. */
  runFields: string;
}

/** Polls the connection's runs until `runId` has finished (SUCCEEDED or FAILED) and returns it. */
export async function waitForSyncRun(target: SyncTestTarget, who: CallerContext, runId: string): Promise<Record<string, any>> {
  for (let attempt = 0; attempt < 1_200; attempt += 1) {
    const result = await target.subgraph.call(who, `query ($id: ID!) { crmConnection(id: $id) { syncRuns(first: 100) { ${target.runFields} } } }`, { id: target.connectionId });
    const run = (result.data!['crmConnection'].syncRuns as Array<Record<string, any>>).find((candidate) => candidate.id === runId);
    if (run && ['SUCCEEDED', 'FAILED'].includes(run['status'])) return run;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`run ${runId} did not finish`);
}

/** Starts a sync run of the connection and waits for it to finish. */
export async function runSync(target: SyncTestTarget, who: CallerContext, direction = 'BOTH'): Promise<Record<string, any>> {
  const started = await target.subgraph.call(who, `mutation ($id: ID!, $direction: SyncDirection) { syncCrm(connectionId: $id, direction: $direction) { id } }`, { id: target.connectionId, direction });
  if (started.errors) throw new Error(`syncCrm failed: ${JSON.stringify(started.errors)}`);
  return waitForSyncRun(target, who, started.data!['syncCrm'].id);
}

/** The caller's lead with this email, with its company and CRM links, or null. */
export async function leadByEmail(subgraph: SignedSubgraphCalls, who: CallerContext, email: string): Promise<any> {
  const result = await subgraph.call(who, `query ($search: String) { leads(first: 5, filter: { search: $search }) { edges { node { id email firstName lastName title updatedAt company { name domain } crmRecords { provider externalId url } } } } }`, { search: email });
  return (result.data!['leads'].edges as Array<{ node: any }>).map((edge) => edge.node).find((node) => node.email === email) ?? null;
}
