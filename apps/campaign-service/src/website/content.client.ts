import { GraphQLUpstream, UpstreamError, type UpstreamAnswer } from '@gtm/runtime';
import DataLoader from 'dataloader';
import { z } from 'zod';
import type { WebsitePassage } from '../assets/index.js';
import { ContentServiceError, WebsiteAnalysisError, type WebsiteContext, type WebsiteContextSource, type WebsiteQuality } from './website-context.js';

export interface ContentClientOptions {
  /** content-service's GraphQL endpoint (`CONTENT_SERVICE_URL`). */
  url: string;
  /** Longest one call may take, an analysis included (`CONTENT_SERVICE_TIMEOUT_MS`). */
  timeoutMs: number;
  /** Passages asked per search. Default: 6. */
  searchLimit?: number;
}

/** One search of one website: the DataLoader's key. */
interface SearchKey {
  url: string;
  query: string;
}

/** What one round trip brought back for one website. */
interface WebsiteAnswer {
  url: string;
  title: string | null;
  summary: string | null;
  analyzedAt: string | null;
  quality: WebsiteQuality;
  searches: Record<string, WebsitePassage[]>;
}

// content-service's answers are checked here, at the boundary: what passes is typed, and anything
// else is content-service's failure (ContentServiceError), never a half-read website.
const passagesSchema = z.array(z.object({ text: z.string(), pageUrl: z.string(), heading: z.string(), score: z.number() })).nullish();

const websiteSchema = z.object({
  url: z.string(),
  title: z.string().nullish(),
  summary: z.string().nullish(),
  analyzedAt: z.iso.datetime({ offset: true }).nullish(),
  quality: z.object({ level: z.string(), score: z.number(), gaps: z.array(z.string()) }).nullish(),
});

const websiteFields = 'url title summary analyzedAt quality { level score gaps }';

/**
 * content-service's API as campaign generation uses it: the website's analysis and its passages,
 * read by entity reference (`_entities` with `{ __typename: "Website", url }`) with the caller's
 * own signed token, which this service forwards and can never mint (decision 0004).
 */
export class ContentClient {
  private readonly searchLimit: number;
  private readonly upstream: GraphQLUpstream;

  constructor(options: ContentClientOptions) {
    this.searchLimit = options.searchLimit ?? 6;
    this.upstream = new GraphQLUpstream({ service: 'content-service', url: options.url, timeoutMs: options.timeoutMs });
  }

  /**
   * A source for one request. Its searches go through a DataLoader: every search asked in one tick
   * (all the passages of a generation) becomes one `_entities` request with one aliased `search`
   * per query, and a query asked twice is sent once.
   */
  forCaller(callerToken: string | undefined): WebsiteContextSource {
    const loader = new DataLoader<SearchKey, { website: WebsiteAnswer; passages: WebsitePassage[] }, string>(
      async (keys) => {
        const byUrl = new Map<string, string[]>();
        for (const key of keys) byUrl.set(key.url, [...(byUrl.get(key.url) ?? []), key.query]);
        const answers = new Map(await Promise.all([...byUrl].map(async ([url, queries]) => [url, await this.describe(callerToken, url, queries)] as const)));
        return keys.map((key) => {
          const website = answers.get(key.url)!;
          return { website, passages: website.searches[key.query] ?? [] };
        });
      },
      { cacheKeyFn: (key) => `${key.url}\u0000${key.query}` },
    );
    return {
      load: async (websiteUrl, queries) => {
        const found = await loader.loadMany(queries.map((query) => ({ url: websiteUrl, query })));
        const failure = found.find((result): result is Error => result instanceof Error);
        if (failure) throw failure;
        const [first] = found as Array<{ website: WebsiteAnswer }>;
        let website = first?.website ?? (await this.describe(callerToken, websiteUrl, []));
        if (website.analyzedAt === null) {
          // Never analysed for this tenant: analyse it now and read the passages in the same call.
          website = await this.analyze(callerToken, websiteUrl, queries);
          for (const query of queries) loader.clear({ url: websiteUrl, query }).prime({ url: websiteUrl, query }, { website, passages: website.searches[query] ?? [] });
        }
        return toContext(website, queries);
      },
    };
  }

  private async describe(callerToken: string | undefined, url: string, queries: readonly string[]): Promise<WebsiteAnswer> {
    const { variables, declarations, selections } = this.searchSelections(queries);
    const query = `query CampaignWebsiteContext($representations: [_Any!]!${declarations}) {
      _entities(representations: $representations) { ... on Website { ${websiteFields} ${selections} } }
    }`;
    const answer = await this.post(callerToken, query, { representations: [{ __typename: 'Website', url }], ...variables });
    if (answer.errors?.length) throw new ContentServiceError(`content-service refused the website lookup: ${answer.errors[0]!.message}`);
    const entities = z.array(z.unknown()).safeParse(answer.data?.['_entities']);
    const website = entities.success ? entities.data[0] : undefined;
    if (!website) throw new ContentServiceError(`content-service does not know ${url} as a website`);
    return readWebsite(website, queries);
  }

  private async analyze(callerToken: string | undefined, url: string, queries: readonly string[]): Promise<WebsiteAnswer> {
    const { variables, declarations, selections } = this.searchSelections(queries);
    const query = `mutation CampaignWebsiteAnalysis($url: String!${declarations}) {
      analyzeWebsite(url: $url) { ${websiteFields} ${selections} }
    }`;
    const answer = await this.post(callerToken, query, { url, ...variables });
    const error = answer.errors?.[0];
    if (error) {
      const code = error.extensions?.code;
      // The site's own failures come with these codes (content-service's FetchFailure); anything
      // else is the service's, not the website's.
      if (code === 'UPSTREAM_UNAVAILABLE') throw new WebsiteAnalysisError('UNREACHABLE', error.message);
      if (code === 'FORBIDDEN' || code === 'BAD_USER_INPUT') throw new WebsiteAnalysisError('UNREADABLE', error.message);
      throw new ContentServiceError(`content-service could not analyse the website: ${error.message}`);
    }
    const website = answer.data?.['analyzeWebsite'];
    if (!website) throw new ContentServiceError('content-service answered the analysis without a website');
    return readWebsite(website, queries);
  }

  /** One aliased `search` per query (`s0`, `s1` …), with their variables. */
  private searchSelections(queries: readonly string[]) {
    const variables: Record<string, unknown> = { limit: this.searchLimit };
    const declarations = [', $limit: Int!'];
    const selections: string[] = [];
    for (const [index, query] of queries.entries()) {
      variables[`q${index}`] = query;
      declarations.push(`, $q${index}: String!`);
      selections.push(`s${index}: search(query: $q${index}, limit: $limit) { text pageUrl heading score }`);
    }
    return { variables, declarations: declarations.join(''), selections: selections.join(' ') };
  }

  private async post(callerToken: string | undefined, query: string, variables: Record<string, unknown>): Promise<UpstreamAnswer> {
    try {
      return await this.upstream.post(callerToken, query, variables);
    } catch (error) {
      if (error instanceof UpstreamError) throw new ContentServiceError(error.message, { cause: error });
      throw error;
    }
  }
}

/** The website as content-service answered it, its searches under their aliases (`s0`, `s1` …). */
function readWebsite(value: unknown, queries: readonly string[]): WebsiteAnswer {
  const schema = websiteSchema.extend(Object.fromEntries(queries.map((_query, index) => [`s${index}`, passagesSchema])));
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ContentServiceError(`content-service answered a website without a valid ${issue.path.join('.') || 'shape'} (${issue.message})`);
  }
  const website = parsed.data as z.infer<typeof websiteSchema> & Record<string, z.infer<typeof passagesSchema>>;
  const searches: Record<string, WebsitePassage[]> = {};
  for (const [index, query] of queries.entries()) {
    searches[query] = (website[`s${index}`] ?? []).map((chunk) => ({ text: chunk.text, pageUrl: chunk.pageUrl, heading: chunk.heading, score: chunk.score }));
  }
  return {
    url: website.url,
    title: website.title ?? null,
    summary: website.summary ?? null,
    analyzedAt: website.analyzedAt ?? null,
    quality: website.quality ?? { level: 'MISSING', score: 0, gaps: [] },
    searches,
  };
}

function toContext(website: WebsiteAnswer, queries: readonly string[]): WebsiteContext {
  return {
    url: website.url,
    title: website.title,
    summary: website.summary,
    analyzedAt: website.analyzedAt ? new Date(website.analyzedAt) : null,
    quality: website.quality,
    searches: Object.fromEntries(queries.map((query) => [query, website.searches[query] ?? []])),
  };
}
