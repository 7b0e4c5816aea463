import { createGroupLoader, type EntityManager } from '@gtm/runtime';
import { Website } from './website/website.entity.js';

export function createContentLoaders(em: EntityManager) {
  return {
    // Keys are normalised website URLs, not UUIDs. The unique (tenant_id, url) index means each
    // group holds at most one website; an empty key cannot match a stored one.
    websitesByUrl: createGroupLoader(em, Website, 'url', { isValidKey: (key) => key.length > 0 }),
  };
}

export type ContentLoaders = ReturnType<typeof createContentLoaders>;
