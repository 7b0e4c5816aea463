import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createJobProgressStore, JobStatus } from '@gtm/jobs';
import { chromiumArguments, chromiumExecutablePath, createRedis } from '@gtm/runtime';
import { testEnvironment } from '@gtm/testing';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startStack, type Stack } from './stack.js';

let stack: Stack;
let browser: Browser;
const gql = (query: string, variables?: Record<string, unknown>) => stack.gql(query, variables);

beforeAll(async () => {
  stack = await startStack();
  browser = await chromium.launch({ executablePath: await chromiumExecutablePath({ configuredPath: testEnvironment.chromiumPath }), args: [...chromiumArguments] });
});

afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

/** What GraphiQL's result pane shows, parsed. */
async function resultShown(page: Page): Promise<Record<string, any>> {
  return JSON.parse(await page.$eval('.result-window .CodeMirror', (element) => (element as unknown as { CodeMirror: { getValue(): string } }).CodeMirror.getValue())) as Record<string, any>;
}

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
    const result = (await resultShown(page)) as { data: Record<string, any>; errors?: unknown[] };

    expect(result.errors).toBeUndefined();
    expect(result.data['campaigns'].edges[0].node).toMatchObject({ name: 'Platform engineering', website: { domain: 'panfactum.com' }, conversations: [{ subject: 'Kubernetes without the toil' }] });
    expect(result.data['leads'].edges[0].node).toMatchObject({ email: 'jack@panfactum.com', company: { name: 'Panfactum', website: { domain: 'panfactum.com' } } });
    expect(result.data['enrichmentJobs'].edges[0].node).toEqual({ name: 'contractors-8k.csv', status: 'QUEUED', percent: 0 });
    expect(problems).toEqual([]);
    await page.close();
  });

  it('runs a subscription and shows each progress event of a job as it arrives', async () => {
    const created = await gql(`mutation { createEnrichmentJob(input: { name: "dealers.csv", total: 3 }) { id status } }`);
    const jobId = created.data!['createEnrichmentJob'].id as string;
    // The test plays the worker: it writes the job's progress to Redis, as the enrichment worker does.
    const redis = createRedis({ url: testEnvironment.redisUrl, keyPrefix: stack.redisKeyPrefix });
    await redis.connect();
    const store = createJobProgressStore({ redis });
    const queued = (await store.read(jobId))!.snapshot;

    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text());
    });
    await page.goto(stack.gatewayUrl);
    await page.waitForSelector('.graphiql-query-editor .CodeMirror');
    await page.evaluate(
      (query) => (document.querySelector('.graphiql-query-editor .CodeMirror') as unknown as { CodeMirror: { setValue(text: string): void } }).CodeMirror.setValue(query),
      `subscription FollowJob {\n  jobProgress(jobId: "${jobId}") { status completed total percent enrichmentJob { name } }\n}\n`,
    );
    await page.waitForFunction(() => (document.querySelector('.graphiql-query-editor .CodeMirror') as unknown as { CodeMirror: { operationName?: string | null } }).CodeMirror.operationName === 'FollowJob');
    await page.click('.graphiql-execute-button');

    const until = async (status: string, completed: number) => {
      await page.waitForFunction(
        ([wantedStatus, wantedCompleted]) => {
          const text = (document.querySelector('.result-window .CodeMirror') as unknown as { CodeMirror: { getValue(): string } } | null)?.CodeMirror.getValue() ?? '';
          return text.includes(`"status": "${wantedStatus}"`) && text.includes(`"completed": ${wantedCompleted},`);
        },
        [status, completed] as const,
        { timeout: 15_000 },
      );
      return resultShown(page);
    };
    expect(await until('QUEUED', 0)).toEqual({ data: { jobProgress: { status: 'QUEUED', completed: 0, total: 3, percent: 0, enrichmentJob: { name: 'dealers.csv' } } } });
    for (const completed of [1, 2]) {
      await store.write({ ...queued, status: JobStatus.RUNNING, completed, updatedAt: new Date().toISOString() });
      expect((await until('RUNNING', completed))['data'].jobProgress).toMatchObject({ completed, percent: (completed / 3) * 100 });
    }
    await store.write({ ...queued, status: JobStatus.SUCCEEDED, completed: 3, updatedAt: new Date().toISOString() });
    expect(await until('SUCCEEDED', 3)).toEqual({ data: { jobProgress: { status: 'SUCCEEDED', completed: 3, total: 3, percent: 100, enrichmentJob: { name: 'dealers.csv' } } } });
    expect(problems).toEqual([]);
    await page.close();
    redis.disconnect();
  });
});
