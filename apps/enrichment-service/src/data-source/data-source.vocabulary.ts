/**
 * The controlled vocabulary of the data-source catalog: what a source can return about a record
 * (attributes) and how the catalog groups sources (categories). Planner, seed and API all speak it,
 * so a misspelt attribute in a provider's estimate fails the seed instead of silently matching
 * nothing.
 */

/** Steps of an enrichment workflow, in the order they run. */
export type AttributeGroup = 'company' | 'technographics' | 'people' | 'email' | 'verification' | 'phone' | 'signals';

export interface AttributeDefinition {
  /** Dotted name, e.g. `person.email`. */
  name: string;
  /** How a sentence names it: "work email". */
  label: string;
  group: AttributeGroup;
  /**
   * An attribute that only exists on top of another: an email can only be verified once found.
   * Its value is never counted above that of the attribute it depends on.
   */
  dependsOn?: string;
}

export const enrichmentAttributes = [
  { name: 'company.domain', label: 'company domain', group: 'company' },
  { name: 'company.industry', label: 'industry', group: 'company' },
  { name: 'company.employeeCount', label: 'employee count', group: 'company' },
  { name: 'company.revenue', label: 'revenue', group: 'company' },
  { name: 'company.location', label: 'location', group: 'company' },
  { name: 'company.funding', label: 'funding', group: 'company' },
  { name: 'company.description', label: 'description and keywords', group: 'company' },
  { name: 'company.technologies', label: 'technology stack', group: 'technographics' },
  { name: 'person.title', label: 'job title', group: 'people' },
  { name: 'person.seniority', label: 'seniority', group: 'people' },
  { name: 'person.department', label: 'department', group: 'people' },
  { name: 'person.linkedinUrl', label: 'LinkedIn URL', group: 'people' },
  { name: 'person.email', label: 'work email', group: 'email' },
  { name: 'person.emailVerified', label: 'email verification', group: 'verification', dependsOn: 'person.email' },
  { name: 'person.phone', label: 'direct phone', group: 'phone' },
  { name: 'person.mobile', label: 'mobile phone', group: 'phone' },
  { name: 'signals.hiring', label: 'hiring (job postings)', group: 'signals' },
  { name: 'signals.news', label: 'company news', group: 'signals' },
  { name: 'signals.intent', label: 'buyer intent', group: 'signals' },
  { name: 'signals.webTraffic', label: 'website traffic', group: 'signals' },
  { name: 'signals.jobChange', label: 'job changes', group: 'signals' },
  { name: 'signals.socialEngagement', label: 'social engagement', group: 'signals' },
] as const satisfies readonly AttributeDefinition[];

export type EnrichmentAttribute = (typeof enrichmentAttributes)[number]['name'];

const definitionsByName = new Map<string, AttributeDefinition>(enrichmentAttributes.map((definition) => [definition.name, definition]));

export function isEnrichmentAttribute(name: string): name is EnrichmentAttribute {
  return definitionsByName.has(name);
}

export function attributeDefinition(name: EnrichmentAttribute): AttributeDefinition {
  return definitionsByName.get(name)!;
}

/** Position in the vocabulary, so that lists of attributes always read in the same order. */
export function attributeOrder(name: EnrichmentAttribute): number {
  return enrichmentAttributes.findIndex((definition) => definition.name === name);
}

export function sortAttributes(names: Iterable<EnrichmentAttribute>): EnrichmentAttribute[] {
  return [...new Set(names)].toSorted((first, second) => attributeOrder(first) - attributeOrder(second));
}

/**
 * The catalog's categories: those of the GTM tools list (gtm-tools.csv), kept as its curator wrote
 * them so that a row of the list and a curated provider land in the same category.
 */
export const dataSourceCategories = [
  'Account Data',
  'Persona Data',
  'Contact Verification',
  'Buying Signals',
  'Web Scraping',
  'Orchestration',
  'CRM',
  'Outreach (Email)',
  'Outreach (LinkedIn)',
  'Email Infrastructure',
] as const;

export type DataSourceCategory = (typeof dataSourceCategories)[number];

/** The known category spelled as given, ignoring case and surrounding spaces; undefined when unknown. */
export function findCategory(name: string): DataSourceCategory | undefined {
  const wanted = name.trim().toLowerCase();
  return dataSourceCategories.find((category) => category.toLowerCase() === wanted);
}
