import { createLlmFromConfig } from '@gtm/llm';
import { createLlmUsageReporter, createSafeFetcher, type HostResolver, type Logger, type SafeFetcher, startSubgraphApp, type SubgraphApp } from '@gtm/runtime';
import { AnalysisSingleFlight } from './analysis/analysis-single-flight.js';
import { WebsiteAnalysisService } from './analysis/website-analysis.service.js';
import { ContentChunk } from './chunk/content-chunk.entity.js';
import { CompanyWebsiteResolver } from './company/company.resolver.js';
import type { ContentConfig } from './config.js';
import { createChromiumPageReader } from './crawl/chromium-page-reader.js';
import { createFirecrawlPageReader } from './crawl/firecrawl-page-reader.js';
import { createDirectPageReader, type PageReader } from './crawl/page-reader.js';
import { createRenderingPageReader } from './crawl/rendering-page-reader.js';
import { createSiteCrawler, type SiteCrawlerOptions } from './crawl/site-crawler.js';
import { createContentLoaders } from './loaders.js';
import { migrations } from './migrations/index.js';
import { WebPage } from './page/web-page.entity.js';
import { buildContentSchema } from './schema.js';
import { Website } from './website/website.entity.js';
import { WebsiteResolver } from './website/website.resolver.js';
import { WebsiteService } from './website/website.service.js';

export interface ContentAppOverrides {
  logger?: Logger;
  onQuery?: (sql: string) => void;
  /** Default: the system clock. Tests move it forward to expire analyses. */
  now?: () => Date;
  /** Default: real waits. Tests record the crawl's Crawl-delay waits instead of sitting through them. */
  crawlSleep?: SiteCrawlerOptions['sleep'];
  /** Default: the system resolver. Tests give host names their own addresses. */
  resolveHost?: HostResolver;
}

/** The services the app runs on, for in-process callers (tests, later the analysis jobs). */
export interface ContentServices {
  websites: WebsiteService;
  analysis: WebsiteAnalysisService;
}

export interface ContentApp extends SubgraphApp {
  services: ContentServices;
}

/** Direct fetching, Firecrawl when a key is configured, and Chromium rendering when enabled. */
function createPageReader(config: ContentConfig, fetcher: SafeFetcher): PageReader {
  if (config.FIRECRAWL_API_KEY) {
    return createFirecrawlPageReader({ apiKey: config.FIRECRAWL_API_KEY, apiUrl: config.FIRECRAWL_API_URL, allowlist: config.CONTENT_FETCH_ALLOWLIST });
  }
  const direct = createDirectPageReader(fetcher);
  if (config.CONTENT_RENDER_JAVASCRIPT === 'off') return direct;
  const chromium = createChromiumPageReader({ fetcher, executablePath: config.CHROMIUM_PATH, timeoutMs: config.CONTENT_FETCH_TIMEOUT_MS });
  return createRenderingPageReader(direct, chromium, config.CONTENT_RENDER_JAVASCRIPT);
}

/** The composition root of the content service: builds its services and resolvers, then starts it. */
export async function createApp(config: ContentConfig, overrides: ContentAppOverrides = {}): Promise<ContentApp> {
  const websiteService = new WebsiteService();
  const fetcher = createSafeFetcher({
    allowlist: config.CONTENT_FETCH_ALLOWLIST,
    timeoutMs: config.CONTENT_FETCH_TIMEOUT_MS,
    maximumBytes: config.CONTENT_FETCH_MAX_BYTES,
    perHostConcurrency: config.CONTENT_FETCH_PER_HOST_CONCURRENCY,
    resolveHost: overrides.resolveHost,
  });
  const reader = createPageReader(config, fetcher);
  let analysisService: WebsiteAnalysisService | undefined;
  const app = await startSubgraphApp({
    name: 'content-service',
    config,
    entities: [Website, WebPage, ContentChunk],
    migrations,
    buildSchema: ({ database, redis, logger }) => {
      const usageReporter = createLlmUsageReporter({ redis, service: 'content-service', logger });
      const llm = createLlmFromConfig(config, {
        redis,
        logger,
        onUsage: (record) => (record.attribution ? usageReporter.report(record.attribution, record) : undefined),
      });
      analysisService = new WebsiteAnalysisService({
        database,
        crawler: createSiteCrawler({ fetcher, reader, maximumPages: config.CONTENT_MAX_PAGES, sleep: overrides.crawlSleep }),
        llm,
        singleFlight: new AnalysisSingleFlight({ redis, logger }),
        logger,
        ttlMs: config.CONTENT_ANALYSIS_TTL_SECONDS * 1000,
        now: overrides.now,
      });
      const resolvers = new Map<Function, object>([
        [WebsiteResolver, new WebsiteResolver(websiteService, analysisService)],
        [CompanyWebsiteResolver, new CompanyWebsiteResolver(websiteService)],
      ]);
      return buildContentSchema({ get: (resolverClass) => resolvers.get(resolverClass) }, websiteService);
    },
    createLoaders: createContentLoaders,
    logger: overrides.logger,
    onQuery: overrides.onQuery,
  });
  return {
    ...app,
    services: { websites: websiteService, analysis: analysisService! },
    async close() {
      await app.close();
      await Promise.allSettled([reader.close?.(), fetcher.close()]);
    },
  };
}
