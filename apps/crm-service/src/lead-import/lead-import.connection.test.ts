// The lead import's own COPY connections against a real PostgreSQL that ends one of them: the
// service logs it and goes on, and the next import gets a working connection.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { SubgraphApp } from '@gtm/runtime';
import { captureLogs, createTestCaller, startSubgraphUnderTest, type SubgraphUnderTest } from '@gtm/testing';
import { createApp } from '../app.js';
import { loadConfig } from '../config.js';
import { importFile } from './lead-import.testing.js';

const logs = captureLogs();
let subgraph: SubgraphUnderTest<SubgraphApp>;

beforeAll(async () => {
  subgraph = await startSubgraphUnderTest((environment, onQuery) => createApp(loadConfig({ ...environment, LOG_LEVEL: 'debug', PUBLIC_URL: 'https://gtm.example.com' }), { onQuery, logger: logs.logger }));
});

afterAll(() => subgraph?.close());

describe('an idle COPY connection ended by the database', () => {
  it('is logged and replaced, and does not end the process', async () => {
    const who = createTestCaller();
    expect(await importFile(subgraph, who, 'Email\nann@one.example\n')).toMatchObject({ status: 'SUCCEEDED', imported: 1 });
    const [ended] = await subgraph.app.database.orm.em
      .fork()
      .execute<Array<{ ended: string }>>(`select count(pg_terminate_backend(pid)) as ended from pg_stat_activity where datname = current_database() and application_name = 'gtm-crm-lead-import'`);
    expect(Number(ended!.ended)).toBeGreaterThan(0);
    for (let attempt = 0; attempt < 100 && !logs.warnings().some((entry) => entry['msg'] === 'an idle lead import connection failed; it is replaced when next needed'); attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(logs.warnings().map((entry) => entry['msg'])).toContain('an idle lead import connection failed; it is replaced when next needed');
    expect(await importFile(subgraph, who, 'Email\nbo@two.example\n')).toMatchObject({ status: 'SUCCEEDED', imported: 1 });
  });
});
