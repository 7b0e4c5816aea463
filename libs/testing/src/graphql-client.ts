import { callerTokenHeader, type CallerContext, type CallerTokenSigner } from '@gtm/caller';

export interface GraphQLResponse<Data = Record<string, any>> {
  status: number;
  data?: Data | null;
  errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, any> }[];
}

export interface GraphQLRequest {
  query: string;
  variables?: Record<string, unknown>;
  operationName?: string;
}

/** POSTs one GraphQL operation over real HTTP. */
export async function postGraphQL<Data = Record<string, any>>(url: string, request: GraphQLRequest, headers: Record<string, string> = {}): Promise<GraphQLResponse<Data>> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json', ...headers },
    body: JSON.stringify(request),
  });
  const text = await response.text();
  let body: Omit<GraphQLResponse<Data>, 'status'>;
  try {
    body = JSON.parse(text) as Omit<GraphQLResponse<Data>, 'status'>;
  } catch {
    throw new Error(`expected a JSON GraphQL response, got ${response.status}: ${text.slice(0, 200)}`);
  }
  return { status: response.status, ...body };
}

/** A client that calls a subgraph directly, signing each request as the gateway would. */
export function createSubgraphClient(url: string, signer: CallerTokenSigner) {
  return async <Data = Record<string, any>>(caller: CallerContext, query: string, variables?: Record<string, unknown>) =>
    postGraphQL<Data>(url, { query, variables }, { [callerTokenHeader]: await signer.sign(caller) });
}
