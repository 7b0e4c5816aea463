import type { ApolloServerPlugin } from '@apollo/server';
import { Kind, visit, type DocumentNode, type GraphQLError, type ValueNode } from 'graphql';
import { badUserInput } from './errors.js';

// A lone half of a surrogate pair is not Unicode: UTF-8 cannot encode it, so PostgreSQL would get
// a replacement character instead of what was sent.
const unpairedSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Why PostgreSQL cannot store this text as sent, or undefined when it can. */
export function unstorableTextReason(text: string): string | undefined {
  // PostgreSQL's text types cannot hold U+0000 at all: the driver's message is refused.
  if (text.includes('\u0000')) return 'contains a NUL character (\\u0000)';
  if (unpairedSurrogate.test(text)) return 'contains an unpaired UTF-16 surrogate (not valid Unicode)';
  return undefined;
}

interface UnstorableInput {
  /** The argument path, as `input.name` or `filter.search` or `emails.2`. */
  field: string;
  reason: string;
}

/** What one parsed document says, kept as long as the document is (Apollo caches documents). */
interface DocumentInputs {
  /** The first literal string in an argument that cannot be stored. */
  literal?: UnstorableInput;
  /** Where each variable is first used, as the argument path it fills. */
  variablePaths: Map<string, string[]>;
  /** Default values of variables, checked when the request does not send the variable. */
  defaults: Map<string, ValueNode>;
}

function scanLiteral(value: ValueNode, path: string[], inputs: DocumentInputs): void {
  switch (value.kind) {
    case Kind.STRING: {
      const reason = inputs.literal ? undefined : unstorableTextReason(value.value);
      if (reason) inputs.literal = { field: path.join('.'), reason };
      return;
    }
    case Kind.LIST:
      value.values.forEach((item, index) => scanLiteral(item, [...path, String(index)], inputs));
      return;
    case Kind.OBJECT:
      for (const field of value.fields) scanLiteral(field.value, [...path, field.name.value], inputs);
      return;
    case Kind.VARIABLE:
      if (!inputs.variablePaths.has(value.name.value)) inputs.variablePaths.set(value.name.value, path);
      return;
    default:
      return;
  }
}

const documentInputs = new WeakMap<DocumentNode, DocumentInputs>();

function inputsOf(document: DocumentNode): DocumentInputs {
  let inputs = documentInputs.get(document);
  if (inputs) return inputs;
  const scanned: DocumentInputs = { variablePaths: new Map(), defaults: new Map() };
  visit(document, {
    Argument: (argument) => scanLiteral(argument.value, [argument.name.value], scanned),
    VariableDefinition: (definition) => {
      if (definition.defaultValue) scanned.defaults.set(definition.variable.name.value, definition.defaultValue);
    },
  });
  inputs = scanned;
  documentInputs.set(document, inputs);
  return inputs;
}

function scanVariable(value: unknown, path: string[]): UnstorableInput | undefined {
  if (typeof value === 'string') {
    const reason = unstorableTextReason(value);
    return reason ? { field: path.join('.'), reason } : undefined;
  }
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) {
      const found = scanVariable(item, [...path, String(index)]);
      if (found) return found;
    }
    return undefined;
  }
  if (typeof value === 'object' && value !== null) {
    for (const [key, item] of Object.entries(value)) {
      // A key is an input field name, checked by GraphQL validation; only values are stored.
      const found = scanVariable(item, [...path, key]);
      if (found) return found;
    }
  }
  return undefined;
}

/**
 * The first input of a request that PostgreSQL cannot store (a NUL byte, broken Unicode), in an
 * inline argument or a variable, named by the argument path it fills; undefined when all can be.
 */
export function findUnstorableInput(document: DocumentNode, variables: Record<string, unknown> | null | undefined): UnstorableInput | undefined {
  const inputs = inputsOf(document);
  if (inputs.literal) return inputs.literal;
  for (const [name, value] of Object.entries(variables ?? {})) {
    const found = scanVariable(value, inputs.variablePaths.get(name) ?? [`$${name}`]);
    if (found) return found;
  }
  for (const [name, defaultValue] of inputs.defaults) {
    if (variables && name in variables) continue;
    const defaults: DocumentInputs = { variablePaths: new Map(), defaults: new Map() };
    scanLiteral(defaultValue, inputs.variablePaths.get(name) ?? [`$${name}`], defaults);
    if (defaults.literal) return defaults.literal;
  }
  return undefined;
}

/** The BAD_USER_INPUT a request with unstorable input gets (HTTP 400 over Apollo Server). */
export function unstorableInputError(found: UnstorableInput): GraphQLError {
  return badUserInput(`${found.field} ${found.reason}, which cannot be stored. Remove it and send the request again.`, found.field, { http: { status: 400 } });
}

/**
 * Refuses, before anything runs, a request with text PostgreSQL cannot store, in any argument of
 * any field: one check for every resolver of every service, instead of a database error (a 500
 * and a stack trace in the logs) wherever such text reaches SQL.
 */
export function useStorableInput<Context extends object>(): ApolloServerPlugin<Context> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ document, request }) {
          const found = findUnstorableInput(document, request.variables);
          if (found) throw unstorableInputError(found);
        },
      };
    },
  };
}
