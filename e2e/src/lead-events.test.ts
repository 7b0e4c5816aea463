// Lead events end to end: crm-service publishes lead.created, lead.updated and lead.deleted as its
// GraphQL mutations commit; a consuming service in its own process (lead-event-consumer.ts) is
// killed outright in the middle of handling one, more changes are made while it is down, and once
// restarted it has seen every event exactly once, in order per lead, with tenant and request id.
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import type { SubgraphApp } from '@gtm/runtime';
import { createTestCaller, spawnTypeScript, startSubgraphUnderTest, type SubgraphUnderTest } from '@gtm/testing';
import { createApp } from '@gtm/crm-service/app';
import { loadConfig } from '@gtm/crm-service/config';

let crm: SubgraphUnderTest<SubgraphApp>;
let databaseUrl: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  crm = await startSubgraphUnderTest((environment) => {
    databaseUrl = environment['DATABASE_URL']!;
    return createApp(loadConfig(environment));
  });
});

afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await crm?.close();
});

/** Starts the consumer process; resolves once it consumes, with the lines it prints. */
async function startConsumer(environment: Record<string, string> = {}): Promise<{ child: ChildProcess; lines: string[] }> {
  const child = spawnTypeScript(new URL('./lead-event-consumer.ts', import.meta.url), [], { env: { ...process.env, DATABASE_URL: databaseUrl, ...environment } });
  children.push(child);
  const lines: string[] = [];
  let errors = '';
  child.stderr?.on('data', (chunk: Buffer) => (errors += chunk.toString()));
  child.stdout?.on('data', (chunk: Buffer) => lines.push(...chunk.toString().split('\n').filter(Boolean)));
  await new Promise<void>((resolve, reject) => {
    const ready = setInterval(() => {
      if (lines.includes('ready')) {
        clearInterval(ready);
        resolve();
      }
    }, 20);
    child.once('exit', (code) => {
      clearInterval(ready);
      reject(new Error(`the consumer exited (${code}) before it was ready:\n${errors}`));
    });
  });
  return { child, lines };
}

interface Seen {
  event_id: string;
  event_name: string;
  lead_id: string;
  tenant_id: string;
  request_id: string | null;
}

async function seen(): Promise<Seen[]> {
  return crm.app.database.orm.em.fork().execute<Seen[]>(`select event_id, event_name, lead_id, tenant_id, request_id from lead_event_probe.seen_lead_event order by seen_order`);
}

async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean, what: string): Promise<T> {
  const deadline = Date.now() + 90_000;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const createLead = `mutation ($input: CreateLeadInput!) { createLead(input: $input) { id } }`;
const updateLead = `mutation ($id: ID!, $input: UpdateLeadInput!) { updateLead(id: $id, input: $input) { id } }`;
const deleteLead = `mutation ($id: ID!) { deleteLead(id: $id) }`;

it('delivers every lead event exactly once, in order per lead, across a consumer killed mid-event and restarted', async () => {
  const [tenantA, tenantB] = [createTestCaller(), createTestCaller()];
  const call = async (caller: typeof tenantA, query: string, variables: Record<string, unknown>) => {
    const result = await crm.call(caller, query, variables);
    expect(result.errors).toBeUndefined();
    return result.data!;
  };
  /** What each lead went through, as crm-service committed it. */
  const expected = new Map<string, { tenantId: string; events: string[] }>();
  const note = (leadId: string, caller: typeof tenantA, event: string) => {
    const entry = expected.get(leadId) ?? { tenantId: caller.tenantId, events: [] };
    entry.events.push(event);
    expected.set(leadId, entry);
  };
  const create = async (caller: typeof tenantA, firstName: string) => {
    const leadId: string = (await call(caller, createLead, { input: { firstName, email: `${firstName.toLowerCase()}@example.com` } }))['createLead'].id;
    note(leadId, caller, 'lead.created');
    return leadId;
  };
  const update = async (caller: typeof tenantA, leadId: string, input: Record<string, unknown>) => {
    await call(caller, updateLead, { id: leadId, input });
    note(leadId, caller, 'lead.updated');
  };
  const remove = async (caller: typeof tenantA, leadId: string) => {
    await call(caller, deleteLead, { id: leadId });
    note(leadId, caller, 'lead.deleted');
  };

  // The first consumer hangs inside the transaction of the first lead.updated it handles.
  const first = await startConsumer({ PAUSE_ON_EVENT: 'lead.updated' });
  const ada = await create(tenantA, 'Ada');
  const grace = await create(tenantA, 'Grace');
  const linus = await create(tenantB, 'Linus');
  await update(tenantA, ada, { status: 'CONTACTED' });
  await update(tenantB, linus, { title: 'Maintainer' });
  const handling = await eventually(
    async () => first.lines.find((line) => line.startsWith('handling ')),
    (line) => line !== undefined,
    'the consumer is in the middle of a lead.updated',
  );
  first.child.kill('SIGKILL');
  await once(first.child, 'exit');
  // What the killed handler wrote was never committed.
  const interrupted = handling!.slice('handling '.length);
  expect((await seen()).map((row) => row.event_id)).not.toContain(interrupted);

  // Changes while no consumer runs wait for the next one.
  await update(tenantA, ada, { status: 'ENGAGED', title: 'Analyst' });
  await remove(tenantA, grace);
  await remove(tenantA, ada);
  const margaret = await create(tenantB, 'Margaret');
  await update(tenantB, margaret, { phone: '+1 555 0101' });

  await startConsumer();
  const total = [...expected.values()].reduce((sum, entry) => sum + entry.events.length, 0);
  const rows = await eventually(seen, (value) => value.length >= total, 'every event is handled');

  expect(rows).toHaveLength(total);
  expect(rows.map((row) => row.event_id)).toContain(interrupted);
  expect(new Set(rows.map((row) => row.event_id)).size).toBe(total);
  for (const [leadId, { tenantId, events }] of expected) {
    const mine = rows.filter((row) => row.lead_id === leadId);
    expect(mine.map((row) => row.event_name)).toEqual(events);
    expect(mine.every((row) => row.tenant_id === tenantId && row.request_id !== null)).toBe(true);
  }
  const [left] = await crm.app.database.orm.em
    .fork()
    .execute<Array<{ deliveries: string; parked: string; processed: string }>>(
      `select (select count(*) from gtm_events.delivery where subscriber = 'lead-event-probe') as deliveries,
              (select count(*) from gtm_events.delivery where subscriber = 'lead-event-probe' and parked_at is not null) as parked,
              (select count(*) from lead_event_probe.processed_event) as processed`,
    );
  expect(left).toEqual({ deliveries: '0', parked: '0', processed: String(total) });
  // Two consumer processes started, one killed, and every event waited for: minutes on a loaded machine.
}, 240_000);
