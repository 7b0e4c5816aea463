import type { EntityManager } from '@gtm/runtime';

export interface ChunkSearch {
  websiteId: string;
  query: string;
  limit: number;
}

export interface RankedChunk {
  pageUrl: string;
  heading: string;
  headingPath: string[];
  text: string;
  position: number;
  /** 0..1: PostgreSQL's rank squashed by rank / (rank + 1); only an order, not a probability. */
  score: number;
}

interface RankedChunkRow {
  request_index: number;
  page_url: string;
  heading: string;
  heading_path: string[];
  text: string;
  position: number;
  score: number;
}

// The words of the query joined by OR rather than plainto_tsquery's AND: a passage that answers
// "pricing plans per seat" may use only one of those words, and ranking, not matching, should
// decide. Stemming and stop words come from the same `english` configuration as the column.
// ts_rank normalisation 1 divides by the log of the passage length (long passages do not win by
// size), 32 squashes the rank into 0..1.
const searchSql = `
  select request.request_index, hit.page_url, hit.heading, hit.heading_path, hit.text, hit.position, hit.score
  from jsonb_to_recordset(?::jsonb) as request(request_index integer, website_id uuid, query_text text, result_limit integer)
  cross join lateral (
    select replace(plainto_tsquery('english', request.query_text)::text, ' & ', ' | ')::tsquery as query
  ) as search
  cross join lateral (
    select chunk.page_url, chunk.heading, chunk.heading_path, chunk.text, chunk.position,
           ts_rank(chunk.search_vector, search.query, 1 | 32)::float8 as score
    from {schema}.content_chunk chunk
    where chunk.tenant_id = ? and chunk.website_id = request.website_id and chunk.search_vector @@ search.query
    order by score desc, chunk.position
    limit request.result_limit
  ) as hit
  order by request.request_index, hit.score desc, hit.position`;

/**
 * Full-text search over a tenant's website passages. Raw SQL because the ranking lives in
 * PostgreSQL; the tenant is a parameter of every query, as the ORM filter does not see raw SQL.
 */
export class ContentSearchRepository {
  private readonly sql: string;

  /** `schema`: the PostgreSQL schema the content service owns (raw SQL does not get the ORM's). */
  constructor(schema: string) {
    this.sql = searchSql.replace('{schema}', `"${schema}"`);
  }

  /** Answers many searches, each on its own website with its own limit, in one query. */
  async searchMany(em: EntityManager, tenantId: string, searches: readonly ChunkSearch[]): Promise<RankedChunk[][]> {
    if (searches.length === 0) return [];
    const requests = searches.map((search, index) => ({ request_index: index, website_id: search.websiteId, query_text: search.query, result_limit: search.limit }));
    const rows: RankedChunkRow[] = await em.getConnection().execute(this.sql, [JSON.stringify(requests), tenantId], 'all');
    const results: RankedChunk[][] = searches.map(() => []);
    for (const row of rows) {
      results[row.request_index]!.push({ pageUrl: row.page_url, heading: row.heading, headingPath: row.heading_path, text: row.text, position: row.position, score: Number(row.score) });
    }
    return results;
  }
}
