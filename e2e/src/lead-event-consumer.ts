// A consuming service for the lead-events test, run as its own process so the test can kill it
// outright: its own schema (`lead_event_probe`), its processed-event table, and a handler that
// writes each lead event it is given to `seen_lead_event` in the handler's transaction (no unique
// constraint there: an effect committed twice shows as two rows). With PAUSE_ON_EVENT set, the
// handler of the first such event says so on standard output and never returns, holding its
// transaction open, for the test to kill it there. Ready when it prints `ready`.
import type { MigrationObject } from '@mikro-orm/core';
import { Entity, Property } from '@mikro-orm/decorators/legacy';
import { Migration } from '@mikro-orm/migrations';
import { CreateProcessedEvents, leadCreated, leadDeleted, leadUpdated, startEventConsumer, subscribe, type DomainEvent, type EventHandlerContext } from '@gtm/events';
import { createDatabase, createLogger, TenantScopedEntity } from '@gtm/runtime';

export const probeSchema = 'lead_event_probe';

@Entity({ tableName: 'seen_lead_event' })
export class SeenLeadEvent extends TenantScopedEntity {
  @Property({ type: 'uuid' })
  eventId!: string;

  @Property({ type: 'text' })
  eventName!: string;

  @Property({ type: 'uuid' })
  leadId!: string;

  @Property({ type: 'text', nullable: true })
  requestId: string | null = null;

  @Property({ type: 'integer' })
  pid!: number;
}

class CreateSeenLeadEvents extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table seen_lead_event (
        seen_order bigserial, id uuid primary key, tenant_id uuid not null, event_id uuid not null, event_name text not null, lead_id uuid not null,
        request_id text, pid integer not null, created_at timestamptz not null, updated_at timestamptz not null
      )`);
  }
}

const migrations: MigrationObject[] = [
  { name: '1-create-processed-events', class: CreateProcessedEvents },
  { name: '2-create-seen-lead-events', class: CreateSeenLeadEvents },
];

const databaseUrl = process.env['DATABASE_URL']!;
const pauseOn = process.env['PAUSE_ON_EVENT'];
const logger = createLogger({ service: 'lead-event-probe', level: 'warn' });
const database = await createDatabase({ url: databaseUrl, schema: probeSchema, entities: [SeenLeadEvent], migrations, logger, poolMax: 4 });
await database.migrate();
let paused = false;

async function record(event: DomainEvent<{ lead: { id: string } }>, context: EventHandlerContext): Promise<void> {
  context.em.persist(
    context.em.create(SeenLeadEvent, { tenantId: event.tenantId, eventId: event.id, eventName: event.name, leadId: event.data.lead.id, requestId: event.requestId, pid: process.pid }),
  );
  await context.em.flush();
  if (event.name === pauseOn && !paused) {
    paused = true;
    process.stdout.write(`handling ${event.id}\n`);
    await new Promise(() => undefined);
  }
}

const consumer = await startEventConsumer({
  database,
  databaseUrl,
  logger,
  subscriber: 'lead-event-probe',
  subscriptions: [subscribe(leadCreated, record), subscribe(leadUpdated, record), subscribe(leadDeleted, record)],
  pollIntervalMs: 100,
  recoveryIntervalMs: 100,
  lockGraceMs: 0,
});
process.stdout.write('ready\n');
process.once('SIGTERM', () => {
  void consumer
    .close()
    .then(() => database.close())
    .then(() => process.exit(0));
});
