// What the campaign stack tests share: the Northwind fixture site served locally, its pages' text,
// and the GraphQL they send.
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { startFixtureSite, type FixtureSite } from '@gtm/testing';

const northwindFolder = fileURLToPath(new URL('../../apps/content-service/fixtures/northwind-site/', import.meta.url));

/** The Northwind Ledger fixture site (content-service's), on its own port. */
export function startNorthwindSite(): Promise<FixtureSite> {
  return startFixtureSite(northwindFolder);
}

/** Each page's words (its text and its meta description), lower-case, by path (`/`, `/pricing` …). */
export function northwindWordsByPath(): Map<string, Set<string>> {
  const pages = new Map<string, Set<string>>();
  for (const file of readdirSync(northwindFolder, { recursive: true, encoding: 'utf8' })) {
    if (!file.endsWith('.html')) continue;
    const source = readFileSync(`${northwindFolder}${file}`, 'utf8');
    // What a reader and the analysis see: the text, and the page's title and description.
    const metadata = [...source.matchAll(/<meta[^>]+content="([^"]*)"/gi)].map((match) => match[1]).join(' ');
    const html = `${source} ${metadata}`
      .replace(/<script[\s\S]*?<\/script>|<style[\s\S]*?<\/style>/gi, ' ')
      .replace(/<[^>]+>/g, ' ')
      .replace(/&amp;/g, '&')
      .replace(/&#39;|&rsquo;/g, "'");
    const path = file === 'index.html' ? '/' : `/${file.replace(/\.html$/, '')}`;
    pages.set(path, new Set(wordsOf(html)));
  }
  return pages;
}

export const wordsOf = (text: string) => text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];

/** A port nothing listens on. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export const createCampaign = `mutation ($input: CreateCampaignInput!) { createCampaign(input: $input) { id } }`;

export const assetStatusFields = 'kind state version confidence weak provider model origin promptVersion generatedAt sources { url quote } basedOn { kind version } websiteAnalyzedAt passageCount instructions warnings error staleReason';

export const campaignFields = `
  id websiteUrl websiteError
  website { url analyzedAt quality { level score gaps } }
  productOverview { companyName description keyFeatures useCases painPoints customerProfiles differentiators pricing }
  targetCompany { name description firmographics { industries employeeRange revenueRange geographies businessModel fundingStage keywords } buyingSignals { title description type priority detectionMethod } disqualifiers rationale }
  targetPersona { name description jobTitles departments seniority buyingRoles useCases { useCase painPoints capability desiredOutcome } goals objections buyingSignals purchaseJourney }
  positioning { uniqueInsight valuePropositions { theme description evidence } differentiators competitiveAlternatives }
  emailSequence { emails { step delayDays subject subjectAlternatives body purpose } }
  assets { ${assetStatusFields} }
  corrections { kind scope fieldPath value instructions beforeVersion afterVersion staleKinds createdAt }
`;

export interface AssetStatus {
  kind: string;
  state: string;
  version: number | null;
  confidence: number | null;
  weak: boolean;
  provider: string | null;
  model: string | null;
  origin: string | null;
  generatedAt: string | null;
  sources: { url: string; quote: string }[];
  basedOn: { kind: string; version: number }[];
  websiteAnalyzedAt: string | null;
  passageCount: number;
  instructions: string | null;
  warnings: string[];
  error: string | null;
  staleReason: string | null;
}

export const statusOf = (campaign: { assets: AssetStatus[] }, kind: string): AssetStatus => campaign.assets.find((asset) => asset.kind === kind)!;
