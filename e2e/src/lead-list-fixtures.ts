// A stand-in for crm-service's LeadList entity, for enrichment jobs over a lead list: a GraphQL
// endpoint over HTTP that answers `_entities(representations: [{ __typename: "LeadList", id }])`
// with the list's leads a page at a time, as crm-service's subgraph does, and null for a list of
// another tenant (read from the caller token the request carries, verified as a subgraph does).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { callerTokenHeader, type CallerTokenVerifier } from '@gtm/caller';

export interface FakeLead {
  id: string;
  email: string | null;
  firstName: string | null;
  lastName: string | null;
  title: string | null;
  phone: string | null;
  company: { name: string | null; domain: string | null; websiteUrl: string | null } | null;
}

export interface FakeLeadLists {
  url: string;
  add(id: string, tenantId: string, leads: FakeLead[]): void;
  /** Requests answered, for asserting the pages asked for. */
  requests: Array<{ tenantId: string; first: number; after: string | null }>;
  close(): Promise<void>;
}

export async function startFakeLeadLists(verifier: () => CallerTokenVerifier): Promise<FakeLeadLists> {
  const lists = new Map<string, { tenantId: string; leads: FakeLead[] }>();
  const requests: FakeLeadLists['requests'] = [];
  const server: Server = createServer(async (request, response) => {
    const answer = (status: number, body: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(body));
    };
    let tenantId: string;
    try {
      tenantId = (await verifier().verify(request.headers[callerTokenHeader] as string | undefined)).tenantId;
    } catch {
      return answer(401, { errors: [{ message: 'Unauthenticated', extensions: { code: 'UNAUTHENTICATED' } }] });
    }
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const { query, variables } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { query: string; variables: { representations: Array<{ __typename: string; id: string }>; first: number; after: string | null } };
    if (!query.includes('_entities')) return answer(400, { errors: [{ message: 'only _entities', extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }] });
    // crm-service's connections give at most 100 a page and refuse more.
    if (!Number.isInteger(variables.first) || variables.first < 1 || variables.first > 100) {
      return answer(200, { data: { _entities: [null] }, errors: [{ message: `\`first\` must be between 1 and 100; got ${variables.first}.`, extensions: { code: 'BAD_USER_INPUT' } }] });
    }
    requests.push({ tenantId, first: variables.first, after: variables.after });
    const start = variables.after ? Number(variables.after) : 0;
    const entities = variables.representations.map((representation) => {
      const list = lists.get(representation.id);
      if (representation['__typename'] !== 'LeadList' || !list || list.tenantId !== tenantId) return null;
      const page = list.leads.slice(start, start + variables.first);
      const end = start + page.length;
      return { leads: { edges: page.map((node) => ({ node })), pageInfo: { hasNextPage: end < list.leads.length, endCursor: page.length ? String(end) : null } } };
    });
    answer(200, { data: { _entities: entities } });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/graphql`,
    add: (id, tenantId, leads) => lists.set(id, { tenantId, leads }),
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
