import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { fileURLToPath } from 'node:url';
import { startFixtureSite, type FixtureSite } from '@gtm/testing';
import { startStack, type Stack } from './stack.js';

// The website analysis as a client sees it: through the gateway, charged to the LLM budget,
// readable by entity reference from another subgraph's type.
let site: FixtureSite;
let stack: Stack;

beforeAll(async () => {
  site = await startFixtureSite(fileURLToPath(new URL('../../apps/content-service/fixtures/northwind-site', import.meta.url)), {
    '/robots.txt': (_request, response) => void response.writeHead(200, { 'content-type': 'text/plain' }).end(`User-agent: *\nDisallow: /private\nSitemap: ${site.origin}/sitemap.xml\n`),
  });
  stack = await startStack({ subgraphEnvironment: { content: { CONTENT_FETCH_ALLOWLIST: site.host } }, gatewayEnvironment: { LLM_BUDGET_ENTERPRISE_PER_DAY: '3' } });
});

afterAll(async () => {
  await stack?.close();
  await site?.close();
});

describe('website analysis through the gateway', () => {
  it('analyses a site, then serves its pages, quality and passages, also behind a campaign', async () => {
    const analysed = await stack.gql(`mutation ($url: String!) { analyzeWebsite(url: $url) { url pages { kind } quality { level } } }`, { url: site.origin });
    expect(analysed.errors).toBeUndefined();
    expect(analysed.data!['analyzeWebsite']).toMatchObject({ url: site.origin, quality: { level: 'SUFFICIENT' } });
    expect(analysed.data!['analyzeWebsite'].pages.map((page: { kind: string }) => page.kind)).toContain('PRICING');

    const campaign = await stack.gql(`mutation ($url: String!) { createCampaign(input: { websiteUrl: $url }) { website { url summary search(query: "pricing per user", limit: 1) { pageUrl text } } } }`, { url: site.origin });
    expect(campaign.errors).toBeUndefined();
    expect(campaign.data!['createCampaign'].website.summary).toMatch(/Northwind Ledger/);
    expect(campaign.data!['createCampaign'].website.search[0].pageUrl).toBe(`${site.origin}/pricing`);
  });

  it('gives a refused address as FORBIDDEN with a message, not an internal error', async () => {
    const refused = await stack.gql(`mutation { analyzeWebsite(url: "http://169.254.169.254/latest/meta-data") { url } }`);
    expect(refused.errors?.[0]).toMatchObject({ message: expect.stringMatching(/link-local/), extensions: { code: 'FORBIDDEN' } });
  });
  it('charges each analysis to the daily LLM budget and refuses past it', async () => {
    // The budget is 3 a day; the two tests above used two (a refused analysis is charged too: the charge comes first).
    const third = await stack.gql(`mutation ($url: String!) { analyzeWebsite(url: $url) { url } }`, { url: site.origin });
    expect(third.errors).toBeUndefined();
    const fourth = await stack.gql(`mutation ($url: String!) { analyzeWebsite(url: $url) { url } }`, { url: site.origin });
    expect(fourth.errors?.[0]?.extensions).toMatchObject({ code: 'RATE_LIMITED', budget: 'llm' });
    // Reads are not charged.
    const read = await stack.gql(`query ($url: String!) { website(url: $url) { quality { score } } }`, { url: site.origin });
    expect(read.errors).toBeUndefined();
  });

});
