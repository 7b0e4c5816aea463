import { z } from 'zod';
import { AssetKind, assetKinds } from './asset-kind.js';
import { assetSchemaOf, type AssetByKind } from './asset-schemas.js';
import { AssetFieldError, formatFieldPath, parseFieldPath, schemaAtPath, setFieldAtPath, unwrapSchema, type FieldPathSegment } from './field-path.js';

// The user's notes (Campaign.userContext) win over what was generated, which wins over the website.
// The prompt tells a model so; this module makes it hold for any provider, offline included, by
// laying the fields the notes set over the generated asset. Everything else in the notes is prose
// for the prompt only.
//
// Format, either of:
//   1. Lines "field: value", one field a line, e.g.
//        pricing: From $49 per month
//        key features: Live dashboards; CRM sync; AI scoring
//        targetCompany.firmographics.industries: SaaS, Fintech
//        targetPersona.seniority: director, vp
//      - the field is a path of the asset (case, spaces, "-" and "_" do not matter: "key features"
//        is keyFeatures), optionally after the asset ("productOverview.", "target company.",
//        "POSITIONING.");
//      - a list of texts is split at ";" (at "," when there is no ";"); list positions work too
//        ("keyFeatures[0]: …"); enum values may be written in words ("decision maker");
//      - numbers are numbers, "null" clears a field that may be empty; objects and lists of
//        objects are given as JSON;
//      - lines naming no field ("Note: we mostly sell to banks") are prose and are skipped.
//   2. One JSON object, keys as above, nested objects allowed:
//        {"productOverview": {"pricing": "From $49 per month"}, "keyFeatures": ["A", "B"]}
// A field named without its asset goes to the first asset, in build order, that has the field and
// accepts the value ("description" is the product overview's; "buyingSignals: hiring SDRs" is the
// persona's, since the target company's signals are objects).

/** One field the user's notes set. */
export interface UserOverride {
  /** The asset the notes name, or null when they name only the field. */
  kind: AssetKind | null;
  /** As written, the asset prefix removed. */
  fieldPath: string;
  /** The text after the colon (lines) or the JSON value. */
  value: unknown;
  /** Whether `value` is raw text of a line, still to be read against the field's type. */
  fromLine: boolean;
  /** 1-based line of the notes; 0 for JSON. */
  line: number;
}

const squash = (text: string) => text.toLowerCase().replace(/[\s_-]+/g, '');

const kindByName = new Map<string, AssetKind>(
  assetKinds.flatMap((kind) => [
    [squash(kind), kind],
    [squash(kind.toLowerCase().replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase())), kind],
  ]),
);

/** Splits an asset prefix off a key: "target company.name" → [TARGET_COMPANY, "name"]. */
function splitKind(key: string): { kind: AssetKind | null; fieldPath: string } {
  const dot = key.indexOf('.');
  const kind = dot > 0 ? kindByName.get(squash(key.slice(0, dot))) : undefined;
  return kind ? { kind, fieldPath: key.slice(dot + 1) } : { kind: null, fieldPath: key };
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The overrides the notes contain, in the order written. Prose yields none. */
export function parseUserContext(userContext: string | null | undefined): UserOverride[] {
  const text = userContext?.trim();
  if (!text) return [];
  if (text.startsWith('{')) {
    try {
      const parsed = JSON.parse(text) as unknown;
      if (isRecord(parsed)) return flattenJson(parsed);
    } catch {
      // Not JSON after all: read it as lines.
    }
  }
  const overrides: UserOverride[] = [];
  for (const [index, rawLine] of text.split(/\r?\n/).entries()) {
    const match = /^\s*(?:[-*•]\s*)?([A-Za-z][\w .\-[\]]{0,80}?)\s*:\s*(.+?)\s*$/.exec(rawLine);
    if (!match) continue;
    const { kind, fieldPath } = splitKind(match[1]!.trim());
    overrides.push({ kind, fieldPath, value: match[2]!, fromLine: true, line: index + 1 });
  }
  return overrides;
}

function flattenJson(object: Record<string, unknown>): UserOverride[] {
  const overrides: UserOverride[] = [];
  for (const [key, value] of Object.entries(object)) {
    const kind = kindByName.get(squash(key));
    if (kind && isRecord(value)) {
      for (const [field, fieldValue] of Object.entries(value)) overrides.push({ kind, fieldPath: field, value: fieldValue, fromLine: false, line: 0 });
    } else {
      const split = splitKind(key);
      overrides.push({ ...split, value, fromLine: false, line: 0 });
    }
  }
  return overrides;
}

/** The schema's own spelling of a path written loosely ("key features" → keyFeatures), or undefined. */
function resolvePath(schema: z.ZodType, written: string): FieldPathSegment[] | undefined {
  let segments: FieldPathSegment[];
  try {
    segments = parseFieldPath(written.replace(/\s*\.\s*/g, '.').replace(/[\s-]+(\w)/g, (_, letter: string) => letter.toUpperCase()));
  } catch {
    return undefined;
  }
  const resolved: FieldPathSegment[] = [];
  for (const segment of segments) {
    if (typeof segment === 'number') {
      resolved.push(segment);
      continue;
    }
    const parent = unwrapSchema(schemaAtPath(schema, resolved)!);
    if (!(parent instanceof z.ZodObject)) return undefined;
    const key = Object.keys(parent.shape).find((candidate) => squash(candidate) === squash(segment));
    if (!key) return undefined;
    resolved.push(key);
  }
  return resolved;
}

/** An enum value written in words: "decision maker" → DECISION_MAKER. */
const enumToken = (text: string) => text.trim().toUpperCase().replace(/[\s-]+/g, '_');

/** A line's text read as the field's type; JSON values pass through. */
function readValue(target: z.ZodType, override: UserOverride): unknown {
  if (!override.fromLine) return override.value;
  const raw = String(override.value).trim();
  if (raw === 'null' && (target instanceof z.ZodNullable || target instanceof z.ZodOptional)) return null;
  const field = unwrapSchema(target);
  if (field instanceof z.ZodString) return raw;
  if (field instanceof z.ZodNumber) return Number(raw);
  if (field instanceof z.ZodEnum) return enumToken(raw);
  if (field instanceof z.ZodArray) {
    if (raw.startsWith('[')) return parseJsonOr(raw);
    const element = unwrapSchema(field.element as z.ZodType);
    const items = raw
      .split(raw.includes(';') ? ';' : ',')
      .map((item) => item.trim())
      .filter(Boolean);
    if (element instanceof z.ZodString) return items;
    if (element instanceof z.ZodEnum) return items.map(enumToken);
  }
  return parseJsonOr(raw);
}

function parseJsonOr(raw: string): unknown {
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw;
  }
}

/** Where an override goes and the value it sets there, or why it cannot go anywhere. */
function placeOverride(override: UserOverride): { kind: AssetKind; segments: FieldPathSegment[]; value: unknown } | { error: string } {
  const candidates = override.kind ? [override.kind] : assetKinds;
  let firstError: string | undefined;
  for (const kind of candidates) {
    const schema = assetSchemaOf(kind) as z.ZodType;
    const segments = resolvePath(schema, override.fieldPath);
    if (!segments) continue;
    const target = schemaAtPath(schema, segments)!;
    const value = readValue(target, override);
    const check = target.safeParse(value);
    if (check.success) return { kind, segments, value };
    firstError ??= `${formatFieldPath(segments)}: ${check.error.issues[0]?.message ?? 'invalid value'}`;
  }
  return { error: firstError ?? `${override.fieldPath} is not a field of ${override.kind ?? 'any asset'}` };
}

export interface UserContextResult<Value> {
  /** The asset with the notes' fields set; the generated one when the notes set none of its fields. */
  asset: Value;
  /** Paths set, in the order written. */
  applied: string[];
  /**
   * Fields the notes set for this asset (or for no asset in particular) that could not be applied,
   * with why; prose lines and fields of other assets are not listed.
   */
  rejected: Array<{ fieldPath: string; line: number; message: string }>;
}

/**
 * The generated asset with the fields the user's notes set laid over it (user > generated >
 * website), validated against the kind's schema; never mutates `asset`.
 */
export function applyUserContext<Kind extends AssetKind>(kind: Kind, asset: AssetByKind[Kind], userContext: string | null | undefined): UserContextResult<AssetByKind[Kind]> {
  const schema = assetSchemaOf(kind);
  const result: UserContextResult<AssetByKind[Kind]> = { asset, applied: [], rejected: [] };
  for (const override of parseUserContext(userContext)) {
    if (override.kind !== null && override.kind !== kind) continue;
    const placed = placeOverride(override);
    if ('error' in placed) {
      // A field no asset has is prose ("Note: …"); report only what was meant for a field of this kind.
      const meantHere = override.kind === kind || resolvePath(schema as z.ZodType, override.fieldPath) !== undefined;
      if (meantHere) result.rejected.push({ fieldPath: override.fieldPath, line: override.line, message: placed.error });
      continue;
    }
    if (placed.kind !== kind) continue;
    const path = formatFieldPath(placed.segments);
    try {
      result.asset = setFieldAtPath(result.asset, schema, path, placed.value);
      result.applied.push(path);
    } catch (error) {
      if (!(error instanceof AssetFieldError)) throw error;
      result.rejected.push({ fieldPath: path, line: override.line, message: error.message });
    }
  }
  return result;
}
