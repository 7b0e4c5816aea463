import type { FakeLlmReply, FakeLlmRequest } from './fake-llm-server.js';

type JsonSchema = Record<string, any>;

/**
 * A small value that satisfies a JSON schema as providers receive it (types, enums, const,
 * required properties, min/max lengths and items, numeric bounds, anyOf/oneOf, local $refs).
 * Strings name their property, so answers stay readable in assertions.
 */
export function exampleFromJsonSchema(schema: JsonSchema, root: JsonSchema = schema, name = 'value'): unknown {
  if (typeof schema['$ref'] === 'string') {
    const path = (schema['$ref'] as string).replace(/^#\//, '').split('/');
    const target = path.reduce<any>((node, part) => node?.[part], root);
    return target ? exampleFromJsonSchema(target, root, name) : null;
  }
  if ('const' in schema) return schema['const'];
  if (Array.isArray(schema['enum'])) return schema['enum'][0];
  const alternatives = schema['anyOf'] ?? schema['oneOf'];
  if (Array.isArray(alternatives)) {
    const chosen = alternatives.find((alternative: JsonSchema) => alternative['type'] !== 'null') ?? alternatives[0];
    return exampleFromJsonSchema(chosen, root, name);
  }
  if (Array.isArray(schema['allOf'])) return Object.assign({}, ...schema['allOf'].map((part: JsonSchema) => exampleFromJsonSchema(part, root, name)));
  const type = Array.isArray(schema['type']) ? (schema['type'].find((candidate: string) => candidate !== 'null') ?? 'null') : schema['type'];
  switch (type) {
    case 'object': {
      const properties: Record<string, JsonSchema> = schema['properties'] ?? {};
      return Object.fromEntries(Object.entries(properties).map(([property, child]) => [property, exampleFromJsonSchema(child, root, property)]));
    }
    case 'array': {
      const count = Math.max(1, schema['minItems'] ?? 0);
      const limited = schema['maxItems'] === undefined ? count : Math.min(count, schema['maxItems']);
      return Array.from({ length: limited }, (_unused, index) => exampleFromJsonSchema(schema['items'] ?? {}, root, `${name} ${index + 1}`));
    }
    case 'integer':
    case 'number': {
      const minimum = schema['minimum'] ?? (schema['exclusiveMinimum'] === undefined ? undefined : schema['exclusiveMinimum'] + 1);
      const maximum = schema['maximum'] ?? (schema['exclusiveMaximum'] === undefined ? undefined : schema['exclusiveMaximum'] - 1);
      if (minimum !== undefined && minimum > 1) return minimum;
      if (maximum !== undefined && maximum < 1) return maximum;
      return 1;
    }
    case 'boolean':
      return true;
    case 'null':
      return null;
    case 'string': {
      if (schema['format'] === 'uri' || schema['format'] === 'url') return 'https://example.com/';
      if (schema['format'] === 'email') return 'someone@example.com';
      if (schema['format'] === 'date-time') return '2025-01-01T00:00:00.000Z';
      if (schema['format'] === 'date') return '2025-01-01';
      let text = `example ${name}`;
      const minimum = schema['minLength'] ?? 0;
      if (text.length < minimum) text = text.padEnd(minimum, '.');
      if (schema['maxLength'] !== undefined) text = text.slice(0, schema['maxLength']);
      return text;
    }
    default:
      return schema['properties'] ? exampleFromJsonSchema({ ...schema, type: 'object' }, root, name) : `example ${name}`;
  }
}

/**
 * A default reply for end-to-end tests: a schema-valid object for structured calls (from the schema
 * the client sent), plain text otherwise. `startFakeOpenAiServer({ respond: answerFromSchema })`.
 */
export function answerFromSchema(request: FakeLlmRequest): FakeLlmReply {
  return request.schema ? { json: exampleFromJsonSchema(request.schema) } : { text: `Example answer to: ${request.prompt.slice(0, 80)}` };
}
