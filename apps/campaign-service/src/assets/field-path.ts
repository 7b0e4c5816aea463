import { z } from 'zod';

// Field corrections (`correctAsset` with scope FIELD) name one field of an asset by a path such
// as `keyFeatures[2]`, `firmographics.industries` or `valuePropositions[0].evidence`. The path is
// checked against the schema first, so a typo is reported as a bad path rather than as a value
// the schema happens to reject, and the corrected asset is validated whole before it is returned.

export type AssetFieldErrorCode = 'INVALID_FIELD_PATH' | 'INVALID_FIELD_VALUE';

/**
 * A correction that cannot be applied: a path the asset's schema does not have, or a value it
 * rejects. The message is for the user (correctAsset answers it as BAD_USER_INPUT).
 */
export class AssetFieldError extends Error {
  override name = 'AssetFieldError';

  constructor(
    readonly code: AssetFieldErrorCode,
    message: string,
    readonly fieldPath: string,
    /** Every problem zod found, as `path: message` lines (empty for a bad path). */
    readonly issues: readonly string[] = [],
  ) {
    super(message);
  }
}

/** One step of a path: a field name or a list position. */
export type FieldPathSegment = string | number;

const segmentPattern = /^([A-Za-z_][A-Za-z0-9_]*)((?:\[\d+\])*)$/;

/** `valuePropositions[0].evidence` → `['valuePropositions', 0, 'evidence']`; throws INVALID_FIELD_PATH on bad syntax. */
export function parseFieldPath(fieldPath: string): FieldPathSegment[] {
  const trimmed = fieldPath.trim();
  const segments: FieldPathSegment[] = [];
  for (const part of trimmed.split('.')) {
    const match = segmentPattern.exec(part);
    if (!match) throw new AssetFieldError('INVALID_FIELD_PATH', `"${fieldPath}" is not a field path; write it like keyFeatures[2] or firmographics.industries.`, fieldPath);
    segments.push(match[1]!);
    for (const index of match[2]!.matchAll(/\[(\d+)\]/g)) segments.push(Number(index[1]));
  }
  return segments;
}

/** `['valuePropositions', 0, 'evidence']` → `valuePropositions[0].evidence`. */
export function formatFieldPath(segments: readonly FieldPathSegment[]): string {
  return segments.map((segment, index) => (typeof segment === 'number' ? `[${segment}]` : index === 0 ? segment : `.${segment}`)).join('');
}

/** The schema without `null`/`undefined` around it. */
export function unwrapSchema(schema: z.ZodType): z.ZodType {
  let current = schema;
  while (current instanceof z.ZodNullable || current instanceof z.ZodOptional) current = current.unwrap() as z.ZodType;
  return current;
}

/** The schema of the value at `segments`, or undefined when the schema has no such field. */
export function schemaAtPath(schema: z.ZodType, segments: readonly FieldPathSegment[]): z.ZodType | undefined {
  let current: z.ZodType = schema;
  for (const segment of segments) {
    const unwrapped = unwrapSchema(current);
    if (typeof segment === 'number') {
      if (!(unwrapped instanceof z.ZodArray)) return undefined;
      current = unwrapped.element as z.ZodType;
    } else {
      if (!(unwrapped instanceof z.ZodObject)) return undefined;
      const shape = unwrapped.shape as Record<string, z.ZodType>;
      if (!Object.hasOwn(shape, segment)) return undefined;
      current = shape[segment]!;
    }
  }
  return current;
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * A copy of `asset` with the field at `fieldPath` set to `value`, validated against `schema`.
 * A list position may be the list's length, which appends. `asset` is never changed.
 * Throws AssetFieldError: INVALID_FIELD_PATH when the schema or the asset has no such field,
 * INVALID_FIELD_VALUE (with zod's message) when the result does not match the schema.
 */
export function setFieldAtPath<Value>(asset: Value, schema: z.ZodType<Value>, fieldPath: string, value: unknown): Value {
  const segments = parseFieldPath(fieldPath);
  const path = formatFieldPath(segments);
  if (!schemaAtPath(schema, segments)) throw new AssetFieldError('INVALID_FIELD_PATH', `${path} is not a field of this asset.`, path);

  const copy = structuredClone(asset) as unknown;
  let parent: unknown = copy;
  for (const [index, segment] of segments.entries()) {
    const last = index === segments.length - 1;
    const reached = formatFieldPath(segments.slice(0, index + 1));
    if (typeof segment === 'number') {
      if (!Array.isArray(parent)) throw new AssetFieldError('INVALID_FIELD_PATH', `${reached} is not in this asset: its list is empty or missing.`, path);
      const limit = last ? parent.length : parent.length - 1;
      if (segment > limit) throw new AssetFieldError('INVALID_FIELD_PATH', `${reached} is past the end of a list of ${parent.length}.`, path);
      if (last) parent[segment] = structuredClone(value);
      else parent = parent[segment];
    } else {
      if (!isRecord(parent)) throw new AssetFieldError('INVALID_FIELD_PATH', `${reached} is not in this asset: its parent is empty.`, path);
      if (last) parent[segment] = structuredClone(value);
      else parent = parent[segment];
    }
  }

  const parsed = schema.safeParse(copy);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((issue) => `${issue.path.length > 0 ? formatFieldPath(issue.path.map((step) => (typeof step === 'number' ? step : String(step)))) : '(root)'}: ${issue.message}`);
  throw new AssetFieldError('INVALID_FIELD_VALUE', issues[0]!, path, issues);
}
