/** What a page is about, as far as a go-to-market profile cares (API.md `WebPage.kind`). */
export const pageKinds = ['HOME', 'PRODUCT', 'PRICING', 'CUSTOMERS', 'ABOUT', 'CAREERS', 'BLOG', 'OTHER'] as const;
export type PageKind = (typeof pageKinds)[number];

// Path words that name a kind, most specific first. A site's own words vary ("platform",
// "case-studies", "company"), so each kind lists the usual ones.
const kindWords: Array<[PageKind, RegExp]> = [
  ['PRICING', /^(pricing|prices|plans|plans-and-pricing|buy)$/],
  ['CUSTOMERS', /^(customers?|case-stud(y|ies)|success-stories|testimonials|clients|results)$/],
  ['CAREERS', /^(careers?|jobs|join-us|hiring|work-with-us)$/],
  ['ABOUT', /^(about|about-us|company|team|our-team|leadership|story|our-story|mission)$/],
  ['PRODUCT', /^(products?|platform|features?|solutions?|how-it-works|use-cases?|integrations?|services?|overview|security)$/],
  ['BLOG', /^(blog|news|articles?|insights|resources|press|posts?|guides?)$/],
];

/** Classifies a page by its URL path: the home page, or the first path segment that names a kind. */
export function pageKindOf(url: string): PageKind {
  const segments = new URL(url).pathname.toLowerCase().split('/').filter(Boolean).map((segment) => segment.replace(/\.(html?|php|aspx?)$/, ''));
  if (segments.length === 0 || (segments.length === 1 && /^(index|home)$/.test(segments[0]!))) return 'HOME';
  for (const segment of segments) {
    for (const [kind, words] of kindWords) if (words.test(segment)) return kind;
  }
  return 'OTHER';
}

/** How much a page of each kind tells a campaign, for choosing which pages to read. */
export const kindPriority: Record<PageKind, number> = { HOME: 100, PRODUCT: 90, PRICING: 85, CUSTOMERS: 80, ABOUT: 75, CAREERS: 50, BLOG: 30, OTHER: 10 };
