import type { CallerContext } from '@gtm/caller';
import { createGroupLoader, schemaNameFor, type EntityManager } from '@gtm/runtime';
import DataLoader from 'dataloader';
import { ContentSearchRepository, type ChunkSearch, type RankedChunk } from './chunk/content-search.repository.js';
import { WebPage } from './page/web-page.entity.js';
import { Website } from './website/website.entity.js';

const searchRepository = new ContentSearchRepository(schemaNameFor('content-service'));

export function createContentLoaders(em: EntityManager, caller: CallerContext) {
  return {
    // Keys are normalised website URLs, not UUIDs. The unique (tenant_id, url) index means each
    // group holds at most one website; an empty key cannot match a stored one.
    websitesByUrl: createGroupLoader(em, Website, 'url', { isValidKey: (key) => key.length > 0 }),
    pagesByWebsite: createGroupLoader(em, WebPage, 'websiteId', { orderBy: { position: 'asc' } }),
    // Campaigns search many websites' passages in one request (one `search` per entity
    // reference); the batch becomes one SQL query.
    chunkSearches: new DataLoader<ChunkSearch, RankedChunk[], string>((searches) => searchRepository.searchMany(em, caller.tenantId, searches), {
      cacheKeyFn: (search) => `${search.websiteId}\u0000${search.limit}\u0000${search.query}`,
      maxBatchSize: 200,
    }),
  };
}

export type ContentLoaders = ReturnType<typeof createContentLoaders>;
