import type { CompanyReference } from './company.type.js';

/**
 * Resolves `Company` references without a query: the gateway sends the key and, for `website`,
 * the required `websiteUrl`, which is all this subgraph needs of a company.
 */
export const companyReference = {
  Company: {
    __resolveReference: (reference: { id?: unknown; websiteUrl?: unknown }): CompanyReference => ({
      id: String(reference.id),
      websiteUrl: typeof reference.websiteUrl === 'string' ? reference.websiteUrl : null,
    }),
  },
};
