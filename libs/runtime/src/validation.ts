import { z } from 'zod';
import { badUserInput } from './errors.js';

/**
 * Validates user input against a zod schema; the first problem becomes a BAD_USER_INPUT error that
 * names the field, so a client can point at it.
 */
export function parseInput<Schema extends z.ZodType>(schema: Schema, input: unknown): z.infer<Schema> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const field = issue.path.join('.');
  throw badUserInput(field ? `${field} ${issue.message}.` : `${issue.message}.`, field || undefined);
}

/** Keeps only the keys a client sent, so an update touches exactly those fields. */
export function definedFields<Input extends object>(input: Input): Partial<Input> {
  return Object.fromEntries(Object.entries(input).filter(([, value]) => value !== undefined)) as Partial<Input>;
}

/** Optional free text: trimmed, at most `maximum` characters, and blank stored as null. */
export function optionalText(maximum: number) {
  return z
    .string()
    .trim()
    .max(maximum)
    .nullish()
    .transform((value) => (value ? value : null));
}
