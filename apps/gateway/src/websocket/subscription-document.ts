import {
  Kind,
  OperationTypeNode,
  parse,
  validate,
  visit,
  type DocumentNode,
  type FieldNode,
  type FormattedExecutionResult,
  type FragmentDefinitionNode,
  type GraphQLError,
  type GraphQLSchema,
  type SelectionSetNode,
} from 'graphql';

export interface CheckedDocument {
  schema: GraphQLSchema;
  document: DocumentNode;
  errors: readonly GraphQLError[];
  /** The subscription as a query (see `asQuery`), printed once. */
  asQuery?: string;
}

/**
 * Parsed and validated operations, by their text. Clients send the same few operations again and
 * again (every tab of a dashboard): parsing and validating each text once keeps a thousand
 * subscriptions from holding a thousand syntax trees. The oldest go first past `maximum`.
 */
export function createCheckedDocuments(maximum: number): (schema: GraphQLSchema, query: string) => CheckedDocument {
  const checkedDocuments = new Map<string, CheckedDocument>();
  return (schema, query) => {
    const cached = checkedDocuments.get(query);
    if (cached?.schema === schema) return cached;
    const document = parse(query);
    const result = { schema, document, errors: validate(schema, document) };
    checkedDocuments.set(query, result);
    if (checkedDocuments.size > maximum) checkedDocuments.delete(checkedDocuments.keys().next().value!);
    return result;
  };
}

/**
 * Many subscribers often follow one job with the same selection (a team watching a big import):
 * one event then needs one execution, not one per subscriber. The key holds everything the answer
 * depends on: the event, the tenant whose data it shows, and the operation with its variables. The
 * oldest entries go first past `maximum`; an event is only ever asked for while it is new.
 */
export function createSharedExecutions(maximum: number) {
  const sharedExecutions = new Map<string, Promise<FormattedExecutionResult>>();
  return (key: string, run: () => Promise<FormattedExecutionResult>): Promise<FormattedExecutionResult> => {
    let execution = sharedExecutions.get(key);
    if (!execution) {
      execution = run();
      sharedExecutions.set(key, execution);
      if (sharedExecutions.size > maximum) sharedExecutions.delete(sharedExecutions.keys().next().value!);
    }
    return execution;
  };
}

/** The one root field of a (validated) subscription, through any fragments it sits in. */
export function rootFieldOf(document: DocumentNode, selectionSet: SelectionSetNode): FieldNode | undefined {
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) return selection;
    const nested =
      selection.kind === Kind.INLINE_FRAGMENT
        ? selection.selectionSet
        : document.definitions.find((definition): definition is FragmentDefinitionNode => definition.kind === Kind.FRAGMENT_DEFINITION && definition.name.value === selection.name.value)
            ?.selectionSet;
    const field = nested && rootFieldOf(document, nested);
    if (field) return field;
  }
  return undefined;
}

/**
 * The subscription as a query of the same field: `Query.jobProgress` answers what
 * `Subscription.jobProgress` sends, so each event runs through the gateway's normal executor and
 * fields of other subgraphs' entities are resolved by federation as in any query.
 */
export function asQuery(document: DocumentNode, schema: GraphQLSchema): DocumentNode {
  const subscriptionType = schema.getSubscriptionType()?.name ?? 'Subscription';
  const queryType = schema.getQueryType()?.name ?? 'Query';
  return visit(document, {
    OperationDefinition: (node) => (node.operation === OperationTypeNode.SUBSCRIPTION ? { ...node, operation: OperationTypeNode.QUERY } : undefined),
    NamedType: (node) => (node.name.value === subscriptionType ? { ...node, name: { ...node.name, value: queryType } } : undefined),
  });
}
