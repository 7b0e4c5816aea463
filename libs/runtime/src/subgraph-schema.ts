import { buildSubgraphSchema as buildApolloSubgraphSchema, type GraphQLResolverMap } from '@apollo/subgraph';
import { printSchemaWithDirectives } from '@graphql-tools/utils';
import { parse, type GraphQLResolveInfo, type GraphQLSchema } from 'graphql';
import { DateTimeResolver } from 'graphql-scalars';
import { buildSchema, createResolversMap, type BuildSchemaOptions, type ContainerType, type NonEmptyArray } from 'type-graphql';

/**
 * The federation version every subgraph links. Owned here so that all five subgraphs move together
 * and composition never sees two versions.
 */
export const federationVersion = 'v2.7';

const federationLink = `extend schema @link(url: "https://specs.apollo.dev/federation/${federationVersion}", import: ["@key", "@shareable", "@external", "@requires", "@provides", "@inaccessible", "@tag", "@override"])`;

/** `__resolveReference` for each entity type a subgraph can resolve from a key. */
export type ReferenceResolvers<Context> = Record<
  string,
  { __resolveReference: (reference: Record<string, unknown>, context: Context, info: GraphQLResolveInfo) => unknown }
>;

export interface BuildSubgraphSchemaOptions<Context> {
  /** type-graphql resolver classes. */
  resolvers: NonEmptyArray<Function>;
  /** Gives type-graphql the resolver instances built by the app's composition root. */
  container: ContainerType;
  referenceResolvers?: ReferenceResolvers<Context>;
  /** Types that no resolver returns but the schema must contain (entity stubs, for instance). */
  orphanedTypes?: Function[];
  /** type-graphql wants one as soon as a resolver declares a `@Subscription`. Default: none. */
  pubSub?: BuildSchemaOptions['pubSub'];
}

/**
 * type-graphql builds the schema from classes; @apollo/subgraph adds the federation fields
 * (`_service`, `_entities`). The printed SDL round-trips through `parse` because @apollo/subgraph
 * takes type definitions, not a built schema.
 */
export async function buildSubgraphSchema<Context>(options: BuildSubgraphSchemaOptions<Context>): Promise<GraphQLSchema> {
  const schema = await buildSchema({
    resolvers: options.resolvers,
    container: options.container,
    orphanedTypes: options.orphanedTypes,
    pubSub: options.pubSub,
    scalarsMap: [{ type: Date, scalar: DateTimeResolver }],
    skipCheck: true,
    validate: false,
  });
  const typeDefs = parse(`${federationLink}\n${printSchemaWithDirectives(schema)}`);
  const resolvers = mergeResolverMaps(createResolversMap(schema) as GraphQLResolverMap, (options.referenceResolvers ?? {}) as GraphQLResolverMap);
  return buildApolloSubgraphSchema([{ typeDefs, resolvers }]);
}

/** Merges two resolver maps type by type (both are only two levels deep: type, then field). */
function mergeResolverMaps(base: GraphQLResolverMap, extra: GraphQLResolverMap): GraphQLResolverMap {
  const merged: GraphQLResolverMap = { ...base };
  for (const [typeName, fields] of Object.entries(extra)) {
    merged[typeName] = { ...(merged[typeName] as object), ...(fields as object) } as GraphQLResolverMap[string];
  }
  return merged;
}

/**
 * The object `registerEnumType` takes for a closed list kept as a `const` array (the form zod and
 * the entities use): each value is its own key, so GraphQL enum values equal the stored strings.
 */
export function graphqlEnumOf<Value extends string>(values: readonly Value[]): { [Key in Value]: Key } {
  return Object.fromEntries(values.map((value) => [value, value])) as { [Key in Value]: Key };
}
