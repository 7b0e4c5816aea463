/**
 * The five campaign assets (API.md `AssetKind`). A string enum so type-graphql can register it as
 * the GraphQL enum of the same name and the stored value reads the same in the database.
 */
export enum AssetKind {
  PRODUCT_OVERVIEW = 'PRODUCT_OVERVIEW',
  TARGET_COMPANY = 'TARGET_COMPANY',
  TARGET_PERSONA = 'TARGET_PERSONA',
  POSITIONING = 'POSITIONING',
  EMAIL_SEQUENCE = 'EMAIL_SEQUENCE',
}

/** Every kind, in the order they are built (each after everything it depends on). */
export const assetKinds: readonly AssetKind[] = [
  AssetKind.PRODUCT_OVERVIEW,
  AssetKind.TARGET_COMPANY,
  AssetKind.TARGET_PERSONA,
  AssetKind.POSITIONING,
  AssetKind.EMAIL_SEQUENCE,
];

// Direct prerequisites only: what a task reads from `context.prerequisites`. Positioning needs the
// persona (whose problems it speaks to) and the product (what it can claim); the email sequence
// needs the positioning (its messages), the persona (who it writes to) and the product (pain
// points and the company name). The transitive closure is computed, never listed twice.
const directPrerequisites: Record<AssetKind, readonly AssetKind[]> = {
  [AssetKind.PRODUCT_OVERVIEW]: [],
  [AssetKind.TARGET_COMPANY]: [AssetKind.PRODUCT_OVERVIEW],
  [AssetKind.TARGET_PERSONA]: [AssetKind.PRODUCT_OVERVIEW, AssetKind.TARGET_COMPANY],
  [AssetKind.POSITIONING]: [AssetKind.PRODUCT_OVERVIEW, AssetKind.TARGET_PERSONA],
  [AssetKind.EMAIL_SEQUENCE]: [AssetKind.PRODUCT_OVERVIEW, AssetKind.TARGET_PERSONA, AssetKind.POSITIONING],
};

/** The assets this kind's task reads directly, in build order. */
export function prerequisitesOf(kind: AssetKind): readonly AssetKind[] {
  return directPrerequisites[kind];
}

/** Every asset this kind is built on, directly or not, in build order (itself excluded). */
export function transitivePrerequisitesOf(kind: AssetKind): AssetKind[] {
  const needed = new Set<AssetKind>();
  const visit = (current: AssetKind) => {
    for (const prerequisite of directPrerequisites[current]) {
      if (needed.has(prerequisite)) continue;
      needed.add(prerequisite);
      visit(prerequisite);
    }
  };
  visit(kind);
  return assetKinds.filter((candidate) => needed.has(candidate));
}

/**
 * The kinds to build so that `kinds` can be built, prerequisites included, each after everything
 * it depends on (a topological order of the dependency graph). Default: every kind.
 */
export function buildOrderOf(kinds: readonly AssetKind[] = assetKinds): AssetKind[] {
  const wanted = new Set<AssetKind>();
  for (const kind of kinds) {
    wanted.add(kind);
    for (const prerequisite of transitivePrerequisitesOf(kind)) wanted.add(prerequisite);
  }
  return assetKinds.filter((kind) => wanted.has(kind));
}

/**
 * Every asset built on this kind, directly or not, in build order: what becomes STALE when this
 * kind is corrected or regenerated.
 */
export function dependentsOf(kind: AssetKind): AssetKind[] {
  return assetKinds.filter((candidate) => transitivePrerequisitesOf(candidate).includes(kind));
}

// Queries for Website.search: each one names what the asset needs in the words a website uses
// for it, so the ranked passages cover every field (a single query would bring back only the
// hero section). Kept short: the content service ranks by overlap, not by prose.
const retrievalQueries: Record<AssetKind, readonly string[]> = {
  [AssetKind.PRODUCT_OVERVIEW]: [
    'what the product does and who it is for',
    'features capabilities how it works',
    'pricing plans per month free trial',
    'customers trusted by case studies logos',
    'problems challenges it solves',
    'why choose us compared to alternatives',
  ],
  [AssetKind.TARGET_COMPANY]: [
    'who our customers are industries companies teams',
    'customers trusted by case studies logos',
    'company size startups enterprise B2B',
    'integrations tech stack tools',
    'hiring growth funding scale compliance security',
  ],
  [AssetKind.TARGET_PERSONA]: [
    'roles job titles teams who use it',
    'testimonials what customers say head of lead manager',
    'goals outcomes results improve reduce',
    'concerns security onboarding setup time',
    'book a demo free trial get started talk to us',
  ],
  [AssetKind.POSITIONING]: [
    'why us differentiators unique approach',
    'compared to traditional tools in-house alternatives',
    'results metrics percent faster saved',
    'testimonials what customers say',
  ],
  [AssetKind.EMAIL_SEQUENCE]: [
    'problems pain points challenges',
    'results customer proof testimonials',
    'book a demo get started call',
  ],
};

/** The Website.search queries whose passages this kind's task is given, most important first. */
export function retrievalQueriesOf(kind: AssetKind): readonly string[] {
  return retrievalQueries[kind];
}
