// The CPU of content-service's own analysis work for the sites bench:enrichment crawls, without
// the network, the model, PostgreSQL or GraphQL: each dealer's site (home, about, contact) made from
// its register row as the enrichment benchmark serves it, each page extracted (the home page as the
// crawl does, for its links) and the site analysed (cleaning, chunking, summary, facts, quality).
// Reports the process's CPU a site and a page; the tree whose build it runs can be given, so that
// two builds (a base and a change) can be run alternately from one command line.
//   npm run build && node bench/content/dealer-analysis.bench.ts [rounds=10] [tree=this one]
// Erasable TypeScript only: Node runs this file by stripping types.
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { pathToFileURL } from 'node:url';
import { parse } from 'csv-parse/sync';
import { leadSiteFixture, type LeadCompany } from '@gtm/testing';

const rounds = Number(process.argv[2] ?? 10);
const tree = process.argv[3] ?? new URL('../..', import.meta.url).pathname;
const built = (path: string) => pathToFileURL(`${tree}/apps/content-service/dist/${path}`).href;
const { extractPage } = await import(built('extraction/page-extraction.js'));
const { pageKindOf } = await import(built('crawl/page-kind.js'));
const { WebsiteAnalysisService } = await import(built('analysis/website-analysis.service.js'));

const rows = parse(readFileSync(new URL('../../fixtures/leads/florida-dealers-10k.csv', import.meta.url)), { columns: true, skip_empty_lines: true }) as Array<Record<string, string>>;
const sites = rows.slice(0, 300).map((row) => {
  const company: LeadCompany = { name: row['DEALER NAME']!, address: row['LOCATION ADDRESS']!, city: row['LOCATION CITY']!, state: row['STATE']!, zip: row['LOC ZIP']!, phone: row['PHONE']!, key: row['LIC NUMBER']! };
  const site = leadSiteFixture(company).sites.at(-1)!;
  return ['/', '/about', '/contact'].map((path) => ({ url: `http://${site.host}${path}`, html: site.pages[path]! }));
});

const analyseAll = () => {
  for (const pages of sites) {
    const [home, ...others] = pages;
    WebsiteAnalysisService.analyzePages({
      homeUrl: home!.url,
      source: 'HTTP',
      skippedPages: [],
      pages: [
        { url: home!.url, kind: 'HOME', html: home!.html, source: 'HTTP', extracted: extractPage(home!.html, home!.url) },
        ...others.map((page) => ({ url: page.url, kind: pageKindOf(page.url), html: page.html, source: 'HTTP' as const })),
      ],
    });
  }
};

analyseAll();
const started = process.cpuUsage();
for (let round = 0; round < rounds; round += 1) analyseAll();
const used = process.cpuUsage(started);
const perSiteMs = (used.user + used.system) / 1000 / (rounds * sites.length);
process.stdout.write(
  `${JSON.stringify({ tree, sites: sites.length, rounds, cpuMsPerSite: Number(perSiteMs.toFixed(3)), cpuMicrosecondsPerPage: Number(((perSiteMs * 1000) / 3).toFixed(1)), load: loadavg().map((value) => value.toFixed(2)).join(' ') })}\n`,
);
