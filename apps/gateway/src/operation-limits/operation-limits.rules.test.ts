// The measurement behind the depth, alias and cost limits, on a schema shaped like the supergraph:
// Relay connections with `first`, plain lists, a `limit` argument and introspection.
import { describe, expect, it } from '@jest/globals';
import { buildSchema, getIntrospectionQuery, Kind, parse, specifiedRules, validate, type OperationDefinitionNode } from 'graphql';
import { aliasLimitRule, costLimitRule, depthLimitRule, measureOperation, operationLimitExceededCode } from './operation-limits.rules.js';

const schema = buildSchema(`
  type Query {
    leads(first: Int, after: String): LeadConnection!
    campaigns(first: Int! = 5): CampaignConnection!
    website(url: String!): Website
  }
  type PageInfo { hasNextPage: Boolean! endCursor: String }
  type LeadConnection { edges: [LeadEdge!]! pageInfo: PageInfo! totalCount: Int! }
  type LeadEdge { node: Lead! cursor: String! }
  type Lead { id: ID! email: String company: Company }
  type Company { id: ID! name: String! website: Website leads(first: Int): LeadConnection! }
  type CampaignConnection { edges: [CampaignEdge!]! }
  type CampaignEdge { node: Campaign! }
  type Campaign { id: ID! }
  type Website { domain: String! pages: [WebPage!]! search(query: String!, limit: Int = 5): [Chunk!]! }
  type WebPage { url: String! }
  type Chunk { text: String! }
`);

function measure(source: string, variables?: Record<string, unknown>) {
  const document = parse(source);
  const operation = document.definitions.find((definition): definition is OperationDefinitionNode => definition.kind === Kind.OPERATION_DEFINITION);
  if (!operation) throw new Error('the test document has no operation');
  return measureOperation({ schema, document, operation, variables });
}

function firstOperationOf(document: ReturnType<typeof parse>): OperationDefinitionNode {
  const operation = document.definitions.find((definition): definition is OperationDefinitionNode => definition.kind === Kind.OPERATION_DEFINITION);
  if (!operation) throw new Error('the test document has no operation');
  return operation;
}

describe('measureOperation: one parsed document, request after request (Apollo Server reuses it per query text)', () => {
  it("measures each request's own variables when a page size comes from one", () => {
    const document = parse('query Leads($n: Int) { leads(first: $n) { edges { node { id } } } }');
    const operation = firstOperationOf(document);
    expect(measureOperation({ schema, document, operation, variables: { n: 50 } }).cost).toBe(1 + 1 + 50 * 2);
    expect(measureOperation({ schema, document, operation, variables: { n: 5 } }).cost).toBe(1 + 1 + 5 * 2);
    expect(measureOperation({ schema, document, operation }).cost).toBe(1 + 1 + 20 * 2);
  });

  it('gives the same figures again, and measures anew against another schema', () => {
    const document = parse('query Campaigns($unused: Int) { campaigns { edges { node { id } } } }');
    const operation = firstOperationOf(document);
    const largerDefault = buildSchema(`
      type Query { campaigns(first: Int! = 9): CampaignConnection! }
      type CampaignConnection { edges: [CampaignEdge!]! }
      type CampaignEdge { node: Campaign! }
      type Campaign { id: ID! }
    `);
    expect(measureOperation({ schema, document, operation, variables: { unused: 1 } }).cost).toBe(1 + 1 + 5 * 2);
    expect(measureOperation({ schema, document, operation, variables: { unused: 2 } }).cost).toBe(1 + 1 + 5 * 2);
    expect(measureOperation({ schema: largerDefault, document, operation }).cost).toBe(1 + 1 + 9 * 2);
  });
});

describe('measureOperation: cost', () => {
  it('multiplies a connection by its page size once, through edges, not a second time for the edges list', () => {
    // leads 1 + edges (1 + 10 × (node 1 + id 1))
    expect(measure('{ leads(first: 10) { edges { node { id } } } }').cost).toBe(22);
  });

  it('counts pageInfo and totalCount once, not once per item', () => {
    // leads 1 + pageInfo (1 + 1) + totalCount 1 + edges (1 + 10 × cursor 1)
    expect(measure('{ leads(first: 10) { pageInfo { hasNextPage } totalCount edges { cursor } } }').cost).toBe(15);
  });

  it('assumes 20 items when no page size is given and the schema has no default', () => {
    expect(measure('{ leads { edges { node { id } } } }').cost).toBe(1 + 1 + 20 * 2);
  });

  it("uses the schema's default page size", () => {
    expect(measure('{ campaigns { edges { node { id } } } }').cost).toBe(1 + 1 + 5 * 2);
  });

  it('resolves page sizes from variables, then from the variable default', () => {
    const source = 'query Leads($n: Int = 3) { leads(first: $n) { edges { node { id } } } }';
    expect(measure(source, { n: 50 }).cost).toBe(1 + 1 + 50 * 2);
    expect(measure(source).cost).toBe(1 + 1 + 3 * 2);
    // An explicit null means "not given": the default page size applies.
    expect(measure(source, { n: null }).cost).toBe(1 + 1 + 20 * 2);
  });

  it('caps a page size at 100 and raises one below 1 to 1', () => {
    expect(measure('{ leads(first: 100000) { edges { node { id } } } }').cost).toBe(1 + 1 + 100 * 2);
    expect(measure('{ leads(first: -5) { edges { node { id } } } }').cost).toBe(1 + 1 + 1 * 2);
  });

  it('multiplies nested connections and plain lists, with a `limit` argument as the page size', () => {
    // website 1 + domain 1 + pages (1 + 20 × url 1) + search (1 + 5 × text 1)
    expect(measure('{ website(url: "x") { domain pages { url } search(query: "q") { text } } }').cost).toBe(1 + 1 + 21 + 6);
    // leads 1 + edges (1 + 4 × (node 1 + company (1 + leads 1 + edges (1 + 3 × (node 1 + id 1)))))
    expect(measure('{ leads(first: 4) { edges { node { company { leads(first: 3) { edges { node { id } } } } } } } }').cost).toBe(1 + 1 + 4 * (1 + 1 + 1 + 1 + 3 * 2));
  });

  it('does not charge for __typename', () => {
    expect(measure('{ __typename leads(first: 2) { edges { node { __typename id } } } }').cost).toBe(1 + 1 + 2 * 2);
  });
});

describe('measureOperation: depth and aliases', () => {
  it('counts levels of fields, top level = 1, following fragments and inline fragments', () => {
    expect(measure('{ leads { totalCount } }').depth).toBe(2);
    const source = `
      { leads { ...Page } }
      fragment Page on LeadConnection { edges { ... on LeadEdge { node { ...Lead } } } }
      fragment Lead on Lead { company { website { domain } } }`;
    expect(measure(source).depth).toBe(6);
  });

  it('counts aliases wherever a fragment is spread, but a repeated spread on one level once (as execution does)', () => {
    const source = `
      { leads(first: 1) { edges { node { ...Aliased ...Aliased company { leads(first: 1) { edges { node { ...Aliased } } } } } } } }
      fragment Aliased on Lead { a: id b: email }`;
    expect(measure(source).aliases).toBe(4);
  });

  it('lets the standard introspection query through the default depth of 12, and counts deep introspection', () => {
    const introspection = measure(getIntrospectionQuery({ descriptions: true, inputValueDeprecation: true, schemaDescription: true, specifiedByUrl: true }));
    expect(introspection.depth).toBeLessThanOrEqual(12);
    expect(introspection.cost).toBeLessThan(500); // the default budget is 5000
    expect(measure('{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }').depth).toBe(8);
  });

  it('does not loop on a fragment cycle', () => {
    const measured = measure(`
      { leads { edges { node { ...A } } } }
      fragment A on Lead { company { ...B } }
      fragment B on Company { leads { edges { node { ...A } } } }`);
    expect(measured.depth).toBe(7);
  });

  it('measures a fragment explosion in time linear in the document, not exponential', () => {
    // Each level spreads the next fragment in two places: 2^40 paths if walked naively.
    const levels = 40;
    const fragments = Array.from(
      { length: levels },
      (_, level) =>
        `fragment L${level} on Lead { a: company { ...C${level} } b: company { ...C${level} } }
         fragment C${level} on Company { leads(first: 1) { edges { node { ${level + 1 < levels ? `...L${level + 1}` : 'id'} } } } }`,
    ).join('\n');
    const started = performance.now();
    const measured = measure(`{ leads(first: 1) { edges { node { ...L0 } } } }\n${fragments}`);
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(measured.depth).toBe(3 + levels * 4 + 1);
    expect(measured.aliases).toBe(2 ** (levels + 1) - 2);
  });
});

describe('validation rules', () => {
  const rules = [depthLimitRule(4), aliasLimitRule(1), costLimitRule(30)];

  it('report each exceeded limit with the shared error shape', () => {
    const errors = validate(schema, parse('{ leads(first: 50) { edges { node { a: id b: email company { id } } } } }'), [...specifiedRules, ...rules]);
    expect(errors.map((error) => error.extensions)).toEqual([
      { code: operationLimitExceededCode, limit: 'depth', maximum: 4, actual: 5 },
      { code: operationLimitExceededCode, limit: 'aliases', maximum: 1, actual: 2 },
      { code: operationLimitExceededCode, limit: 'cost', maximum: 30, actual: 1 + 1 + 50 * 5 },
    ]);
    expect(errors[0]?.message).toBe('This operation is 5 levels deep; the maximum is 4. Split it or ask for fewer nested fields.');
  });

  it('use variables when given them', () => {
    const document = parse('query Leads($n: Int) { leads(first: $n) { edges { node { id } } } }');
    expect(validate(schema, document, [costLimitRule(30, { n: 14 })])).toEqual([]);
    expect(validate(schema, document, [costLimitRule(30, { n: 15 })]).map((error) => error.extensions['actual'])).toEqual([32]);
  });

  it('leave a fragment cycle to graphql, which reports it, without crashing', () => {
    const document = parse(`
      { leads { edges { node { ...A } } } }
      fragment A on Lead { company { leads { edges { node { ...A } } } } }`);
    const errors = validate(schema, document, [...specifiedRules, depthLimitRule(100), aliasLimitRule(100), costLimitRule(100_000)]);
    expect(errors.map((error) => error.message)).toEqual(['Cannot spread fragment "A" within itself.']);
  });
});
