import { callerTokenHeader } from '@gtm/caller';
import { forwardedRequestId } from '@gtm/runtime';
import { bulkhead, type BulkheadPolicy } from 'cockatiel';
import { Agent, request, type Dispatcher } from 'undici';
import { z } from 'zod';

/** A passage of the website, ranked for one of the searches enrichment asks. */
export interface WebsitePassage {
  text: string;
  pageUrl: string;
  heading: string;
  score: number;
}

/** What enrichment reads of a website's analysis. */
export interface WebsiteAnalysis {
  url: string;
  domain: string;
  title: string | null;
  summary: string | null;
  /** SUFFICIENT, PARTIAL, INSUFFICIENT or MISSING. */
  qualityLevel: string;
  qualityScore: number;
  emails: string[];
  phones: string[];
  socialLinks: Array<{ network: string; url: string }>;
  teamMembers: Array<{ name: string; title: string; pageUrl: string; email: string | null; phone: string | null; linkedinUrl: string | null }>;
  pages: Array<{ url: string; title: string | null; kind: string }>;
  /** Passages per search, best first, each passage once across all searches. */
  passages: WebsitePassage[];
}

/** content-service could not be asked (down, timed out, refused the token, answered garbage): worth retrying. */
export class ContentServiceError extends Error {
  override readonly name = 'ContentServiceError';
  readonly isRetryable: boolean;
  constructor(message: string, options: { cause?: unknown; retryable?: boolean } = {}) {
    super(message, { cause: options.cause });
    this.isRetryable = options.retryable ?? true;
  }
}

/** content-service answered, but the website itself could not be analysed: not worth retrying now. */
export class WebsiteUnreadableError extends Error {
  override readonly name = 'WebsiteUnreadableError';
  readonly isRetryable = false;
}

/**
 * What personalisation and qualification look for on a company's site: its story, what it sells,
 * who it serves, and what it is proud of (awards, community, years in business).
 */
export const passageQueries = [
  'about us our story family owned founded years',
  'services products we offer specialize',
  'customers reviews testimonials',
  'community award news proud',
] as const;

const nullableString = z.string().nullish().transform((value) => value ?? null);
const websiteSchema = z.object({
  url: z.string(),
  domain: z.string(),
  title: nullableString,
  summary: nullableString,
  quality: z.object({ level: z.string(), score: z.number() }),
  contacts: z.object({ emails: z.array(z.string()), phones: z.array(z.string()), socialLinks: z.array(z.object({ network: z.string(), url: z.string() })) }),
  teamMembers: z.array(z.object({ name: z.string(), title: z.string(), pageUrl: z.string(), email: nullableString, phone: nullableString, linkedinUrl: nullableString })),
  pages: z.array(z.object({ url: z.string(), title: nullableString, kind: z.string() })),
  ...Object.fromEntries(passageQueries.map((_query, index) => [`s${index}`, z.array(z.object({ text: z.string(), pageUrl: z.string(), heading: z.string(), score: z.number() }))])),
});

const answerSchema = z.object({
  data: z.record(z.string(), z.unknown()).nullish(),
  errors: z.array(z.object({ message: z.string(), extensions: z.looseObject({ code: z.string().optional() }).optional() })).optional(),
});

const analysisMutation = `mutation EnrichmentWebsiteAnalysis($url: String!, $limit: Int!, ${passageQueries.map((_query, index) => `$q${index}: String!`).join(', ')}) {
  analyzeWebsite(url: $url) {
    url domain title summary quality { level score }
    contacts { emails phones socialLinks { network url } }
    teamMembers { name title pageUrl email phone linkedinUrl }
    pages { url title kind }
    ${passageQueries.map((_query, index) => `s${index}: search(query: $q${index}, limit: $limit) { text pageUrl heading score }`).join('\n    ')}
  }
}`;

export interface WebsiteAnalysisClientOptions {
  /** content-service's GraphQL endpoint (`CONTENT_SERVICE_URL`). */
  url: string;
  /** Longest one analysis may take, a first crawl included (`CONTENT_SERVICE_TIMEOUT_MS`). */
  timeoutMs: number;
  /** Analyses asked of content-service at once from this process; more wait (`CONTENT_SERVICE_MAX_CONCURRENCY`). */
  maxConcurrency: number;
  /** Passages per search. Default: 4. */
  passagesPerSearch?: number;
  /** The connections to content-service. Default: a keep-alive pool of this client's own. */
  dispatcher?: Dispatcher;
}

/**
 * content-service's `analyzeWebsite` as enrichment uses it, with the caller's (delegated) token: a
 * site analysed within content-service's TTL comes back from its store without a crawl, and
 * concurrent asks for one site share one crawl there. One mutation reads everything enrichment
 * needs: the analysis, contacts, team and the passages of `passageQueries`.
 */
export class WebsiteAnalysisClient {
  private readonly slots: BulkheadPolicy;
  // undici's request on a keep-alive pool rather than the global fetch: one call per record, and
  // WHATWG fetch's Request, web streams and signals cost several times the CPU of the call itself.
  private readonly dispatcher: Dispatcher;

  constructor(private readonly options: WebsiteAnalysisClientOptions) {
    this.slots = bulkhead(options.maxConcurrency, Number.MAX_SAFE_INTEGER);
    this.dispatcher = options.dispatcher ?? new Agent({ keepAliveTimeout: 30_000 });
  }

  async analyze(callerToken: string, url: string, signal?: AbortSignal): Promise<WebsiteAnalysis> {
    const variables: Record<string, unknown> = { url, limit: this.options.passagesPerSearch ?? 4 };
    passageQueries.forEach((query, index) => (variables[`q${index}`] = query));
    const answer = await this.slots.execute(() => this.post(callerToken, { query: analysisMutation, variables }, signal), signal);
    const error = answer.errors?.[0];
    if (error) {
      const code = error.extensions?.code;
      // The website's own failures come with these codes (content-service's FetchFailure).
      if (code === 'UPSTREAM_UNAVAILABLE' || code === 'FORBIDDEN' || code === 'BAD_USER_INPUT') throw new WebsiteUnreadableError(error.message);
      if (code === 'UNAUTHENTICATED') throw new ContentServiceError('content-service refused the job’s authorisation (it expires 24 h after the job was created); start the job again.', { retryable: false });
      throw new ContentServiceError(`content-service could not analyse the website: ${error.message}`);
    }
    const parsed = websiteSchema.safeParse(answer.data?.['analyzeWebsite']);
    if (!parsed.success) throw new ContentServiceError(`content-service answered an analysis without a valid ${parsed.error.issues[0]!.path.join('.') || 'shape'}`);
    const website = parsed.data as z.infer<typeof websiteSchema> & Record<string, WebsitePassage[]>;
    const seen = new Set<string>();
    const passages: WebsitePassage[] = [];
    for (const [index] of passageQueries.entries()) {
      for (const passage of website[`s${index}`] ?? []) {
        const key = `${passage.pageUrl}\u0000${passage.text}`;
        if (seen.has(key)) continue;
        seen.add(key);
        passages.push(passage);
      }
    }
    return {
      url: website.url,
      domain: website.domain,
      title: website.title,
      summary: website.summary,
      qualityLevel: website.quality.level,
      qualityScore: website.quality.score,
      emails: website.contacts.emails,
      phones: website.contacts.phones,
      socialLinks: website.contacts.socialLinks,
      teamMembers: website.teamMembers,
      pages: website.pages,
      passages,
    };
  }

  private async post(callerToken: string, body: unknown, signal: AbortSignal | undefined) {
    let response: Dispatcher.ResponseData;
    const timeout = AbortSignal.timeout(this.options.timeoutMs);
    try {
      response = await request(this.options.url, {
        dispatcher: this.dispatcher,
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json', [callerTokenHeader]: callerToken, ...forwardedRequestId() },
        body: JSON.stringify(body),
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
    } catch (error) {
      if (signal?.aborted) throw error;
      throw new ContentServiceError(`content-service did not answer: ${(error as Error).message}`, { cause: error });
    }
    if (response.statusCode === 401) {
      await response.body.dump();
      throw new ContentServiceError('content-service refused the job’s authorisation (it expires 24 h after the job was created); start the job again.', { retryable: false });
    }
    const parsed = answerSchema.safeParse(await response.body.json().catch(() => undefined));
    if (!parsed.success) throw new ContentServiceError(`content-service answered ${response.statusCode} with something other than a GraphQL response`);
    return parsed.data;
  }
}
