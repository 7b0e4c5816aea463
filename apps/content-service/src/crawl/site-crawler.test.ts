import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { ServerResponse } from 'node:http';
import { createSafeFetcher, type SafeFetcher } from '@gtm/runtime';
import { startRecordingHttpServer, type RecordingHttpServer } from '@gtm/testing';
import { createDirectPageReader } from './page-reader.js';
import { createSiteCrawler } from './site-crawler.js';

// A small site whose server holds each answer but robots.txt's until another request arrives (or
// half a second has passed): requests a crawl makes at once are then in flight together, and the
// log of asks and answers shows which.
const home = `<html><head><title>Harbor Tools</title></head><body><h1>Harbor Tools</h1>
  <p>Hand tools for boat builders since 1987.</p>
  <a href="/about">About us</a> <a href="/products">Products</a> <a href="/contact">Contact</a></body></html>`;
const page = (title: string) => `<html><head><title>${title}</title></head><body><h1>${title}</h1><p>${title} of Harbor Tools, hand tools for boat builders.</p></body></html>`;

let server: RecordingHttpServer;
let fetcher: SafeFetcher;
let robots = 'User-agent: *\nAllow: /\n';
const log: string[] = [];
let held: Array<() => void> = [];
let inFlight = 0;
let mostInFlight = 0;

function answer(path: string, response: ServerResponse): void {
  log.push(`answer ${path}`);
  inFlight -= 1;
  if (path === '/robots.txt') return void response.writeHead(200, { 'content-type': 'text/plain' }).end(robots);
  if (path === '/sitemap.xml') return void response.writeHead(404, { 'content-type': 'text/html' }).end('<h1>Not found</h1>');
  response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(path === '/' ? home : page(path.slice(1)));
}

beforeAll(async () => {
  server = await startRecordingHttpServer((request, response) => {
    const path = request.url ?? '/';
    log.push(`ask ${path}`);
    inFlight += 1;
    mostInFlight = Math.max(mostInFlight, inFlight);
    if (path === '/robots.txt') return answer(path, response);
    if (held.length > 0) {
      // Two requests in flight: both answered.
      for (const release of held.splice(0)) release();
      return answer(path, response);
    }
    const timer = setTimeout(() => {
      held = held.filter((release) => release !== releaseThis);
      answer(path, response);
    }, 500);
    const releaseThis = () => {
      clearTimeout(timer);
      answer(path, response);
    };
    held.push(releaseThis);
  });
  fetcher = createSafeFetcher({ allowlist: [new URL(server.origin).host] });
});

afterEach(() => {
  server.reset();
  log.length = 0;
  mostInFlight = 0;
  robots = 'User-agent: *\nAllow: /\n';
});

afterAll(async () => {
  await fetcher.close();
  await server.close();
});

describe('createSiteCrawler', () => {
  it('reads a site without a Crawl-delay two requests at a time: the sitemap while the home page, then the pages', async () => {
    const crawler = createSiteCrawler({ fetcher, reader: createDirectPageReader(fetcher), concurrentRequests: 2 });
    const site = await crawler.crawl(server.origin);

    expect(site.pages.map((read) => new URL(read.url).pathname)).toEqual(['/', '/products', '/about', '/contact']);
    expect(mostInFlight).toBe(2);
    expect(log.indexOf('ask /sitemap.xml')).toBeLessThan(log.indexOf('answer /'));
    expect(log.indexOf('ask /about')).toBeLessThan(log.indexOf('answer /products'));
    // Each page once: robots.txt, the sitemap, the home page and three pages.
    expect(server.requests.map((request) => request.url).toSorted()).toEqual(['/', '/about', '/contact', '/products', '/robots.txt', '/sitemap.xml']);
  });

  it('reads a site that asks for a Crawl-delay one request at a time, waiting between them', async () => {
    robots = 'User-agent: *\nAllow: /\nCrawl-delay: 1\n';
    const sleeps: number[] = [];
    const crawler = createSiteCrawler({ fetcher, reader: createDirectPageReader(fetcher), concurrentRequests: 2, sleep: async (milliseconds) => void sleeps.push(milliseconds) });
    const site = await crawler.crawl(server.origin);

    expect(site.pages.map((read) => new URL(read.url).pathname)).toEqual(['/', '/products', '/about', '/contact']);
    expect(mostInFlight).toBe(1);
    expect(server.requests.map((request) => request.url)).toEqual(['/robots.txt', '/', '/sitemap.xml', '/products', '/about', '/contact']);
    expect(sleeps).toEqual([1_000, 1_000, 1_000, 1_000, 1_000]);
  });
});
