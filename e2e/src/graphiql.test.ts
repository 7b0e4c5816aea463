import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { chromium, type Browser } from 'playwright-core';
import { startStack, type Stack } from './stack.js';

let stack: Stack;
let browser: Browser;
const gql = (query: string, variables?: Record<string, unknown>) => stack.gql(query, variables);

beforeAll(async () => {
  stack = await startStack();
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
});

afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

describe('GraphiQL on the running gateway', () => {
  it('runs its first query across all five subgraphs from the browser', async () => {
    const company = await gql(`mutation { createCompany(input: { name: "Panfactum", websiteUrl: "https://panfactum.com" }) { id } }`);
    const lead = await gql(`mutation ($companyId: ID!) { createLead(input: { email: "jack@panfactum.com", companyId: $companyId }) { id } }`, { companyId: company.data!['createCompany'].id });
    const campaign = await gql(`mutation { createCampaign(input: { websiteUrl: "https://panfactum.com", name: "Platform engineering" }) { id } }`);
    await gql(`mutation ($leadId: ID!, $campaignId: ID) { startConversation(input: { leadId: $leadId, campaignId: $campaignId, subject: "Kubernetes without the toil" }) { id } }`, {
      leadId: lead.data!['createLead'].id,
      campaignId: campaign.data!['createCampaign'].id,
    });
    const job = await gql(`mutation { createEnrichmentJob(input: { name: "contractors-8k.csv", total: 8277 }) { id } }`);
    expect(job.errors).toBeUndefined();

    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('response', (answer) => {
      if (answer.status() === 401) problems.push(`401 for ${answer.request().method()} ${answer.url()} ${JSON.stringify(answer.request().headers())}`);
    });
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text());
    });
    const response = await page.goto(stack.gatewayUrl);
    expect(response?.status()).toBe(200);
    await page.waitForSelector('.graphiql-query-editor .CodeMirror');
    // GraphiQL parses the editor's document 100 ms after it appears; run only once it has.
    await page.waitForFunction(() => (document.querySelector('.graphiql-query-editor .CodeMirror') as unknown as { CodeMirror: { operationName?: string | null } }).CodeMirror.operationName === 'Overview');
    await page.click('.graphiql-execute-button');
    await page.waitForFunction(() => (document.querySelector('.result-window .CodeMirror') as unknown as { CodeMirror: { getValue(): string } } | null)?.CodeMirror.getValue().includes('"data"'), undefined, { timeout: 15_000 });
    const shown = await page.$eval('.result-window .CodeMirror', (element) => (element as unknown as { CodeMirror: { getValue(): string } }).CodeMirror.getValue());
    const result = JSON.parse(shown) as { data: Record<string, any>; errors?: unknown[] };

    expect(result.errors).toBeUndefined();
    expect(result.data['campaigns'].edges[0].node).toMatchObject({ name: 'Platform engineering', website: { domain: 'panfactum.com' }, conversations: [{ subject: 'Kubernetes without the toil' }] });
    expect(result.data['leads'].edges[0].node).toMatchObject({ email: 'jack@panfactum.com', company: { name: 'Panfactum', website: { domain: 'panfactum.com' } } });
    expect(result.data['enrichmentJobs'].edges[0].node).toEqual({ name: 'contractors-8k.csv', status: 'QUEUED', percent: 0 });
    expect(problems).toEqual([]);
    await page.close();
  });
});
