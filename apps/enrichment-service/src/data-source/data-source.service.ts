import { badUserInput, tenantFilterName, type EntityManager, type SubgraphContext } from '@gtm/runtime';
import type { EnrichmentLoaders } from '../loaders.js';
import { DataSource } from './data-source.entity.js';
import { dataSourceCategories, findCategory } from './data-source.vocabulary.js';

type EnrichmentContext = SubgraphContext<EnrichmentLoaders>;

/**
 * Reads the whole catalog, sorted by slug. The catalog is shared by every tenant (decision 0015),
 * so this is the one read that turns the tenant filter off, by name and for this entity only.
 */
export function readDataSourceCatalog(em: EntityManager): Promise<DataSource[]> {
  return em.find(DataSource, {}, { filters: { [tenantFilterName]: false }, orderBy: { slug: 'asc' } });
}

export class DataSourceService {
  /** The catalog, read once per request however many fields need it. */
  async all(context: EnrichmentContext): Promise<DataSource[]> {
    return context.loaders.dataSourceCatalog();
  }

  /**
   * Sources of one category (any of their categories, case ignored), or all. An unknown category is
   * a BAD_USER_INPUT naming the known ones: an empty list would hide a typo.
   */
  async list(context: EnrichmentContext, category: string | null | undefined): Promise<DataSource[]> {
    const sources = await this.all(context);
    if (category === null || category === undefined) return sources;
    const known = findCategory(category);
    if (!known) throw badUserInput(`Unknown data-source category "${category}". Known categories: ${dataSourceCategories.join(', ')}.`, 'category');
    return sources.filter((source) => source.categories.includes(known));
  }

  async get(context: EnrichmentContext, slug: string): Promise<DataSource | null> {
    return (await this.all(context)).find((source) => source.slug === slug) ?? null;
  }
}
