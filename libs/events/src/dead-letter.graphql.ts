import { forbidden, notFound, type SubgraphContext } from '@gtm/runtime';
import { Arg, Ctx, Directive, Field, ID, Int, Mutation, ObjectType, Query, Resolver } from 'type-graphql';
import type { DeadLetter, DeadLetters } from './dead-letters.js';

@ObjectType('EventDeadLetter', {
  description: "An event this service gave up handling after retries. Its entity's later events wait behind it until it is replayed or discarded.",
})
// Every consuming service shows the same type; composition needs each to say it may.
@Directive('@shareable')
export class EventDeadLetterType {
  @Field(() => ID, { description: 'What replay and discard take.' })
  id!: string;

  @Field(() => ID, { description: "The event's id, as the service's logs name it." })
  eventId!: string;

  @Field(() => String, { description: 'lead.created, …' })
  eventName!: string;

  @Field(() => Int)
  eventVersion!: number;

  @Field(() => String, { description: 'Lead, …' })
  entityType!: string;

  @Field(() => ID)
  entityId!: string;

  @Field(() => Date)
  occurredAt!: Date;

  @Field(() => String, { nullable: true, description: 'The request that made the change, to find it in the logs.' })
  requestId!: string | null;

  @Field(() => Int)
  attempts!: number;

  @Field(() => Date)
  parkedAt!: Date;

  @Field(() => Int, { description: 'Later events of the same entity waiting behind this one.' })
  heldEvents!: number;
}

/** The API shape of a dead letter: what failed is in the service's logs (by event id), never here. */
function typeOf(deadLetter: DeadLetter): EventDeadLetterType {
  return {
    id: deadLetter.id,
    eventId: deadLetter.event.id,
    eventName: deadLetter.event.name,
    eventVersion: deadLetter.event.version,
    entityType: deadLetter.event.entity.type,
    entityId: deadLetter.event.entity.id,
    occurredAt: deadLetter.event.occurredAt,
    requestId: deadLetter.event.requestId,
    attempts: deadLetter.attempts,
    parkedAt: deadLetter.parkedAt,
    heldEvents: deadLetter.heldEvents,
  };
}

function requireAdmin(context: SubgraphContext): string {
  if (!context.caller.scopes.includes('admin')) {
    throw forbidden('Forbidden: event dead letters need an API key with the "admin" scope. Use a key created with --scopes admin.');
  }
  return context.caller.tenantId;
}

/**
 * How a consuming service shows its dead letters to its tenants' administrators: a resolver class
 * with `<prefix>EventDeadLetters(first, after)`, `replay<Prefix>EventDeadLetter(id)` and
 * `discard<Prefix>EventDeadLetter(id)`, each limited to the caller's tenant and to keys with the
 * `admin` scope (the prefix keeps the fields of two services apart in the supergraph). Build the
 * dead letters with `createDeadLetters({ database, subscriber })` and give the app's container an
 * instance of the class.
 */
export function createEventDeadLetterResolver(options: { fieldPrefix: string; deadLetters: DeadLetters }): new () => object {
  if (!/^[a-z][a-zA-Z0-9]*$/.test(options.fieldPrefix)) throw new Error(`fieldPrefix is a lower camel case word such as "conversation"; got "${options.fieldPrefix}"`);
  const { deadLetters } = options;
  const prefix = options.fieldPrefix;
  const capitalised = `${prefix[0]!.toUpperCase()}${prefix.slice(1)}`;

  @Resolver(() => EventDeadLetterType)
  class EventDeadLetterResolver {
    @Query(() => [EventDeadLetterType], { name: `${prefix}EventDeadLetters`, description: 'Events this service gave up on, oldest first. Needs the admin scope.' })
    async list(
      @Arg('first', () => Int, { nullable: true, description: 'Default 50, at most 500.' }) first: number | undefined,
      @Arg('after', () => ID, { nullable: true, description: 'The id of the last one of the previous page.' }) after: string | undefined,
      @Ctx() context: SubgraphContext,
    ): Promise<EventDeadLetterType[]> {
      const tenantId = requireAdmin(context);
      return (await deadLetters.list({ tenantId, limit: first ?? 50, after: after ?? undefined })).map(typeOf);
    }

    @Mutation(() => Boolean, { name: `replay${capitalised}EventDeadLetter`, description: "Hands the event back to its handler; the entity's held events follow. Needs the admin scope." })
    async replay(@Arg('id', () => ID) id: string, @Ctx() context: SubgraphContext): Promise<boolean> {
      if (!(await deadLetters.replay(id, { tenantId: requireAdmin(context) }))) throw notFound('EventDeadLetter', id);
      return true;
    }

    @Mutation(() => Boolean, { name: `discard${capitalised}EventDeadLetter`, description: "Drops the event for good; the entity's held events go on. Needs the admin scope." })
    async discard(@Arg('id', () => ID) id: string, @Ctx() context: SubgraphContext): Promise<boolean> {
      if (!(await deadLetters.discard(id, { tenantId: requireAdmin(context) }))) throw notFound('EventDeadLetter', id);
      return true;
    }
  }
  return EventDeadLetterResolver;
}
