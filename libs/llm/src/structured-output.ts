import { jsonrepair } from 'jsonrepair';
import type { z } from 'zod';

export type StructuredOutputResult<Output> =
  | {
      success: true;
      object: Output;
      /** The JSON value that passed validation (before any zod transform): what the cache stores. */
      candidate: unknown;
      /** The answer needed extraction from prose or fences, or jsonrepair. */
      repaired: boolean;
    }
  | { success: false; issues: string[] };

/** zod issues as short lines a model can act on: `tags.0: Invalid input: expected string, received number`. */
export function formatIssues(issues: readonly z.core.$ZodIssue[]): string[] {
  return issues.map((issue) => `${issue.path.length > 0 ? issue.path.map(String).join('.') : '(root)'}: ${issue.message}`);
}

/** The text between the first opening bracket and its last closing one: JSON inside prose. */
function bracketed(text: string): string | undefined {
  const start = text.search(/[{[]/);
  if (start < 0) return undefined;
  const closing = text[start] === '{' ? '}' : ']';
  const end = text.lastIndexOf(closing);
  return end > start ? text.slice(start, end + 1) : text.slice(start);
}

/** Where JSON may hide in a model's text, most likely first. */
function* candidateTexts(text: string): Generator<string> {
  for (const match of text.matchAll(/```[a-zA-Z]*\s*\n?([\s\S]*?)(?:```|$)/g)) {
    if (match[1]?.trim()) yield match[1].trim();
  }
  const inProse = bracketed(text);
  if (inProse) yield inProse;
  yield text.trim();
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

function repairJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return parseJson(jsonrepair(text));
  } catch {
    return { ok: false };
  }
}

/**
 * Validates a model's answer against the task's schema. A parsed object (a tool's input) or the
 * whole text as JSON is tried first; then JSON found in fences or prose; then the same repaired by
 * jsonrepair (trailing commas, single quotes, unclosed brackets, comments). The first candidate
 * that validates wins. Otherwise the issues of the first candidate that was JSON at all come back,
 * for the corrective re-ask.
 */
export function parseStructuredOutput<Output>(
  answer: { text: string; object?: unknown },
  schema: z.ZodType<Output>,
  options: { wrapped: boolean },
): StructuredOutputResult<Output> {
  const unwrap = (value: unknown) =>
    options.wrapped && typeof value === 'object' && value !== null && !Array.isArray(value) && 'value' in value ? (value as { value: unknown }).value : value;
  let firstIssues: string[] | undefined;
  const attempt = (value: unknown, repaired: boolean): StructuredOutputResult<Output> | undefined => {
    const candidate = unwrap(value);
    const parsed = schema.safeParse(candidate);
    if (parsed.success) return { success: true, object: parsed.data, candidate, repaired };
    firstIssues ??= formatIssues(parsed.error.issues);
    return undefined;
  };

  if (answer.object !== undefined) {
    const direct = attempt(answer.object, false);
    if (direct) return direct;
  }
  const whole = parseJson(answer.text.trim());
  if (whole.ok) {
    const direct = attempt(whole.value, false);
    if (direct) return direct;
  }
  const seen = new Set<string>([answer.text.trim()]);
  const texts = [...candidateTexts(answer.text)];
  for (const text of texts) {
    if (seen.has(text)) continue;
    seen.add(text);
    const parsed = parseJson(text);
    if (parsed.ok) {
      const extracted = attempt(parsed.value, true);
      if (extracted) return extracted;
    }
  }
  for (const text of texts) {
    const repaired = repairJson(text);
    if (repaired.ok) {
      const fixed = attempt(repaired.value, true);
      if (fixed) return fixed;
    }
  }
  const preview = answer.text.length > 120 ? `${answer.text.slice(0, 120)}…` : answer.text;
  return { success: false, issues: firstIssues ?? [`(root): the answer is not JSON: ${JSON.stringify(preview)}`] };
}
