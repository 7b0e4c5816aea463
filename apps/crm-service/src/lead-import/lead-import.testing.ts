import { readFile } from 'node:fs/promises';
import { callerTokenHeader, type CallerContext } from '@gtm/caller';
import type { SubgraphApp } from '@gtm/runtime';

/** What these helpers need of a subgraph under test (libs/testing's startSubgraphUnderTest gives it). */
export interface ImportTestTarget {
  app: SubgraphApp;
  call(caller: CallerContext, query: string, variables?: Record<string, unknown>): Promise<{ data?: Record<string, any> | null; errors?: readonly unknown[] }>;
  signCaller(caller: CallerContext): Promise<string>;
}

/** What the import tests share: uploading a file as the gateway would relay it, and waiting for the import. */

export const importFields = `id status fileName uploadUrl total imported merged rejected leadsUpdated message columnMapping { column field confidence } errors(first: 1000) { row column message } list { id name leadCount }`;

/** A fixture of the repository's fixtures/leads. */
export function leadFixture(name: string): Promise<Buffer> {
  return readFile(new URL(`../../../../fixtures/leads/${name}`, import.meta.url));
}

/** PUTs a file to an upload link straight at the CRM service, signed as the gateway signs its relay. */
export async function uploadToService(subgraph: ImportTestTarget, who: CallerContext, uploadUrl: string, body: Buffer | string, contentType = 'text/csv'): Promise<Response> {
  const ticket = uploadUrl.split('/').at(-1)!;
  const origin = new URL(subgraph.app.url).origin;
  return fetch(`${origin}/files/${ticket}`, { method: 'PUT', headers: { [callerTokenHeader]: await subgraph.signCaller(who), 'content-type': contentType }, body: typeof body === 'string' ? body : new Uint8Array(body) });
}

/** Polls an import until it has ended. */
export async function waitForImport(subgraph: ImportTestTarget, who: CallerContext, id: string): Promise<Record<string, any>> {
  for (let attempt = 0; attempt < 1_200; attempt += 1) {
    const result = await subgraph.call(who, `query ($id: ID!) { leadImport(id: $id) { ${importFields} } }`, { id });
    if (result.errors) throw new Error(`leadImport failed: ${JSON.stringify(result.errors)}`);
    const found = result.data!['leadImport'];
    if (['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(found.status)) return found;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`import ${id} did not end`);
}

/** Starts an import, uploads the file and waits for the import to end. */
export async function importFile(subgraph: ImportTestTarget, who: CallerContext, body: Buffer | string, input: Record<string, unknown> = {}): Promise<Record<string, any>> {
  const started = await subgraph.call(who, `mutation ($input: ImportLeadsInput!) { importLeads(input: $input) { id uploadUrl status } }`, { input: { fileName: 'leads.csv', ...input } });
  if (started.errors) throw new Error(`importLeads failed: ${JSON.stringify(started.errors)}`);
  const response = await uploadToService(subgraph, who, started.data!['importLeads'].uploadUrl, body);
  if (response.status !== 200) throw new Error(`upload answered ${response.status}: ${await response.text()}`);
  return waitForImport(subgraph, who, started.data!['importLeads'].id);
}
