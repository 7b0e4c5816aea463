import type { Database } from '@gtm/runtime';
import type { WebSearchAnswer, WebSearchResult } from '../web-search/index.js';

/**
 * Web searches answered within the TTL, per tenant (a query carries the tenant's lead data, so it
 * is never shared across tenants): a job resumed after a crash, or a list enriched again, pays for
 * no search twice. Rows are written outside the record's transaction on purpose: the search was paid
 * for whether or not the record commits.
 */
export class SearchCache {
  private readonly table: string;

  constructor(
    private readonly database: Database,
    private readonly ttlSeconds: number,
  ) {
    this.table = `"${database.orm.config.get('schema')}".web_search_cache`;
  }

  static keyOf(query: string, count: number): string {
    return `${count}|${query.trim().toLowerCase().replace(/\s+/g, ' ')}`;
  }

  async get(tenantId: string, key: string): Promise<WebSearchAnswer | null> {
    if (this.ttlSeconds === 0) return null;
    const rows = await this.database.orm.em
      .getConnection()
      .execute<Array<{ provider: string; results: WebSearchResult[] }>>(
        `select provider, results from ${this.table} where tenant_id = ? and query_key = ? and created_at > now() - make_interval(secs => ?)`,
        [tenantId, key, this.ttlSeconds],
      );
    const row = rows[0];
    return row ? { provider: row.provider, query: key.slice(key.indexOf('|') + 1), results: row.results, costUsd: 0 } : null;
  }

  async put(tenantId: string, key: string, answer: WebSearchAnswer): Promise<void> {
    if (this.ttlSeconds === 0) return;
    await this.database.orm.em
      .getConnection()
      .execute(
        `insert into ${this.table} (tenant_id, query_key, provider, results, created_at) values (?, ?, ?, ?::jsonb, now())
         on conflict (tenant_id, query_key) do update set provider = excluded.provider, results = excluded.results, created_at = excluded.created_at`,
        [tenantId, key, answer.provider, JSON.stringify(answer.results)],
      );
  }
}
