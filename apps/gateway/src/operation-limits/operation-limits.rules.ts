import {
  GraphQLError,
  Kind,
  SchemaMetaFieldDef,
  TypeMetaFieldDef,
  TypeNameMetaFieldDef,
  getNamedType,
  getNullableType,
  isCompositeType,
  isInterfaceType,
  isListType,
  isObjectType,
  typeFromAST,
  valueFromASTUntyped,
  type ASTNode,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';
import type { OperationLimits } from './operation-limits.config.js';
import { ErrorCode, operationLimitExceeded } from '@gtm/runtime';

/** The `extensions.code` of every limit refusal; clients branch on it together with `extensions.limit`. */
export const operationLimitExceededCode = ErrorCode.OperationLimitExceeded;

export type OperationLimitName = 'depth' | 'aliases' | 'cost' | 'batch' | 'body';

/** A list field without a page-size argument is assumed to return this many items. */
export const defaultListSize = 20;
/** No list multiplies its selection by more than this (the largest page our connections serve). */
export const maximumListMultiplier = 100;
const pageSizeArgumentNames = ['first', 'last', 'limit'];

export interface OperationLimitErrorOptions {
  nodes?: ASTNode | readonly ASTNode[];
  /** The actual figure is only what was seen before giving up (a streamed body), so the message says "at least". */
  actualIsLowerBound?: boolean;
}

const advice: Record<OperationLimitName, string> = {
  depth: 'Split it or ask for fewer nested fields.',
  aliases: 'Split it into several operations or ask for each field once.',
  cost: 'Ask for smaller pages (first/last) or fewer nested lists, or split it into several operations.',
  batch: 'Send fewer operations per request.',
  body: 'Send a smaller document or smaller variables.',
};

function describeActual(limit: OperationLimitName, actual: number, atLeast: string): string {
  switch (limit) {
    case 'depth':
      return `This operation is ${atLeast}${actual} levels deep`;
    case 'aliases':
      return `This operation uses ${atLeast}${actual} aliases`;
    case 'cost':
      return `This operation has an estimated cost of ${atLeast}${actual}`;
    case 'batch':
      return `This request batches ${atLeast}${actual} operations`;
    case 'body':
      return `This request body is ${atLeast}${actual} bytes`;
  }
}

/**
 * The one shape of every limit refusal, whichever layer detects it (validation, the Apollo plugin
 * or the HTTP middleware), so a client handles them all the same way.
 */
export function operationLimitError(limit: OperationLimitName, maximum: number, actual: number, options: OperationLimitErrorOptions = {}): GraphQLError {
  const atLeast = options.actualIsLowerBound ? 'at least ' : '';
  const unit = limit === 'body' ? ' bytes' : '';
  return operationLimitExceeded(`${describeActual(limit, actual, atLeast)}; the maximum is ${maximum}${unit}. ${advice[limit]}`, { limit, maximum, actual }, options.nodes);
}

export interface OperationMeasurement {
  /** Deepest field nesting; top-level fields are level 1. */
  depth: number;
  /** Aliased fields, counted once per place a fragment is spread. */
  aliases: number;
  /** Estimated cost, see `measureOperation`. */
  cost: number;
}

export interface OperationToMeasure {
  schema: GraphQLSchema;
  /** The whole document: fragments are looked up in it. */
  document: DocumentNode;
  operation: OperationDefinitionNode;
  /** The request's variables; without them page sizes given by variables fall back to their defaults. */
  variables?: Readonly<Record<string, unknown>> | null;
}

interface Scope {
  /** Inside `__schema`/`__type`: answered from the in-memory schema, never fetched from a subgraph. */
  introspection: boolean;
  /** Set while measuring a connection's own fields: the page size its `edges`/`nodes` multiply by. */
  connectionPageSize: number | undefined;
}

interface Walk {
  schema: GraphQLSchema;
  fragments: ReadonlyMap<string, FragmentDefinitionNode>;
  variables: Readonly<Record<string, unknown>>;
  /** Whether a page size was read from anything but a literal: the figures then hold for these variables only. */
  readsVariables: boolean;
  // A fragment spread many times (or fragments spreading each other in a tree) would make a naive
  // walk exponential in the document size: each fragment is measured once per scope.
  measuredFragments: Map<string, OperationMeasurement>;
  fragmentsOnPath: Set<string>;
}

const nothing: OperationMeasurement = { depth: 0, aliases: 0, cost: 0 };

// Nested multipliers can outgrow a double; past this the exact figure means nothing anyway.
const boundedCost = (cost: number) => Math.min(cost, Number.MAX_SAFE_INTEGER);

/**
 * Measures one operation for the depth, alias and cost limits.
 *
 * Cost model: every field costs 1, except `__typename` (0: the gateway answers it without a
 * fetch). A list field — one returning a list, or taking `first`, `last` or `limit` — costs 1 plus
 * its page size times the cost of its selection. The page size is the largest of those arguments
 * (variables resolved, then the variable's default, then the schema's default), 20 when none is
 * given, and between 1 and 100. A Relay connection field (its type has a list `edges`) costs 1
 * plus its selection, and hands its page size to its `edges`/`nodes`, so `pageInfo` and
 * `totalCount` count once and `edges` does not multiply a second time.
 * Introspection fields cost 1 each and never multiply: they are served from the in-memory schema,
 * and standard tooling's introspection query must fit in the default budget.
 *
 * `@skip`/`@include` are ignored (the estimate assumes everything is asked for), and every branch
 * of an abstract type's fragments is added up: both only ever overestimate.
 *
 * Fragment cycles do not loop (the spread that closes a cycle counts nothing; graphql's own
 * NoFragmentCyclesRule rejects such documents) and unknown fields or fragments count as plain
 * fields, so measuring an invalid document never throws.
 */
export function measureOperation({ schema, document, operation, variables }: OperationToMeasure): OperationMeasurement {
  const known = measuredOperations.get(operation);
  if (known?.schema === schema && known.document === document) return known.measurement;
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  const walk: Walk = {
    schema,
    fragments,
    variables: variablesWithDefaults(operation, variables ?? {}),
    readsVariables: false,
    measuredFragments: new Map(),
    fragmentsOnPath: new Set(),
  };
  const measurement = measureSelectionSet(walk, operation.selectionSet, schema.getRootType(operation.operation) ?? undefined, { introspection: false, connectionPageSize: undefined });
  if (!walk.readsVariables) measuredOperations.set(operation, { schema, document, measurement });
  return measurement;
}

// Apollo Server keeps one parsed document per query text, so the same operation node comes back
// with every request that sends that text: its figures are measured once, unless a page size comes
// from a variable. Keyed weakly: an operation Apollo's cache lets go of is forgotten here too.
const measuredOperations = new WeakMap<OperationDefinitionNode, { schema: GraphQLSchema; document: DocumentNode; measurement: OperationMeasurement }>();

// Validation runs before variables are coerced, so an operation's own defaults are applied here.
function variablesWithDefaults(operation: OperationDefinitionNode, variables: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const resolved: Record<string, unknown> = {};
  for (const definition of operation.variableDefinitions ?? []) {
    const name = definition.variable.name.value;
    if (Object.hasOwn(variables, name)) resolved[name] = variables[name];
    else if (definition.defaultValue) resolved[name] = valueFromASTUntyped(definition.defaultValue);
  }
  return resolved;
}

// `spreadFragments` is shared with the inline fragments of the same level because execution
// (graphql's collectFields) runs a fragment spread there twice only once.
function measureSelectionSet(
  walk: Walk,
  selectionSet: SelectionSetNode,
  parentType: GraphQLCompositeType | undefined,
  scope: Scope,
  spreadFragments = new Set<string>(),
): OperationMeasurement {
  let depth = 0;
  let aliases = 0;
  let cost = 0;
  for (const selection of selectionSet.selections) {
    let measured: OperationMeasurement;
    if (selection.kind === Kind.FIELD) {
      measured = measureField(walk, selection, parentType, scope);
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      const conditionType = selection.typeCondition ? typeFromAST(walk.schema, selection.typeCondition) : parentType;
      measured = measureSelectionSet(walk, selection.selectionSet, isCompositeType(conditionType) ? conditionType : undefined, scope, spreadFragments);
    } else {
      if (spreadFragments.has(selection.name.value)) continue;
      spreadFragments.add(selection.name.value);
      measured = measureFragment(walk, selection.name.value, scope);
    }
    depth = Math.max(depth, measured.depth);
    aliases += measured.aliases;
    cost = boundedCost(cost + measured.cost);
  }
  return { depth, aliases, cost };
}

function measureFragment(walk: Walk, name: string, scope: Scope): OperationMeasurement {
  const key = `${name}|${scope.introspection}|${scope.connectionPageSize ?? ''}`;
  const known = walk.measuredFragments.get(key);
  if (known) return known;
  const fragment = walk.fragments.get(name);
  if (!fragment || walk.fragmentsOnPath.has(name)) return nothing;
  walk.fragmentsOnPath.add(name);
  const conditionType = typeFromAST(walk.schema, fragment.typeCondition);
  const measured = measureSelectionSet(walk, fragment.selectionSet, isCompositeType(conditionType) ? conditionType : undefined, scope);
  walk.fragmentsOnPath.delete(name);
  walk.measuredFragments.set(key, measured);
  return measured;
}

function measureField(walk: Walk, field: FieldNode, parentType: GraphQLCompositeType | undefined, scope: Scope): OperationMeasurement {
  const name = field.name.value;
  const definition = fieldDefinition(walk.schema, parentType, name);
  const namedType = definition ? getNamedType(definition.type) : undefined;
  const childType = isCompositeType(namedType) ? namedType : undefined;
  const alias = field.alias ? 1 : 0;
  // `ofType` unwraps one list or non-null wrapper: it cannot fan out, and tooling's standard
  // introspection query nests it nine levels deep to read types like [[String!]!]!, which would
  // otherwise exceed any sensible depth limit on its own. Every other introspection field counts.
  const levels = parentType?.name === '__Type' && name === 'ofType' ? 0 : 1;
  const measureChildren = (childScope: Scope) => (field.selectionSet ? measureSelectionSet(walk, field.selectionSet, childType, childScope) : nothing);

  if (scope.introspection || name === '__schema' || name === '__type') {
    const children = measureChildren({ introspection: true, connectionPageSize: undefined });
    return { depth: levels + children.depth, aliases: alias + children.aliases, cost: boundedCost(1 + children.cost) };
  }
  if (name === '__typename') return { depth: levels, aliases: alias, cost: 0 };

  if (childType && isConnection(childType)) {
    const children = measureChildren({ introspection: false, connectionPageSize: pageSizeOf(walk, field, definition) });
    return { depth: levels + children.depth, aliases: alias + children.aliases, cost: boundedCost(1 + children.cost) };
  }

  const returnsList = definition !== undefined && isListType(getNullableType(definition.type));
  let multiplier = 1;
  if (scope.connectionPageSize !== undefined && returnsList && (name === 'edges' || name === 'nodes')) multiplier = scope.connectionPageSize;
  else if (returnsList || takesPageSize(field, definition)) multiplier = pageSizeOf(walk, field, definition);
  const children = measureChildren({ introspection: false, connectionPageSize: undefined });
  return { depth: levels + children.depth, aliases: alias + children.aliases, cost: boundedCost(1 + multiplier * children.cost) };
}

function fieldDefinition(schema: GraphQLSchema, parentType: GraphQLCompositeType | undefined, name: string): GraphQLField<unknown, unknown> | undefined {
  if (name === TypeNameMetaFieldDef.name) return TypeNameMetaFieldDef;
  if (parentType && parentType === schema.getQueryType()) {
    if (name === SchemaMetaFieldDef.name) return SchemaMetaFieldDef;
    if (name === TypeMetaFieldDef.name) return TypeMetaFieldDef;
  }
  if (isObjectType(parentType) || isInterfaceType(parentType)) return parentType.getFields()[name];
  return undefined;
}

function isConnection(type: GraphQLCompositeType): boolean {
  if (!isObjectType(type) && !isInterfaceType(type)) return false;
  const edges = type.getFields()['edges'];
  return edges !== undefined && isListType(getNullableType(edges.type));
}

function takesPageSize(field: FieldNode, definition: GraphQLField<unknown, unknown> | undefined): boolean {
  return (
    (definition?.args.some((argument) => pageSizeArgumentNames.includes(argument.name)) ?? false) ||
    (field.arguments?.some((argument) => pageSizeArgumentNames.includes(argument.name.value)) ?? false)
  );
}

function pageSizeOf(walk: Walk, field: FieldNode, definition: GraphQLField<unknown, unknown> | undefined): number {
  const sizes: number[] = [];
  for (const argumentName of pageSizeArgumentNames) {
    const argument = field.arguments?.find((candidate) => candidate.name.value === argumentName);
    if (argument && argument.value.kind !== Kind.INT) walk.readsVariables = true;
    let value = argument ? valueFromASTUntyped(argument.value, walk.variables) : undefined;
    if (value === undefined || value === null) value = definition?.args.find((candidate) => candidate.name === argumentName)?.defaultValue;
    if (typeof value === 'number' && Number.isFinite(value)) sizes.push(value);
  }
  const size = sizes.length > 0 ? Math.max(...sizes) : defaultListSize;
  return Math.min(maximumListMultiplier, Math.max(1, Math.trunc(size)));
}

export type MeasuredLimits = Pick<OperationLimits, 'maximumDepth' | 'maximumAliases' | 'maximumCost'>;

/**
 * The first limit the operation exceeds (depth, then aliases, then cost), as the error to send,
 * or undefined when it is within all three. For callers outside Apollo Server's pipeline too,
 * such as a graphql-ws `onSubscribe`.
 */
export function checkOperationLimits(operation: OperationToMeasure, limits: MeasuredLimits): GraphQLError | undefined {
  const measured = measureOperation(operation);
  const nodes = operation.operation;
  if (measured.depth > limits.maximumDepth) return operationLimitError('depth', limits.maximumDepth, measured.depth, { nodes });
  if (measured.aliases > limits.maximumAliases) return operationLimitError('aliases', limits.maximumAliases, measured.aliases, { nodes });
  if (measured.cost > limits.maximumCost) return operationLimitError('cost', limits.maximumCost, measured.cost, { nodes });
  return undefined;
}

// Every operation in the document is checked: plain validation does not know which one will run.
function limitRule(limit: 'depth' | 'aliases' | 'cost', maximum: number, figureOf: (measured: OperationMeasurement) => number, variables?: Readonly<Record<string, unknown>>): ValidationRule {
  return (context: ValidationContext) => ({
    OperationDefinition(operation) {
      const actual = figureOf(measureOperation({ schema: context.getSchema(), document: context.getDocument(), operation, variables }));
      if (actual > maximum) context.reportError(operationLimitError(limit, maximum, actual, { nodes: operation }));
    },
  });
}

/**
 * Validation rule: no operation nests fields deeper than `maximumDepth`. Fragments are followed,
 * cycles are safe, introspection fields count (except `__Type.ofType`, see measureOperation).
 * Apollo Server rewrites a validation error's code to GRAPHQL_VALIDATION_FAILED, so within Apollo
 * use `useOperationLimits`; these rules serve other validation paths (graphql-ws, scripts).
 */
export function depthLimitRule(maximumDepth: number): ValidationRule {
  return limitRule('depth', maximumDepth, (measured) => measured.depth);
}

/** Validation rule: no operation has more than `maximumAliases` aliased fields, fragments expanded. */
export function aliasLimitRule(maximumAliases: number): ValidationRule {
  return limitRule('aliases', maximumAliases, (measured) => measured.aliases);
}

/**
 * Validation rule: no operation's estimated cost exceeds `maximumCost`. Page sizes given by
 * variables are only known when `variables` is passed; without them the variable's default, the
 * argument's default or 20 is assumed, which is why Apollo Server uses the plugin instead.
 */
export function costLimitRule(maximumCost: number, variables?: Readonly<Record<string, unknown>>): ValidationRule {
  return limitRule('cost', maximumCost, (measured) => measured.cost, variables);
}
