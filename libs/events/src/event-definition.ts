import type { z } from 'zod';

/**
 * One kind of domain event at one version: what its `data` must look like. A change that old
 * consumers could not read is a new version; a publisher in transition publishes both.
 */
export interface EventDefinition<Name extends string = string, Schema extends z.ZodType = z.ZodType> {
  /** `<aggregate>.<what happened>`, lower case: `lead.created`. */
  readonly name: Name;
  /** 1, 2, …: a subscription is to one name at one version. */
  readonly version: number;
  /** The kind of entity the event is about (`Lead`): with the entity id, the order events keep. */
  readonly entityType: string;
  readonly schema: Schema;
  /** `lead.created@1`, the definition's name in logs and dead letters. */
  readonly key: string;
}

/** The data of an event of this definition, as consumers receive it. */
export type EventData<Definition extends EventDefinition> = z.output<Definition['schema']>;
/** The data a publisher gives (before defaults and transforms of the schema). */
export type EventDataInput<Definition extends EventDefinition> = z.input<Definition['schema']>;

/** A reference to the entity an event is about. */
export interface EntityReference {
  type: string;
  id: string;
}

/** An event as it travels: the envelope every event has, and its typed `data`. */
export interface DomainEvent<Data = unknown> {
  /** Unique per event; consumers record it to handle each event once. */
  id: string;
  name: string;
  version: number;
  tenantId: string;
  entity: EntityReference;
  /** When the change was made (the publishing transaction's time unless given). */
  occurredAt: Date;
  /** The request that caused the change, for tracing it across services; null outside a request. */
  requestId: string | null;
  /** The schema of the service that published it (`crm`). */
  publisher: string;
  data: Data;
}

const eventNamePattern = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/;
const entityTypePattern = /^[A-Z][A-Za-z0-9]*$/;

/** Defines an event: `defineEvent({ name: 'lead.created', version: 1, entityType: 'Lead', schema })`. */
export function defineEvent<const Name extends string, Schema extends z.ZodType>(options: {
  name: Name;
  version: number;
  entityType: string;
  schema: Schema;
}): EventDefinition<Name, Schema> {
  if (!eventNamePattern.test(options.name)) throw new Error(`an event name is dotted lower case such as "lead.created"; got "${options.name}"`);
  if (!Number.isInteger(options.version) || options.version < 1) throw new Error(`an event version is a positive integer; got ${options.version} for ${options.name}`);
  if (!entityTypePattern.test(options.entityType)) throw new Error(`an entity type is a type name such as "Lead"; got "${options.entityType}"`);
  return Object.freeze({ ...options, key: `${options.name}@${options.version}` });
}

/** Every event definition of a set, found by name and version; one definition per pair. */
export interface EventCatalog {
  readonly definitions: readonly EventDefinition[];
  find(name: string, version: number): EventDefinition | undefined;
}

/** A set of definitions, refusing two of the same name and version (they would disagree on the data). */
export function createEventCatalog(definitions: readonly EventDefinition[]): EventCatalog {
  const byKey = new Map<string, EventDefinition>();
  for (const definition of definitions) {
    if (byKey.has(definition.key)) throw new Error(`event ${definition.key} is defined twice`);
    byKey.set(definition.key, definition);
  }
  return { definitions, find: (name, version) => byKey.get(`${name}@${version}`) };
}
