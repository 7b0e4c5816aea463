import { randomUUID } from 'node:crypto';
import { CompiledQuery } from 'kysely';
import type { EntityManager } from '@gtm/runtime';
import type { PageKind } from '../crawl/page-kind.js';
import type { PageSource, QualityLevel, WebsiteFacts } from '../website/website.entity.js';

/** A website's fields as one analysis sets them. */
export interface AnalysedWebsite {
  url: string;
  domain: string;
  title: string | null;
  description: string | null;
  summary: string | null;
  summaryProvider: string | null;
  extractiveSummary: string | null;
  qualityScore: number;
  qualityLevel: QualityLevel;
  qualityGaps: string[];
  source: PageSource;
  facts: WebsiteFacts;
  analyzedAt: Date;
}

export interface AnalysedPage {
  url: string;
  title: string | null;
  kind: PageKind;
  wordCount: number;
}

export interface AnalysedChunk {
  pageUrl: string;
  heading: string;
  headingPath: string[];
  text: string;
  wordCount: number;
}

/** The website's row as PostgreSQL returned it, and the pages as they were written. */
export interface StoredAnalysis {
  websiteRow: Record<string, unknown>;
  pages: Array<AnalysedPage & { id: string; tenantId: string; websiteId: string; position: number; createdAt: Date; updatedAt: Date }>;
}

// One statement, so one round trip and atomic on its own: readers see the old analysis or the new
// one, never half. The website is inserted or updated in place (its id and creation time stay);
// its chunks are replaced. Pages are upserted by their unique (website_id, url) and the others
// deleted, because a delete and an insert of the same key in one statement collide on that index;
// an upserted page takes the new row's id and times, so it is a new row in all but its slot.
//
// Every part of the statement sees the snapshot taken when it started, so its deletes cannot see
// the chunks of another analysis of the site that committed after that (two processes without the
// Redis lock): they would survive beside the new ones. Every analysis rewrites the website's row,
// so such an analysis shows as a row version (xmin) other than the one the snapshot saw, or as a
// row the snapshot did not see at all; the upsert then changes nothing, nothing else is written
// (every write joins `site`), and the statement is run again on a fresh snapshot.
const storeSql = (schema: string) => `
  with seen as (
    select xmin as version from "${schema}".website where tenant_id = $2::uuid and url = $3
  ),
  site as (
    insert into "${schema}".website as existing
      (id, tenant_id, url, domain, title, description, summary, summary_provider, extractive_summary,
       quality_score, quality_level, quality_gaps, source, facts, analyzed_at, created_at, updated_at)
    values ($1::uuid, $2::uuid, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::text[], $13, $14::jsonb, $15::timestamptz, $16::timestamptz, $16::timestamptz)
    on conflict (tenant_id, url) do update set
      title = excluded.title, description = excluded.description, summary = excluded.summary,
      summary_provider = excluded.summary_provider, extractive_summary = excluded.extractive_summary,
      quality_score = excluded.quality_score, quality_level = excluded.quality_level, quality_gaps = excluded.quality_gaps,
      source = excluded.source, facts = excluded.facts, analyzed_at = excluded.analyzed_at, updated_at = excluded.updated_at
    where existing.xmin = (select version from seen)
    returning existing.*
  ),
  new_page as (
    select page.* from jsonb_to_recordset($17::jsonb) as page(id uuid, url text, title text, kind text, word_count integer, position integer)
  ),
  old_chunks as (
    delete from "${schema}".content_chunk chunk using site where chunk.tenant_id = $2::uuid and chunk.website_id = site.id
  ),
  old_pages as (
    delete from "${schema}".web_page page using site
    where page.tenant_id = $2::uuid and page.website_id = site.id and page.url not in (select url from new_page)
  ),
  pages as (
    insert into "${schema}".web_page as stored (id, tenant_id, website_id, url, title, kind, word_count, position, created_at, updated_at)
    select new_page.id, $2::uuid, site.id, new_page.url, new_page.title, new_page.kind, new_page.word_count, new_page.position, $16::timestamptz, $16::timestamptz
    from site, new_page
    on conflict (website_id, url) do update set
      id = excluded.id, title = excluded.title, kind = excluded.kind, word_count = excluded.word_count,
      position = excluded.position, created_at = excluded.created_at, updated_at = excluded.updated_at
  ),
  chunks as (
    insert into "${schema}".content_chunk (id, tenant_id, website_id, page_url, heading, heading_path, heading_trail, text, position, word_count, created_at, updated_at)
    select chunk.id, $2::uuid, site.id, chunk.page_url, chunk.heading, chunk.heading_path, chunk.heading_trail, chunk.text, chunk.position, chunk.word_count, $16::timestamptz, $16::timestamptz
    from site, jsonb_to_recordset($18::jsonb) as chunk(id uuid, page_url text, heading text, heading_path text[], heading_trail text, text text, position integer, word_count integer)
  )
  select * from site`;

/** Runs of the statement while other analyses of the site keep committing under it; one is the rule. */
const maximumStoreAttempts = 5;

/**
 * Writes one analysis of a tenant's website (the website's row, its pages and its passages) in a
 * single statement. Raw SQL, so the tenant is a parameter of every part of it (the ORM's tenant
 * filter and guard do not see raw SQL); bound through Kysely, as MikroORM's `execute` would inline
 * every passage's text into the SQL.
 */
export async function storeAnalysis(
  em: EntityManager,
  tenantId: string,
  website: AnalysedWebsite,
  pages: readonly AnalysedPage[],
  chunks: readonly AnalysedChunk[],
  now: Date,
): Promise<StoredAnalysis> {
  const schema = em.config.get('schema') as string;
  const pageRows = pages.map((page, position) => ({ id: randomUUID(), url: page.url, title: page.title, kind: page.kind, word_count: page.wordCount, position }));
  const chunkRows = chunks.map((chunk, position) => ({
    id: randomUUID(),
    page_url: chunk.pageUrl,
    heading: chunk.heading,
    heading_path: chunk.headingPath,
    heading_trail: chunk.headingPath.join(' › '),
    text: chunk.text,
    position,
    word_count: chunk.wordCount,
  }));
  const statement = CompiledQuery.raw(storeSql(schema), [
    randomUUID(),
    tenantId,
    website.url,
    website.domain,
    website.title,
    website.description,
    website.summary,
    website.summaryProvider,
    website.extractiveSummary,
    website.qualityScore,
    website.qualityLevel,
    website.qualityGaps,
    website.source,
    JSON.stringify(website.facts),
    website.analyzedAt.toISOString(),
    now.toISOString(),
    JSON.stringify(pageRows),
    JSON.stringify(chunkRows),
  ]);
  let websiteRow: Record<string, unknown> | undefined;
  for (let attempt = 1; !websiteRow; attempt += 1) {
    if (attempt > maximumStoreAttempts) throw new Error(`the website ${website.url} kept changing while its analysis was stored`);
    websiteRow = (await em.getKysely().executeQuery<Record<string, unknown>>(statement)).rows[0];
  }
  const websiteId = websiteRow['id'] as string;
  return {
    websiteRow,
    pages: pageRows.map((page) => ({ id: page.id, tenantId, websiteId, url: page.url, title: page.title, kind: page.kind, wordCount: page.word_count, position: page.position, createdAt: now, updatedAt: now })),
  };
}

/** The tenant's website for a normalised URL if it was analysed since `since`, as its row. */
export async function findAnalysedWebsiteRow(em: EntityManager, tenantId: string, url: string, since: Date): Promise<Record<string, unknown> | null> {
  const schema = em.config.get('schema') as string;
  const result = await em
    .getKysely()
    .executeQuery<Record<string, unknown>>(CompiledQuery.raw(`select * from "${schema}".website where tenant_id = $1::uuid and url = $2 and analyzed_at >= $3::timestamptz`, [tenantId, url, since.toISOString()]));
  return result.rows[0] ?? null;
}
