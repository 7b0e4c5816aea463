/** What a sequence may say about its lead and sender. */
export interface MergeValues {
  firstName: string | null;
  lastName: string | null;
  company: string | null;
  title: string | null;
  senderName: string | null;
  iceBreaker: string | null;
}

/** Every merge field a sequence may use, with what stands in when the lead lacks the value. */
const fallbacks: Record<string, (values: MergeValues) => string> = {
  firstName: (values) => values.firstName ?? 'there',
  lastName: (values) => values.lastName ?? '',
  fullName: (values) => [values.firstName, values.lastName].filter(Boolean).join(' ') || 'there',
  company: (values) => values.company ?? 'your team',
  title: (values) => values.title ?? '',
  senderName: (values) => values.senderName ?? '',
  iceBreaker: (values) => values.iceBreaker ?? '',
};

export const supportedMergeFields = Object.keys(fallbacks);

const fieldPattern = /\{\{\s*([A-Za-z][A-Za-z0-9_]*)\s*\}\}/g;

/** The merge fields a text uses that no lead field fills, e.g. `{{discountCode}}`. */
export function unknownMergeFields(text: string): string[] {
  return [...new Set([...text.matchAll(fieldPattern)].map((match) => match[1]!).filter((name) => !(name in fallbacks)))];
}

const greeting = /^(hi|hello|hey|dear|hallo|bonjour|hola)\b[^\n]{0,60}[,!]?\s*$/i;

/**
 * Fills a sequence text for one lead. The ice-breaker goes where the text asks for it
 * (`{{iceBreaker}}`), or, in a first email that does not ask, right after the greeting; a line that
 * held only `{{iceBreaker}}` disappears when the lead has none.
 */
export function renderForLead(text: string, values: MergeValues, options: { placeIceBreaker?: boolean } = {}): string {
  let template = text.replace(/\r\n/g, '\n');
  if (!values.iceBreaker) template = template.replace(/^[ \t]*\{\{\s*iceBreaker\s*\}\}[ \t]*\n(\s*\n)?/gm, '');
  else if (options.placeIceBreaker && !/\{\{\s*iceBreaker\s*\}\}/.test(template)) {
    const lines = template.split('\n');
    const at = greeting.test(lines[0] ?? '') ? 1 : 0;
    lines.splice(at, 0, ...(at === 1 ? ['', '{{iceBreaker}}'] : ['{{iceBreaker}}', '']));
    template = lines.join('\n');
  }
  return template
    .replace(fieldPattern, (whole, name: string) => (fallbacks[name] ? fallbacks[name](values) : whole))
    .replace(/[ \t]+\n/g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}
