import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { LlmOutputSchema } from './llm.types.js';

export interface PreparedOutputSchema {
  schema: LlmOutputSchema;
  /**
   * Providers need an object at the root (OpenAI structured outputs, Anthropic's `input_schema`),
   * so any other root is sent as `{ value: … }` and unwrapped before validation.
   */
  wrapped: boolean;
  /** sha256 of the JSON schema: part of the cache key, so a schema change never reads an old answer. */
  fingerprint: string;
}

type JsonSchema = Record<string, unknown>;

/**
 * Objects are closed (`additionalProperties: false`) unless the zod schema says otherwise: the
 * model should not invent fields, and strict mode requires it.
 */
function closeObjects(node: unknown): void {
  if (Array.isArray(node)) {
    for (const item of node) closeObjects(item);
    return;
  }
  if (typeof node !== 'object' || node === null) return;
  const schema = node as JsonSchema;
  if (schema['type'] === 'object' && schema['properties'] && !('additionalProperties' in schema)) schema['additionalProperties'] = false;
  for (const value of Object.values(schema)) closeObjects(value);
}

/** OpenAI's strict mode: every object lists all its properties as required and is closed. */
function isStrictCompatible(node: unknown): boolean {
  if (Array.isArray(node)) return node.every(isStrictCompatible);
  if (typeof node !== 'object' || node === null) return true;
  const schema = node as JsonSchema;
  if (schema['type'] === 'object') {
    const properties = Object.keys((schema['properties'] as JsonSchema | undefined) ?? {});
    const required = new Set((schema['required'] as string[] | undefined) ?? []);
    if (schema['additionalProperties'] !== false || properties.some((property) => !required.has(property))) return false;
  }
  return Object.values(schema).every(isStrictCompatible);
}

/** OpenAI and Anthropic both accept `^[a-zA-Z0-9_-]{1,64}$` as a schema or tool name. */
export function schemaName(taskName: string): string {
  return taskName.replace(/[^a-zA-Z0-9_-]+/g, '_').slice(0, 64) || 'output';
}

/**
 * The JSON schema sent to providers, from the task's zod schema (zod 4's own `toJSONSchema`, input
 * side: the model writes what the schema parses).
 */
export function prepareOutputSchema(taskName: string, schema: z.ZodType): PreparedOutputSchema {
  const generated = z.toJSONSchema(schema, { target: 'draft-2020-12', io: 'input', unrepresentable: 'any' }) as JsonSchema;
  delete generated['$schema'];
  const wrapped = generated['type'] !== 'object';
  const jsonSchema: JsonSchema = wrapped ? { type: 'object', properties: { value: generated }, required: ['value'], additionalProperties: false } : generated;
  closeObjects(jsonSchema);
  const text = JSON.stringify(jsonSchema);
  return {
    schema: { name: schemaName(taskName), jsonSchema, strict: isStrictCompatible(jsonSchema) },
    wrapped,
    fingerprint: createHash('sha256').update(text).digest('hex'),
  };
}

/** The instruction for servers that only offer JSON mode (no schema enforcement). */
export function schemaInstruction(schema: LlmOutputSchema): string {
  return `Answer with one JSON object, and nothing else, that matches this JSON schema:\n${JSON.stringify(schema.jsonSchema)}`;
}
