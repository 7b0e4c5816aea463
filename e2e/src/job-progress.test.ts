// Jobs end to end: an enrichment job and a campaign generation created through the gateway run on
// their services' workers, and a client follows them over the gateway's WebSocket, selecting
// fields of the entities a progress event refers to from the subgraphs that own them.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createGraphQLWebSocketClient, subscribeForTest, type FixtureSite } from '@gtm/testing';
import { parse } from 'csv-parse/sync';
import type { Client } from 'graphql-ws';
import { startNorthwindSite } from './campaign-fixtures.js';
import { startStack, type Stack } from './stack.js';

const fixtures = new URL('../../fixtures/leads/', import.meta.url);
let stack: Stack;
let site: FixtureSite;
let socket: Client;

beforeAll(async () => {
  site = await startNorthwindSite();
  stack = await startStack({ subgraphEnvironment: { content: { CONTENT_FETCH_ALLOWLIST: site.host } } });
  socket = createGraphQLWebSocketClient(stack.gatewayUrl, { authorization: `Bearer ${stack.apiKey}` });
});

afterAll(async () => {
  await socket?.dispose();
  await stack?.close();
  await site?.close();
});

function readCsv(name: string): Array<Record<string, string>> {
  return parse(readFileSync(new URL(name, fixtures)), { columns: true, skip_empty_lines: true }) as Array<Record<string, string>>;
}

const createJob = `mutation ($input: CreateEnrichmentJobInput!) { createEnrichmentJob(input: $input) { id status total } }`;
const follow = `subscription Follow($jobId: ID!) {
  jobProgress(jobId: $jobId) { status total completed failed percent enrichmentJob { id name finishedAt } }
}`;

describe('an enrichment job, followed through the gateway', () => {
  it('runs a real lead list on the worker and streams its progress, with the enrichment job’s own fields', async () => {
    const rows = readCsv('companies-200.csv');
    const records = rows.map((row) => ({ companyName: row['company_name'] || null, website: row['company_website'] || null, email: row['contact_email'] || null }));
    // The website step only: it needs no search provider or model, so the list runs as it is.
    const created = await stack.gql(createJob, { input: { name: 'companies-200.csv', records, steps: ['WEBSITE'] } });
    expect(created.errors).toBeUndefined();
    const job = created.data!['createEnrichmentJob'];
    expect(job).toMatchObject({ status: 'QUEUED', total: rows.length });

    const subscription = subscribeForTest(socket, { query: follow, variables: { jobId: job.id } });
    expect(await subscription.ended).toEqual({ completed: true });
    const events = subscription.results.map((result) => result.data!['jobProgress']);
    expect(subscription.results.every((result) => result.errors === undefined)).toBe(true);
    const last = events.at(-1);
    expect(last).toMatchObject({ status: 'SUCCEEDED', total: rows.length, percent: 100 });
    expect(last.completed + last.failed).toBe(rows.length);
    // Each row with a website of its own identifies its company; the 52 rows without one have only a
    // name (and no search provider is configured here), and a dealer-locator page is not a website.
    expect(last.completed).toBe(rows.filter((row) => row['company_website'] && !/generacdealers\.com/.test(row['company_website'])).length);
    // `enrichmentJob` comes from the enrichment subgraph, by federation, in the same event.
    expect(last.enrichmentJob).toEqual({ id: job.id, name: 'companies-200.csv', finishedAt: expect.any(String) });
    const processed = events.map((event) => event.completed + event.failed);
    expect(processed).toEqual(processed.toSorted((left, right) => left - right));

    const read = await stack.gql(`query ($id: ID!) { enrichmentJob(id: $id) { status completed failed } }`, { id: job.id });
    expect(read.data!['enrichmentJob']).toEqual({ status: 'SUCCEEDED', completed: last.completed, failed: last.failed });
  });

  it('stops a running job cancelled through the API and ends its subscription with CANCELLED', async () => {
    const rows = readCsv('florida-dealers-10k.csv').slice(0, 5_000);
    const records = rows.map((row) => ({ companyName: row['DEALER NAME'] || null, website: row['Dealer Website URL'] || null, email: row['EMAIL'] || row['Owner Email'] || 'unknown@example.invalid' }));
    const created = await stack.gql(createJob, { input: { name: 'florida-dealers-5k.csv', records } });
    expect(created.errors).toBeUndefined();
    const jobId = created.data!['createEnrichmentJob'].id;

    const subscription = subscribeForTest(socket, { query: follow, variables: { jobId } });
    for (let count = 1; ; count += 1) {
      const [latest] = (await subscription.received(count)).slice(-1);
      if (latest!.data!['jobProgress'].completed + latest!.data!['jobProgress'].failed > 0) break;
    }
    const cancelled = await stack.gql(`mutation ($id: ID!) { cancelEnrichmentJob(id: $id) { status } }`, { id: jobId });
    expect(cancelled.data!['cancelEnrichmentJob']).toEqual({ status: 'CANCELLED' });
    expect(await subscription.ended).toEqual({ completed: true });
    const last = subscription.results.at(-1)!.data!['jobProgress'];
    expect(last.status).toBe('CANCELLED');
    expect(last.completed + last.failed).toBeLessThan(rows.length);

    // Nothing is counted after the cancellation: the job row and the records agree.
    const read = await stack.gql(`query ($id: ID!) { enrichmentJob(id: $id) { status completed failed } }`, { id: jobId });
    expect(read.data!['enrichmentJob']).toEqual({ status: 'CANCELLED', completed: last.completed, failed: last.failed });
  });

  it('resolves a campaign the job works on from the campaign subgraph', async () => {
    const campaign = await stack.gql(`mutation ($url: String!) { createCampaign(input: { websiteUrl: $url, name: "Platform engineering" }) { id } }`, { url: site.origin });
    const campaignId = campaign.data!['createCampaign'].id;
    // The campaign service's worker builds the five assets (offline: no model is configured).
    const started = await stack.gql(`mutation ($id: ID!) { generateCampaign(campaignId: $id) { id } }`, { id: campaignId });
    expect(started.errors).toBeUndefined();

    const subscription = subscribeForTest(socket, {
      query: `subscription ($jobId: ID!) { jobProgress(jobId: $jobId) { kind completed campaign { id name website { domain } } enrichmentJob { id } } }`,
      variables: { jobId: started.data!['generateCampaign'].id },
    });
    expect(await subscription.ended).toEqual({ completed: true });
    const resolved = { id: campaignId, name: 'Platform engineering', website: { domain: new URL(site.origin).hostname } };
    expect(subscription.results.length).toBeGreaterThan(0);
    for (const result of subscription.results) expect(result).toMatchObject({ data: { jobProgress: { kind: 'campaign-generation', campaign: resolved, enrichmentJob: null } } });
    expect(subscription.results.at(-1)).toEqual({ data: { jobProgress: { kind: 'campaign-generation', completed: 5, campaign: resolved, enrichmentJob: null } } });
  });

  it('follows a job that waits for its records from its QUEUED snapshot', async () => {
    const waiting = await stack.gql(createJob, { input: { name: 'upload pending', total: 12 } });
    const jobId = waiting.data!['createEnrichmentJob'].id;
    const read = await stack.gql(`query ($jobId: ID!) { jobProgress(jobId: $jobId) { status total percent enrichmentJob { name } } }`, { jobId });
    expect(read.data!['jobProgress']).toEqual({ status: 'QUEUED', total: 12, percent: 0, enrichmentJob: { name: 'upload pending' } });
  });
});
