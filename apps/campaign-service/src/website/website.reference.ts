/**
 * The gateway enters this subgraph with a `Website` key to fetch `campaigns`. The key is all this
 * subgraph needs, so resolving costs no query; the field's loader batches the lookups.
 */
export const websiteReference = {
  Website: {
    __resolveReference: (reference: { url?: unknown }) => ({ url: typeof reference.url === 'string' ? reference.url : '' }),
  },
};
