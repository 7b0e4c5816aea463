import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { postGraphQL } from '@gtm/testing';
import { auditServer } from 'graphql-http';
import { startStack, type Stack } from './stack.js';

let stack: Stack;
const gql = (query: string, variables?: Record<string, unknown>) => stack.gql(query, variables);

beforeAll(async () => {
  stack = await startStack();
});

afterAll(async () => {
  await stack?.close();
});

describe('the federated stack', () => {
  it('answers one query that reads across all five subgraphs', async () => {
    const company = await gql(`mutation { createCompany(input: { name: "Blossomer", websiteUrl: "https://blossomer.io" }) { id } }`);
    expect(company.errors).toBeUndefined();
    const lead = await gql(`mutation ($companyId: ID!) { createLead(input: { firstName: "Ada", email: "ada@blossomer.io", companyId: $companyId }) { id } }`, {
      companyId: company.data!['createCompany'].id,
    });
    const campaign = await gql(`mutation { createCampaign(input: { websiteUrl: "Blossomer.io/" }) { id name websiteUrl } }`);
    expect(campaign.errors).toBeUndefined();
    expect(campaign.data!['createCampaign']).toMatchObject({ name: 'blossomer.io', websiteUrl: 'https://blossomer.io' });
    const conversation = await gql(`mutation ($leadId: ID!, $campaignId: ID) { startConversation(input: { leadId: $leadId, campaignId: $campaignId, subject: "Pipeline without SDRs" }) { id } }`, {
      leadId: lead.data!['createLead'].id,
      campaignId: campaign.data!['createCampaign'].id,
    });
    expect(conversation.errors).toBeUndefined();
    const job = await gql(`mutation { createEnrichmentJob(input: { name: "companies-200.csv", total: 200 }) { id status } }`);
    expect(job.errors).toBeUndefined();

    const result = await gql(
      `query ($campaignId: ID!) {
        campaign(id: $campaignId) {
          name
          website { url domain analyzedAt campaigns { id } }
          conversations { subject lead { email company { name website { url domain } } } }
        }
        enrichmentJobs { edges { node { name status total percent } } }
      }`,
      { campaignId: campaign.data!['createCampaign'].id },
    );
    expect(result.errors).toBeUndefined();
    expect(result.data).toEqual({
      campaign: {
        name: 'blossomer.io',
        website: { url: 'https://blossomer.io', domain: 'blossomer.io', analyzedAt: null, campaigns: [{ id: campaign.data!['createCampaign'].id }] },
        conversations: [
          { subject: 'Pipeline without SDRs', lead: { email: 'ada@blossomer.io', company: { name: 'Blossomer', website: { url: 'https://blossomer.io', domain: 'blossomer.io' } } } },
        ],
      },
      enrichmentJobs: { edges: [{ node: { name: 'companies-200.csv', status: 'QUEUED', total: 200, percent: 0 } }] },
    });
  });

  it('answers an invalid operation with 400 and a validation code', async () => {
    const result = await gql(`{ leads { edges { node { noSuchField } } } }`);
    expect(result.status).toBe(400);
    expect(result.errors?.[0]?.extensions?.['code']).toBe('GRAPHQL_VALIDATION_FAILED');
    const syntax = await gql(`{ leads { `);
    expect(syntax.status).toBe(400);
    expect(syntax.errors?.[0]?.extensions?.['code']).toBe('GRAPHQL_PARSE_FAILED');
  });

  it('passes a subgraph’s user error through with its code and message', async () => {
    const result = await gql(`mutation { createLead(input: { email: "nope" }) { id } }`);
    expect(result.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });
    expect(result.errors?.[0]?.message).toMatch(/email/);
  });

  it('refuses a direct request to a subgraph that the gateway did not sign', async () => {
    for (const url of Object.values(stack.subgraphUrls)) {
      const result = await postGraphQL(url, { query: '{ __typename }' });
      expect(result.status).toBe(401);
      expect(result.errors?.[0]?.extensions?.['code']).toBe('UNAUTHENTICATED');
    }
  });

  it('passes the graphql-http audit with no MUST failure', async () => {
    const authenticatedFetch = (input: RequestInfo | URL, init: RequestInit = {}) => {
      const headers = new Headers(init.headers);
      headers.set('authorization', `Bearer ${stack.apiKey}`);
      return fetch(input, { ...init, headers });
    };
    const results = await auditServer({ url: stack.gatewayUrl, fetchFn: authenticatedFetch });
    const mustAudits = results.filter((result) => result.name.startsWith('MUST'));
    expect(mustAudits.length).toBeGreaterThan(10);
    const mustFailures = mustAudits.filter((result) => result.status !== 'ok');
    expect(mustFailures.map((result) => `${result.name}: ${'reason' in result ? result.reason : ''}`)).toEqual([]);
  });

  it('reports every subgraph ready in /health', async () => {
    const response = await fetch(stack.gatewayUrl.replace('/graphql', '/health'));
    expect(response.status).toBe(200);
    const report = (await response.json()) as { status: string; checks: Record<string, { status: string }> };
    expect(report.status).toBe('ok');
    expect(Object.keys(report.checks).toSorted()).toEqual(['campaign-service', 'content-service', 'conversation-service', 'crm-service', 'enrichment-service', 'postgres', 'redis']);
  });

  it('exposes Prometheus metrics of requests and operations, refusals included', async () => {
    await gql('{ leads { edges { cursor } } }');
    await stack.gql('{ __typename }', undefined, {});
    const response = await fetch(stack.gatewayUrl.replace('/graphql', '/metrics'));
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(text).toMatch(/gtm_gateway_http_requests_total\{status="401"\} [1-9]/);
    expect(text).toMatch(/gtm_gateway_http_requests_total\{status="200"\} [1-9]/);
    expect(text).toMatch(/gtm_gateway_operation_duration_seconds_count\{type="query",outcome="OK"\} [1-9]/);
    expect(text).toContain('process_resident_memory_bytes');
  });

  // Runs last: it stops a subgraph.
  it('keeps the rest of the answer when a subgraph is down, with UPSTREAM_UNAVAILABLE for the missing part', async () => {
    await gql(`mutation { createLead(input: { firstName: "Grace", email: "grace@example.com" }) { id } }`);
    await stack.stopSubgraph('conversation');
    const result = await gql(`{ leads(filter: { search: "grace" }) { edges { node { email conversations { subject } } } } }`);
    expect(result.data?.['leads']).toEqual({ edges: [{ node: { email: 'grace@example.com', conversations: null } }] });
    expect(result.errors?.[0]).toMatchObject({ extensions: { code: 'UPSTREAM_UNAVAILABLE', service: 'conversation' } });
    expect(result.errors?.[0]?.message).toBe('The conversation service is unavailable right now, so part of this answer is missing; the rest is complete. Try again shortly.');
    expect(JSON.stringify(result.errors)).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|stack/i);
    // Nothing came back: the answer must not claim that a rest is complete.
    const nothing = await gql(`{ conversations(first: 1) { edges { node { subject } } } }`);
    expect(nothing.data).toBeNull();
    expect(nothing.errors?.[0]).toMatchObject({ extensions: { code: 'UPSTREAM_UNAVAILABLE', service: 'conversation' } });
    expect(nothing.errors?.[0]?.message).toBe('The conversation service is unavailable right now, so this answer has no data. Try again shortly.');

    const health = await fetch(stack.gatewayUrl.replace('/graphql', '/health'));
    expect(health.status).toBe(503);
    const report = (await health.json()) as { checks: Record<string, { status: string }> };
    expect(report.checks['conversation-service']?.status).toBe('down');
    expect(report.checks['crm-service']?.status).toBe('up');
  });
});
