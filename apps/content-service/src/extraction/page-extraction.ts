// Website extraction, pure and synchronous, no network and no model. For each fetched page
// extractPage(html, url); once the site's pages are known (home page first), removeRepeatedBlocks
// over all of them; then chunkPages, extractiveSummary and findSiteFacts on the cleaned pages.
import { pageKindOf, type PageKind } from '../crawl/page-kind.js';
import { findContactDetails, type ContactDetails } from './contact-details.js';
import { parseDocument } from './html-document.js';
import { readMainContent, type MainContent } from './main-content.js';
import { absoluteHttpUrl, findMetadataElements, readMetadata, type PageMetadata } from './page-metadata.js';
import type { PageSection } from './page-section.js';
import { surveyDocument, type PageSurvey } from './page-survey.js';
import { attachMemberContactLinks, findTeamMembers, type TeamMember } from './team-members.js';
import { detectTechnologies, type DetectedTechnology } from './technology-fingerprints.js';

export type { PageBlock, PageSection } from './page-section.js';
export type { ContactDetails, SocialNetwork } from './contact-details.js';
export type { TeamMember } from './team-members.js';
export type { DetectedTechnology } from './technology-fingerprints.js';
export type { PageMetadata } from './page-metadata.js';

/**
 * What one page says and shows, read from its HTML alone (no network, no model). From the head
 * (PageMetadata): `title`, `description`, `language`, `canonicalUrl`, `openGraph`, `meta`, `jsonLd`.
 */
export interface ExtractedPage extends PageMetadata {
  url: string;
  kind: PageKind;
  /** The main content's headings, in order, each (level, text) once. */
  headings: Array<{ level: number; text: string }>;
  /** The main content split at its headings, in order. */
  sections: PageSection[];
  contacts: ContactDetails;
  teamMembers: TeamMember[];
  technologies: DetectedTechnology[];
  /** Names on logo images in the main content (alt text), e.g. a "trusted by" wall of customer logos. */
  logos: string[];
  /** Absolute links to other pages of the same site (`www.` or not), without fragments, each once. */
  links: string[];
  /** Words of the main content (headings and sections). */
  wordCount: number;
  /** Which reading produced `sections`: readability's article, or the page structure minus boilerplate. */
  extractedWith: MainContent['extractedWith'];
}

const bareHost = (host: string) => host.toLowerCase().replace(/^www\./, '');

function sameSiteLinks(survey: PageSurvey, base: string, pageUrl: string): string[] {
  const page = new URL(pageUrl);
  page.hash = '';
  const site = bareHost(page.host);
  const links = new Set<string>();
  for (const { href } of survey.anchors) {
    const absolute = absoluteHttpUrl(href, base);
    if (!absolute) continue;
    const url = new URL(absolute);
    if (bareHost(url.host) !== site) continue;
    url.hash = '';
    if (url.href !== page.href) links.add(url.href);
  }
  return [...links];
}

/**
 * Reads one page: metadata, JSON-LD, contacts, technologies and links from the whole original
 * document (head and footer included), then the main content without boilerplate, split into
 * sections. `url` is the absolute URL the page was read from (after redirects): it gives the
 * page kind and resolves relative links. Never throws on malformed HTML (the result is then empty).
 */
export function extractPage(html: string, url: string): ExtractedPage {
  const document = parseDocument(html);
  const metadataElements = findMetadataElements(document);
  const metadata = readMetadata(document, url, metadataElements);
  const survey = surveyDocument(document);
  const base = absoluteHttpUrl(metadataElements.base?.getAttribute('href'), url) ?? url;
  const kind = pageKindOf(url);
  // Everything read from the whole document is read before the main content removes parts of it.
  const contacts = findContactDetails(survey, metadata.jsonLd);
  const technologies = detectTechnologies(survey, metadata.meta);
  const links = sameSiteLinks(survey, base, url);
  const content = readMainContent(document);
  return {
    url,
    kind,
    ...metadata,
    headings: content.headings,
    sections: content.sections,
    contacts,
    teamMembers: attachMemberContactLinks(document, findTeamMembers(kind, content.sections, metadata.jsonLd)),
    technologies,
    logos: content.logos,
    links,
    wordCount: content.wordCount,
    extractedWith: content.extractedWith,
  };
}
