// A consuming service's dead letters through GraphQL: the caller's tenant only, the admin scope
// only, replay and discard, and nothing of the failure's text.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { migrateWorkerSchema } from '@gtm/jobs';
import { buildSubgraphSchema, createLogger, type Database, type SubgraphContext } from '@gtm/runtime';
import { createTestCaller, createTestDatabase, type TestDatabase } from '@gtm/testing';
import { graphql, type GraphQLSchema } from 'graphql';
import { createEventDeadLetterResolver } from './dead-letter.graphql.js';
import { createDeadLetters } from './dead-letters.js';
import { shardOfStreamSql } from './delivery-jobs.js';
import { migrateEventSchema } from './event-schema.js';
import { consumerSchema, openConsumerDatabase } from './testing/event-test-services.js';

const logger = createLogger({ service: 'test', level: 'silent' });
let testDatabase: TestDatabase;
let database: Database;
let schema: GraphQLSchema;

beforeAll(async () => {
  testDatabase = await createTestDatabase();
  database = await openConsumerDatabase(testDatabase.url, logger);
  await migrateWorkerSchema({ databaseUrl: testDatabase.url, logger });
  await migrateEventSchema({ database, logger });
  const resolver = createEventDeadLetterResolver({ fieldPrefix: 'probe', deadLetters: createDeadLetters({ database, subscriber: consumerSchema }) });
  const instance = new resolver();
  schema = await buildSubgraphSchema({ resolvers: [resolver], container: { get: () => instance } });
});

afterAll(async () => {
  await database?.close();
  await testDatabase?.drop();
});

/** A parked delivery of `tenantId`, with a failure text no tenant should read. */
async function park(tenantId: string): Promise<{ id: string; eventId: string; entityId: string }> {
  const eventId = randomUUID();
  const entityId = randomUUID();
  const [row] = await database.orm.em.fork().execute<Array<{ id: string }>>(
    `insert into gtm_events.delivery (subscriber, stream, shard, event_id, event_name, event_version, tenant_id, entity_type, entity_id, occurred_at, request_id, publisher, data,
       attempts, last_error, last_failed_at, parked_at)
     values (?, ?, ${shardOfStreamSql('?')}, ?, 'note.changed', 1, ?, 'Note', ?, now(), 'request-7', 'events_publisher', '{"sequence":1,"text":"x"}',
       5, 'QueryFailedError: relation "secret_internal_table" does not exist', now(), now())
     returning id::text as id`,
    [consumerSchema, `Note:${entityId}`, `Note:${entityId}`, eventId, tenantId, entityId],
  );
  return { id: row!.id, eventId, entityId };
}

async function run(source: string, caller: ReturnType<typeof createTestCaller>, variableValues?: Record<string, unknown>) {
  const contextValue: SubgraphContext = { em: database.forkForTenant(caller.tenantId), caller, loaders: {}, logger };
  return graphql({ schema, source, contextValue, variableValues });
}

const list = `{ probeEventDeadLetters { id eventId eventName eventVersion entityType entityId occurredAt requestId attempts parkedAt heldEvents } }`;

it("lists, replays and discards the caller's tenant's dead letters, for admin keys only", async () => {
  const admin = createTestCaller({ scopes: ['read', 'write', 'admin'] });
  const other = createTestCaller({ scopes: ['read', 'write', 'admin'] });
  const mine = await park(admin.tenantId);
  const theirs = await park(other.tenantId);

  const listed = await run(list, admin);
  expect(listed.errors).toBeUndefined();
  expect(listed.data!['probeEventDeadLetters']).toEqual([
    {
      id: mine.id,
      eventId: mine.eventId,
      eventName: 'note.changed',
      eventVersion: 1,
      entityType: 'Note',
      entityId: mine.entityId,
      occurredAt: expect.any(Date),
      requestId: 'request-7',
      attempts: 5,
      parkedAt: expect.any(Date),
      heldEvents: 0,
    },
  ]);
  expect(JSON.stringify(listed)).not.toContain('secret_internal_table');

  const reader = createTestCaller({ tenantId: admin.tenantId, scopes: ['read', 'write'] });
  const refused = await run(list, reader);
  expect(refused.errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');

  const replayOthers = await run(`mutation ($id: ID!) { replayProbeEventDeadLetter(id: $id) }`, admin, { id: theirs.id });
  expect(replayOthers.errors?.[0]?.extensions?.['code']).toBe('NOT_FOUND');
  const replayed = await run(`mutation ($id: ID!) { replayProbeEventDeadLetter(id: $id) }`, admin, { id: mine.id });
  expect(replayed).toEqual({ data: { replayProbeEventDeadLetter: true } });
  expect((await run(list, admin)).data!['probeEventDeadLetters']).toEqual([]);

  const discardOthers = await run(`mutation ($id: ID!) { discardProbeEventDeadLetter(id: $id) }`, admin, { id: theirs.id });
  expect(discardOthers.errors?.[0]?.extensions?.['code']).toBe('NOT_FOUND');
  const discarded = await run(`mutation ($id: ID!) { discardProbeEventDeadLetter(id: $id) }`, other, { id: theirs.id });
  expect(discarded).toEqual({ data: { discardProbeEventDeadLetter: true } });
  const [left] = await database.orm.em.fork().execute<Array<{ count: string }>>(`select count(*) from gtm_events.delivery where id = ?`, [theirs.id]);
  expect(Number(left!.count)).toBe(0);
});
