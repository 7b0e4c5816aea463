import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Entity, Property } from '@mikro-orm/decorators/legacy';
import { captureLogs, createSubgraphClient, createTestCaller, createTestCallerKeys, createTestDatabase, testEnvironment, type TestCallerKeys, type TestDatabase } from '@gtm/testing';
import { Arg, Ctx, Field, InputType, Int, Mutation, ObjectType, Query, Resolver } from 'type-graphql';
import type { SubgraphContext } from './context.js';
import { createDatabase, TenantScopedEntity, TenantScopeError } from './database.js';
import { createLogger } from './logger.js';
import { createRedis } from './redis.js';
import { buildSubgraphSchema } from './subgraph-schema.js';
import { createSubgraphServer, type SubgraphServerOptions } from './subgraph-server.js';

@Entity({ tableName: 'note' })
class Note extends TenantScopedEntity {
  @Property({ type: 'text' })
  text!: string;
}

@ObjectType()
class Slow {
  @Field()
  finished!: boolean;
}

@ObjectType()
class Origin {
  @Field(() => String, { nullable: true })
  publicUrl!: string | null;
}

@Resolver()
class OriginResolver {
  @Query(() => Origin)
  origin(@Ctx() context: SubgraphContext): Origin {
    return { publicUrl: context.publicUrl ?? null };
  }
}

@Resolver()
class SlowResolver {
  @Query(() => Slow)
  async slow(@Ctx() _context: SubgraphContext): Promise<Slow> {
    await new Promise((resolve) => setTimeout(resolve, 400));
    return { finished: true };
  }
}

@InputType()
class NoteInput {
  @Field()
  text!: string;

  @Field(() => [String], { nullable: true })
  tags?: string[];
}

@ObjectType('Note')
class NoteType {
  @Field()
  text!: string;
}

@Resolver()
class NoteResolver {
  @Query(() => Int)
  async noteCount(@Ctx() context: SubgraphContext): Promise<number> {
    return context.em.count(Note, {});
  }

  @Mutation(() => NoteType)
  async addNote(@Arg('input', () => NoteInput) input: NoteInput, @Ctx() context: SubgraphContext): Promise<NoteType> {
    const note = context.em.create(Note, { tenantId: context.caller.tenantId, text: [input.text, ...(input.tags ?? [])].join(' ') });
    await context.em.persist(note).flush();
    return { text: note.text };
  }
}

const logger = createLogger({ service: 'runtime-test', level: 'silent' });
let testDatabase: TestDatabase;
let callerKeys: TestCallerKeys;

beforeAll(async () => {
  [testDatabase, callerKeys] = await Promise.all([createTestDatabase(), createTestCallerKeys()]);
});

afterAll(async () => {
  await testDatabase?.drop();
});

async function openDatabase() {
  const database = await createDatabase({ url: testDatabase.url, schema: 'runtime_test', entities: [Note], migrations: [], logger });
  await database.orm.em.getConnection().execute('create schema if not exists runtime_test');
  await database.orm.em.getConnection().execute(
    'create table if not exists runtime_test.note (id uuid primary key, tenant_id uuid not null, text text not null, created_at timestamptz not null, updated_at timestamptz not null)',
  );
  return database;
}

/** A subgraph server with one resolver class, over its own database and Redis connections. */
async function startTestSubgraph(resolverClass: new () => object, options: Partial<Pick<SubgraphServerOptions<object>, 'routes' | 'shutdownGraceMs' | 'logger'>> = {}) {
  const database = await openDatabase();
  const redis = createRedis({ url: testEnvironment.redisUrl });
  await redis.connect();
  const resolver = new resolverClass();
  const server = await createSubgraphServer({
    name: 'runtime-test',
    schema: await buildSubgraphSchema({ resolvers: [resolverClass], container: { get: () => resolver } }),
    database,
    redis,
    logger,
    verifier: callerKeys.verifier,
    createLoaders: () => ({}),
    ...options,
  });
  return { server, database, redis };
}

describe('tenant scoping', () => {
  it('refuses reads without a tenant and writes for another tenant', async () => {
    const database = await openDatabase();
    try {
      const tenantA = '11111111-1111-4111-8111-111111111111';
      const tenantB = '22222222-2222-4222-8222-222222222222';
      const asA = database.forkForTenant(tenantA);
      await asA.persist(asA.create(Note, { tenantId: tenantA, text: 'mine' })).flush();

      const asB = database.forkForTenant(tenantB);
      expect(await asB.find(Note, {})).toEqual([]);
      expect(await asB.count(Note, {})).toBe(0);
      expect(await asB.nativeUpdate(Note, {}, { text: 'overwritten' })).toBe(0);
      await expect(asB.persist(asB.create(Note, { tenantId: tenantA, text: 'planted' })).flush()).rejects.toBeInstanceOf(TenantScopeError);

      const unscoped = database.orm.em.fork();
      await expect(unscoped.find(Note, {})).rejects.toThrow(/tenant/);
      await expect(unscoped.persist(unscoped.create(Note, { tenantId: tenantA, text: 'x' })).flush()).rejects.toBeInstanceOf(TenantScopeError);

      const notes = await database.forkForTenant(tenantA).find(Note, {});
      expect(notes.map((note) => note.text)).toEqual(['mine']);
    } finally {
      await database.close();
    }
  });
});

describe('graceful shutdown', () => {
  it('finishes an in-flight request, then stops accepting and closes its pools', async () => {
    const { server, database, redis } = await startTestSubgraph(SlowResolver, { shutdownGraceMs: 5_000 });
    const url = await server.listen(0, '127.0.0.1');
    const call = createSubgraphClient(url, callerKeys.signer);

    const inFlight = call(createTestCaller(), '{ slow { finished } }');
    await new Promise((resolve) => setTimeout(resolve, 100));
    const closing = server.close();
    const answer = await inFlight;
    await closing;

    expect(answer.status).toBe(200);
    expect(answer.data).toEqual({ slow: { finished: true } });
    await expect(fetch(url.replace('/graphql', '/health'))).rejects.toThrow();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(['end', 'close']).toContain(redis.status);
    expect(await database.orm.isConnected()).toBe(false);
  });
});

describe('routes beside /graphql', () => {
  it('serves the routes it is given and tells resolvers the gateway\'s public origin', async () => {
    const { server } = await startTestSubgraph(OriginResolver, { routes: (request, response, next) => (request.path === '/files/ping' ? response.json({ pong: true }) : next()) });
    try {
      const url = await server.listen(0, '127.0.0.1');
      expect(await (await fetch(url.replace('/graphql', '/files/ping'))).json()).toEqual({ pong: true });
      expect(server.httpServer.requestTimeout).toBe(0);
      const token = await callerKeys.signer.sign(createTestCaller());
      const ask = async (publicUrl: string) => {
        const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-gtm-caller': token, 'x-gtm-public-url': publicUrl }, body: JSON.stringify({ query: '{ origin { publicUrl } }' }) });
        return ((await response.json()) as { data: { origin: { publicUrl: string | null } } }).data.origin.publicUrl;
      };
      expect(await ask('https://api.example.com')).toBe('https://api.example.com');
      expect(await ask('javascript:alert(1)')).toBeNull();
    } finally {
      await server.close();
    }
  });
});

describe('field resolution', () => {
  it("runs resolvers without Apollo's cache-control wrapping: no subgraph declares cache hints, so its answers carry none", async () => {
    const { server } = await startTestSubgraph(OriginResolver);
    try {
      const url = await server.listen(0, '127.0.0.1');
      const token = await callerKeys.signer.sign(createTestCaller());
      const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-gtm-caller': token }, body: JSON.stringify({ query: '{ origin { publicUrl } }' }) });
      expect(await response.json()).toEqual({ data: { origin: { publicUrl: null } } });
      // With the plugin on, every answer says `cache-control: no-store`, the sign that each field was wrapped.
      expect(response.headers.get('cache-control')).toBeNull();
    } finally {
      await server.close();
    }
  });
});

describe('input PostgreSQL cannot store', () => {
  it('is BAD_USER_INPUT naming the field, for any argument, before any resolver runs, with nothing logged as an error', async () => {
    const logs = captureLogs();
    const { server } = await startTestSubgraph(NoteResolver, { logger: logs.logger });
    try {
      const call = createSubgraphClient(await server.listen(0, '127.0.0.1'), callerKeys.signer);
      const caller = createTestCaller();
      const inline = await call(caller, 'mutation { addNote(input: { text: "a\\u0000b" }) { text } }');
      expect(inline.status).toBe(400);
      expect(inline.errors).toEqual([
        {
          message: 'input.text contains a NUL character (\\u0000), which cannot be stored. Remove it and send the request again.',
          extensions: { code: 'BAD_USER_INPUT', field: 'input.text' },
        },
      ]);
      const inList = await call(caller, 'mutation Add($tags: [String!]) { addNote(input: { text: "fine", tags: $tags }) { text } }', { tags: ['ok', 'x\u0000'] });
      expect(inList.errors?.[0]?.extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'input.tags.1' });
      const wholeVariable = await call(caller, 'mutation Add($input: NoteInput!) { addNote(input: $input) { text } }', { input: { text: 'half \ud800 a pair' } });
      expect(wholeVariable.errors?.[0]?.extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'input.text' });
      expect(wholeVariable.errors?.[0]?.message).toMatch(/unpaired UTF-16 surrogate/);

      const stored = await call(caller, 'mutation { addNote(input: { text: "plain ✓ 😀" }) { text } }');
      expect(stored.data).toEqual({ addNote: { text: 'plain ✓ 😀' } });
      expect((await call<{ noteCount: number }>(caller, '{ noteCount }')).data?.noteCount).toBe(1);
      expect(logs.entries().filter((entry) => (entry['level'] as number) >= 40)).toEqual([]);
    } finally {
      await server.close();
    }
  });
});
