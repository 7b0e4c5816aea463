import type { LlmTask } from '@gtm/llm';
import { z } from 'zod';

export interface WebsiteSummaryContext {
  url: string;
  title: string | null;
  description: string | null;
  /** The summary built without a model; the offline answer, and a hint for the model. */
  extractiveSummary: string;
  /** The site's passages, most informative first, already cut to fit a prompt. */
  passages: Array<{ pageUrl: string; heading: string; text: string }>;
}

const websiteSummarySchema = z.object({
  summary: z.string().min(1).max(1_500).describe('Two to four plain sentences: what the company offers, to whom, and the main outcome it promises. Only facts the website states.'),
});

export type WebsiteSummary = z.infer<typeof websiteSummarySchema>;

/** The model-written summary of a website. Bump `version` whenever the prompt or schema changes. */
export const websiteSummaryTask: LlmTask<WebsiteSummary, WebsiteSummaryContext> = {
  name: 'content.website-summary',
  version: '1',
  schema: websiteSummarySchema,
  system:
    'You summarise company websites for sales and marketing teams. Use only what the website text says; ' +
    'never add customers, numbers or claims it does not contain. Write plainly, without marketing adjectives.',
  offline: (context) => ({ summary: context.extractiveSummary }),
};

/** Words of website text given to the model; enough for a summary, bounded in cost. */
const promptWordBudget = 2_500;

export function websiteSummaryPrompt(context: WebsiteSummaryContext): string {
  const lines = [`Website: ${context.url}`];
  if (context.title) lines.push(`Title: ${context.title}`);
  if (context.description) lines.push(`Description: ${context.description}`);
  lines.push('', 'Passages from the website:');
  let words = 0;
  for (const passage of context.passages) {
    const count = passage.text.split(/\s+/).length;
    if (words + count > promptWordBudget) break;
    words += count;
    lines.push(`[${passage.pageUrl} — ${passage.heading}] ${passage.text}`);
  }
  lines.push('', 'Summarise what this company does, for whom, and the outcome it promises, in two to four sentences.');
  return lines.join('\n');
}
