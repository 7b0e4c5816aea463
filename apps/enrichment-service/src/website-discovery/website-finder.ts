import { FetchAllowlist, FetchFailure, normalizeWebsiteUrl, websiteAddressRefusal, type SafeFetcher } from '@gtm/runtime';
import { LRUCache } from 'lru-cache';
import { emailDomainOf, isPersonalMailDomain } from '../enrichment-record/record-identity.js';
import { WebsiteSource, type WebsiteCandidate, type WebsiteEvidence } from '../enrichment-record/enrichment-results.js';
import type { WebSearch, WebSearchAnswer } from '../web-search/index.js';
import { readCompanyPage, type CompanyPage } from './company-page.js';
import { matchCompanyPage, type CompanyIdentity, type PageMatch } from './company-match.js';
import { isDirectoryHost } from './directory-sites.js';
import { SearchCache } from './search-cache.js';

/** What the WEBSITE step reads of a record. */
export interface WebsiteQuestion extends CompanyIdentity {
  website: string | null;
  email: string | null;
}

export type WebsiteFinding =
  | { found: true; website: string; domain: string; source: WebsiteSource; confidence: number; evidence: WebsiteEvidence | null; costUsd: number; note: string | null }
  | { found: false; reason: string; evidence: WebsiteEvidence | null; costUsd: number; overBudget?: boolean };

export interface WebsiteFinderOptions {
  search: WebSearch;
  fetcher: SafeFetcher;
  cache: SearchCache;
  /** Search results checked at most, directories aside. Default: 3. */
  maximumCandidates?: number;
  /** Private hosts that may be fetched (`CONTENT_FETCH_ALLOWLIST`), so a row's website on one is not refused by its spelling. Default: none. */
  allowlist?: readonly string[];
}

export interface FindWebsiteOptions {
  tenantId: string;
  signal?: AbortSignal;
  /** Whether the record's budget allows spending this much more. */
  canSpend: (usd: number) => boolean;
}

const domainOf = (url: string) => new URL(url).hostname.replace(/^www\./, '');
const pageTypes = ['text/html', 'application/xhtml+xml'];

/**
 * The WEBSITE step: the record's own website when it has a usable one; else its work email's domain
 * when that site names the company; else a web search, whose results are checked one by one — a
 * directory or social site is never taken, and a candidate counts only when its pages show the
 * company's name with its phone or its town (`matchCompanyPage`). The first hit is never taken on
 * trust, and every candidate's verdict is kept as evidence.
 */
export class WebsiteFinder {
  private readonly maximumCandidates: number;
  private readonly allowlist: FetchAllowlist;
  /** Candidate pages read lately, by tenant and URL (`readPage`). */
  private readonly pages = new LRUCache<string, CompanyPage>({ max: 2_000, ttl: 10 * 60_000 });
  /** Searches on the wire, by tenant and query: records asking the same at once share one. */
  private readonly searches = new Map<string, Promise<WebSearchAnswer>>();

  constructor(private readonly options: WebsiteFinderOptions) {
    this.maximumCandidates = options.maximumCandidates ?? 3;
    this.allowlist = new FetchAllowlist(options.allowlist ?? []);
  }

  async find(question: WebsiteQuestion, options: FindWebsiteOptions): Promise<WebsiteFinding> {
    const given = this.givenWebsite(question.website);
    if (given.usable) return { found: true, website: given.website, domain: domainOf(given.website), source: WebsiteSource.INPUT, confidence: 1, evidence: null, costUsd: 0, note: null };
    const notes = given.note ? [given.note] : [];

    const emailDomain = emailDomainOf(question.email);
    if (emailDomain && !isPersonalMailDomain(emailDomain) && !isDirectoryHost(emailDomain) && question.name) {
      const candidate = await this.check(`https://${emailDomain}`, question, options, { nameSuffices: true });
      if (candidate.match?.confirmed) {
        const evidence: WebsiteEvidence = { query: null, provider: null, candidates: [candidate.verdict], skipped: [] };
        return { found: true, website: normalizeWebsiteUrl(candidate.url), domain: emailDomain, source: WebsiteSource.EMAIL, confidence: candidate.match.confidence, evidence, costUsd: 0, note: notes.join(' ') || null };
      }
      notes.push(`The email's domain ${emailDomain} ${candidate.verdict.reason}.`);
    }

    if (!question.name) return { found: false, reason: [...notes, 'No usable website and no company name to search for: give one of them.'].join(' '), evidence: null, costUsd: 0 };
    const query = [question.name, question.city, question.region].filter(Boolean).join(' ');
    const key = SearchCache.keyOf(query, 10);
    const flightKey = `${options.tenantId}\u0000${key}`;
    let answer: WebSearchAnswer | null;
    const inFlight = this.searches.get(flightKey);
    if (inFlight) {
      // The same query for another record, being paid for right now: shared, and free for this one.
      answer = { ...(await inFlight), costUsd: 0 };
    } else {
      answer = await this.options.cache.get(options.tenantId, key);
      if (!answer) {
        if (!options.canSpend(this.options.search.costPerQueryUsd)) {
          return { found: false, overBudget: true, reason: [...notes, `A web search (${formatUsd(this.options.search.costPerQueryUsd)}) would go over the record's budget.`].join(' '), evidence: null, costUsd: 0 };
        }
        const searching = this.searchOnce(query, options.signal).then(async (found) => {
          await this.options.cache.put(options.tenantId, key, found);
          return found;
        });
        this.searches.set(flightKey, searching);
        try {
          answer = await searching;
        } finally {
          this.searches.delete(flightKey);
        }
      }
    }
    return this.pickCandidate(question, answer, notes, options);
  }

  private givenWebsite(website: string | null): { usable: true; website: string } | { usable: false; note: string | null } {
    if (!website?.trim()) return { usable: false, note: null };
    let normalized: string;
    try {
      normalized = normalizeWebsiteUrl(website);
    } catch {
      return { usable: false, note: `"${website.slice(0, 100)}" is not a website address.` };
    }
    const host = new URL(normalized).hostname.replace(/^www\./, '');
    if (isDirectoryHost(host)) return { usable: false, note: `${host} is a directory or social site, not the company's own website.` };
    // An address the analysis would always refuse (a private or metadata address, `localhost`) is
    // no company's public website: said now, and searched for instead.
    const refusal = websiteAddressRefusal(new URL(normalized), this.allowlist);
    if (refusal) return { usable: false, note: `The row's website is refused: ${refusal}` };
    return { usable: true, website: normalized };
  }

  private async searchOnce(query: string, signal: AbortSignal | undefined): Promise<WebSearchAnswer> {
    return this.options.search.search({ query, count: 10, signal });
  }

  private async pickCandidate(question: WebsiteQuestion, answer: WebSearchAnswer, notes: string[], options: Pick<FindWebsiteOptions, 'tenantId' | 'signal'>): Promise<WebsiteFinding> {
    const skipped: string[] = [];
    const candidates: string[] = [];
    const seenHosts = new Set<string>();
    for (const result of answer.results) {
      let url: URL;
      try {
        url = new URL(result.url);
      } catch {
        continue;
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:') continue;
      const host = url.hostname.replace(/^www\./, '');
      if (isDirectoryHost(host)) {
        if (!skipped.includes(host)) skipped.push(host);
        continue;
      }
      if (seenHosts.has(host) || candidates.length >= this.maximumCandidates) continue;
      seenHosts.add(host);
      candidates.push(url.href);
    }
    const verdicts: WebsiteCandidate[] = [];
    let best: { url: string; match: PageMatch } | null = null;
    for (const candidate of candidates) {
      const checked = await this.check(candidate, question, options, { nameSuffices: false });
      verdicts.push(checked.verdict);
      if (checked.match?.confirmed && (!best || checked.match.confidence > best.match.confidence)) best = { url: checked.url, match: checked.match };
      // Name, phone and place together: no other candidate can beat it.
      if (best && best.match.confidence >= 0.95) break;
    }
    const evidence: WebsiteEvidence = { query: answer.query, provider: answer.provider, candidates: verdicts, skipped };
    if (best) {
      const website = normalizeWebsiteUrl(new URL(best.url).origin);
      for (const verdict of verdicts) verdict.accepted = verdict.url === best.url;
      return { found: true, website, domain: domainOf(website), source: WebsiteSource.SEARCH, confidence: best.match.confidence, evidence, costUsd: answer.costUsd, note: notes.join(' ') || null };
    }
    const checkedCount = verdicts.length;
    const why =
      answer.results.length === 0
        ? `A web search for "${answer.query}" found nothing.`
        : checkedCount === 0
          ? `A web search for "${answer.query}" found only directory and social sites (${skipped.slice(0, 4).join(', ')}).`
          : `A web search for "${answer.query}" found no site that is clearly the company's: ${verdicts.map((verdict) => `${new URL(verdict.url).hostname} ${verdict.reason}`).join('; ')}.`;
    return { found: false, reason: [...notes, why, 'Add the website to the row if you know it.'].join(' '), evidence, costUsd: answer.costUsd };
  }

  /** Fetches a candidate (and its home page, when the result was another page) and matches it. */
  private async check(
    url: string,
    question: WebsiteQuestion,
    scope: Pick<FindWebsiteOptions, 'tenantId' | 'signal'>,
    options: { nameSuffices: boolean },
  ): Promise<{ url: string; match: PageMatch | null; verdict: WebsiteCandidate }> {
    const { signal } = scope;
    const pages = [url];
    const home = new URL(url).origin + '/';
    if (home !== url) pages.push(home);
    let last: PageMatch | null = null;
    let failure: string | null = null;
    for (const pageUrl of pages) {
      let page: CompanyPage;
      try {
        page = await this.readPage(pageUrl, scope);
      } catch (error) {
        if (signal?.aborted) throw error;
        if (!(error instanceof FetchFailure)) throw error;
        failure = error.kind === 'refused' ? `is refused (${error.message})` : `could not be read (${error.message})`;
        continue;
      }
      let match = matchCompanyPage(question, page);
      // An email's own domain that names the company is the company's: the email ties them.
      if (options.nameSuffices && !match.confirmed && match.matched.includes('name')) match = { ...match, confirmed: true, confidence: 0.75, reason: "names the company, and the row's work email is at this domain" };
      if (match.confirmed) return { url, match, verdict: { url, accepted: true, matched: match.matched, reason: match.reason } };
      if (!last || match.matched.length > last.matched.length) last = match;
    }
    const reason = last?.reason ?? failure ?? 'could not be read';
    return { url, match: last, verdict: { url, accepted: false, matched: last?.matched ?? [], reason } };
  }

  /**
   * A page fetched and read, or the same page read for another record of the tenant a moment ago:
   * the branches of one company, or a list that names a company on several rows, fetch and parse its
   * site once. Only pages read are kept (a failure is tried again), and only briefly.
   */
  private async readPage(url: string, scope: Pick<FindWebsiteOptions, 'tenantId' | 'signal'>): Promise<CompanyPage> {
    const key = `${scope.tenantId}\u0000${url}`;
    const known = this.pages.get(key);
    if (known) return known;
    const fetched = await this.options.fetcher.fetch(url, { accept: pageTypes, signal: scope.signal });
    const page = readCompanyPage(fetched.body, fetched.url);
    this.pages.set(key, page);
    return page;
  }
}

function formatUsd(usd: number): string {
  return `$${usd.toFixed(4).replace(/0+$/, '').replace(/\.$/, '')}`;
}

