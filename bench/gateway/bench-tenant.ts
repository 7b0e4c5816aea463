// What the gateway benchmarks share: the id of the tenant their API key was created for.

/** The id of tenant `slug`, as the gateway's tables hold it, for a caller built without a key lookup. */
export async function tenantIdOf(databaseUrl: string, slug = 'bench'): Promise<string> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const { rows } = await client.query<{ id: string }>('select id from gateway.tenant where slug = $1', [slug]);
  await client.end();
  return rows[0]!.id;
}
