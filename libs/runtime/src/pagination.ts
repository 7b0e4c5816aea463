import type { EntityClass, FilterQuery } from '@mikro-orm/core';
import { ArgsType, Field, Int, ObjectType, Directive, type ClassType } from 'type-graphql';
import type { EntityManager, TenantScopedEntity } from './database.js';
import { badUserInput } from './errors.js';

@ObjectType({ description: 'Relay page information.' })
@Directive('@shareable')
export class PageInfo {
  @Field()
  hasNextPage!: boolean;

  @Field()
  hasPreviousPage!: boolean;

  @Field(() => String, { nullable: true })
  startCursor!: string | null;

  @Field(() => String, { nullable: true })
  endCursor!: string | null;
}

export const maximumPageSize = 100;

@ArgsType()
export class ConnectionArgs {
  @Field(() => Int, { defaultValue: 20, description: `How many items to return, 1 to ${maximumPageSize}.` })
  first: number = 20;

  @Field(() => String, { nullable: true, description: 'The cursor of the last item of the previous page.' })
  after?: string | null;
}

export interface Edge<Node> {
  node: Node;
  cursor: string;
}

export interface Connection<Node> {
  edges: Edge<Node>[];
  pageInfo: PageInfo;
}

/** Builds the `<Name>Connection` and `<Name>Edge` object types for a node type. */
export function ConnectionType<Node extends object>(nodeType: ClassType<Node>, name: string) {
  @ObjectType(`${name}Edge`)
  class EdgeType {
    @Field(() => nodeType)
    node!: Node;

    @Field()
    cursor!: string;
  }

  @ObjectType(`${name}Connection`)
  class ConnectionObjectType {
    @Field(() => [EdgeType])
    edges!: EdgeType[];

    @Field(() => PageInfo)
    pageInfo!: PageInfo;
  }
  return ConnectionObjectType;
}

interface CursorPosition {
  createdAt: Date;
  id: string;
}

function encodeCursor(position: CursorPosition): string {
  return Buffer.from(JSON.stringify([position.createdAt.toISOString(), position.id])).toString('base64url');
}

function decodeCursor(cursor: string): CursorPosition {
  try {
    const [createdAt, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    if (typeof createdAt !== 'string' || typeof id !== 'string' || Number.isNaN(Date.parse(createdAt))) throw new Error('shape');
    return { createdAt: new Date(createdAt), id };
  } catch {
    throw badUserInput('The `after` cursor is not one this API returned; pass the `cursor` or `pageInfo.endCursor` of a previous page.', 'after');
  }
}

/**
 * Keyset pagination, newest first, by (createdAt, id): stable while rows are inserted, and each page
 * is one indexed query however deep the client pages.
 */
export async function paginate<Entity extends TenantScopedEntity, Node = Entity>(
  em: EntityManager,
  entityClass: EntityClass<Entity>,
  where: FilterQuery<Entity>,
  args: ConnectionArgs,
  toNode: (entity: Entity) => Node = (entity) => entity as unknown as Node,
): Promise<Connection<Node>> {
  if (!Number.isInteger(args.first) || args.first < 1 || args.first > maximumPageSize) {
    throw badUserInput(`\`first\` must be between 1 and ${maximumPageSize}; got ${args.first}.`, 'first');
  }
  const after = args.after ? decodeCursor(args.after) : null;
  const pageWhere = after
    ? ({
        $and: [
          where,
          { $or: [{ createdAt: { $lt: after.createdAt } }, { createdAt: after.createdAt, id: { $lt: after.id } }] },
        ],
      } as FilterQuery<Entity>)
    : where;
  const rows = await em.find(entityClass, pageWhere, {
    orderBy: { createdAt: 'desc', id: 'desc' } as never,
    limit: args.first + 1,
  });
  const page = rows.slice(0, args.first);
  const edges = page.map((entity) => ({ node: toNode(entity), cursor: encodeCursor(entity) }));
  return {
    edges,
    pageInfo: {
      hasNextPage: rows.length > args.first,
      hasPreviousPage: after !== null,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
  };
}
