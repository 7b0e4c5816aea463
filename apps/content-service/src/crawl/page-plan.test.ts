import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { fileURLToPath } from 'node:url';
import { startFixtureSite, type FixtureSite } from '@gtm/testing';
import { createSafeFetcher, type SafeFetcher } from '@gtm/runtime';
import { pageKindOf } from './page-kind.js';
import { extractPage } from '../extraction/page-extraction.js';
import { planPages, sitemapPages } from './page-plan.js';
import { loadRobotsPolicy } from './robots-policy.js';

const northwind = fileURLToPath(new URL('../../fixtures/northwind-site', import.meta.url));
let site: FixtureSite;
let fetcher: SafeFetcher;

beforeAll(async () => {
  site = await startFixtureSite(northwind);
  fetcher = createSafeFetcher({ allowlist: [site.host] });
});

afterAll(async () => {
  await fetcher?.close();
  await site?.close();
});

describe('robots.txt', () => {
  it('reads the rules, crawl-delay and sitemaps for our user agent', async () => {
    const robots = await loadRobotsPolicy(fetcher, site.origin);
    expect(robots.isAllowed(`${site.origin}/product`)).toBe(true);
    expect(robots.isAllowed(`${site.origin}/private`)).toBe(false);
    expect(robots.isAllowed(`${site.origin}/login`)).toBe(false);
    expect(robots.crawlDelayMs).toBe(200);
    expect(robots.sitemaps).toEqual([`${site.origin}/sitemap.xml`]);
  });

  it('allows everything when a site has none, and nothing when it fails with a server error', async () => {
    await using bare = await startFixtureSite(northwind, { '/robots.txt': (_request, response) => void response.writeHead(404).end() });
    await using failing = await startFixtureSite(northwind, { '/robots.txt': (_request, response) => void response.writeHead(503).end() });
    const open = createSafeFetcher({ allowlist: [bare.host, failing.host] });
    expect((await loadRobotsPolicy(open, bare.origin)).isAllowed(`${bare.origin}/private`)).toBe(true);
    expect((await loadRobotsPolicy(open, failing.origin)).isAllowed(`${failing.origin}/`)).toBe(false);
    await open.close();
  });
});

describe('choosing pages', () => {
  it('classifies pages by their path', () => {
    expect(pageKindOf('https://acme.com/')).toBe('HOME');
    expect(pageKindOf('https://acme.com/platform/reconciliation')).toBe('PRODUCT');
    expect(pageKindOf('https://acme.com/plans')).toBe('PRICING');
    expect(pageKindOf('https://acme.com/case-studies/brightline')).toBe('CUSTOMERS');
    expect(pageKindOf('https://acme.com/company')).toBe('ABOUT');
    expect(pageKindOf('https://acme.com/jobs')).toBe('CAREERS');
    expect(pageKindOf('https://acme.com/blog/close-faster')).toBe('BLOG');
    expect(pageKindOf('https://acme.com/legal/terms')).toBe('OTHER');
  });

  it('takes the most informative pages from links and the sitemap, and never one robots.txt forbids', async () => {
    const robots = await loadRobotsPolicy(fetcher, site.origin);
    const home = await fetcher.fetch(`${site.origin}/`);
    const candidates = [...extractPage(home.body, home.url).links, ...(await sitemapPages(fetcher, robots.sitemaps))];
    expect(candidates).toContain(`${site.origin}/private`);

    const plan = planPages({ homeUrl: home.url, candidates, robots, maximumPages: 5 });
    expect(plan).toEqual([
      { url: `${site.origin}/product`, kind: 'PRODUCT' },
      { url: `${site.origin}/pricing`, kind: 'PRICING' },
      { url: `${site.origin}/customers`, kind: 'CUSTOMERS' },
      { url: `${site.origin}/about`, kind: 'ABOUT' },
      { url: `${site.origin}/careers`, kind: 'CAREERS' },
    ]);
    const everything = planPages({ homeUrl: home.url, candidates, robots, maximumPages: 20 }).map((page) => page.url);
    expect(everything).toContain(`${site.origin}/blog/close-faster`);
    expect(everything).not.toContain(`${site.origin}/private`);
    expect(everything).not.toContain(`${site.origin}/login`);
    expect(everything).not.toContain(`${site.origin}`);
  });

  it('keeps to the site: other hosts, files and fragments are not pages of it', () => {
    const robots = { isAllowed: () => true, crawlDelayMs: 0, sitemaps: [] };
    const plan = planPages({
      homeUrl: 'https://acme.com/',
      candidates: ['https://other.com/pricing', '/pricing#plans', '/pricing?ref=nav', '/brochure.pdf', 'https://acme.com/about/'],
      robots,
      maximumPages: 10,
    });
    expect(plan).toEqual([
      { url: 'https://acme.com/pricing', kind: 'PRICING' },
      { url: 'https://acme.com/about', kind: 'ABOUT' },
    ]);
  });
});
