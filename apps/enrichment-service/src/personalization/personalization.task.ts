import type { LlmTask } from '@gtm/llm';
import { z } from 'zod';
import type { CampaignTargeting } from '../campaign-context/campaign-targeting.js';
import type { WebsitePassage } from '../website-analysis/website-analysis.client.js';
import { sentencesOf } from './quote-check.js';

/** What personalisation is written from: the company's own passages and the campaign's context. */
export interface PersonalizationContext {
  company: { name: string; city: string | null; region: string | null; website: string; title: string | null; summary: string | null };
  /** The person the opener greets: the top-ranked contact, or nobody. */
  contact: { name: string; title: string | null } | null;
  passages: WebsitePassage[];
  campaign: CampaignTargeting | null;
}

export const personalizationSchema = z.object({
  subject: z.string().trim().min(3).max(90).describe('An email subject line, under 60 characters where possible, about this company, not the seller.'),
  iceBreaker: z
    .string()
    .trim()
    .min(40)
    .max(700)
    .refine((text) => {
      const count = sentencesOf(text).length;
      return count >= 2 && count <= 3;
    }, 'must be two or three sentences')
    .describe('Two or three sentences opening the email, built on something specific the company says on its own website.'),
  hotButtonTopic: z.string().trim().min(3).max(120).describe('The topic most likely to make this company answer, in a few words, taken from its own passages.'),
  quotes: z
    .array(z.object({ quote: z.string().trim().min(8).max(300).describe('Words copied exactly from one passage.'), pageUrl: z.string().describe('The page of that passage.') }))
    .min(1)
    .max(3)
    .describe('The passages the opener rests on, quoted word for word.'),
});

export type PersonalizationOutput = z.infer<typeof personalizationSchema>;

// Topics small businesses care about and talk about on their own sites, with how strongly each
// suggests something worth opening with.
const hotButtonCues: Array<[RegExp, number]> = [
  [/\bfamily[- ]owned\b|\bfamily business\b|\bgenerations?\b/i, 5],
  [/\bsince (19|20)\d\d\b|\bover \d+ years\b|\b\d+ years (of|in)\b|\bfounded\b|\bestablished\b/i, 4],
  [/\baward|\bvoted\b|\brated\b|\bwinner\b|\brecogni[sz]ed\b/i, 4],
  [/\bcommunity\b|\blocally owned\b|\bveteran|\bsponsor/i, 3],
  [/\bfinanc(e|ing)\b|\bcredit\b|\bwarrant(y|ies)\b/i, 3],
  [/\bspeciali[sz]e|\bcertified\b|\bexpert/i, 2],
  [/\bcustomers?\b|\breviews?\b|\btrust(ed)?\b|\bsatisf/i, 2],
  [/\bselection\b|\binventory\b|\bservice\b|\brepair\b|\binstall/i, 1],
];

const genericHeadings = /^(home|welcome|about( us)?|contact( us)?|menu|main|untitled|services|our services)$/i;

function cueScore(text: string, extra: readonly string[]): number {
  let score = 0;
  for (const [pattern, weight] of hotButtonCues) if (pattern.test(text)) score += weight;
  const lower = text.toLowerCase();
  for (const word of extra) if (word.length > 3 && lower.includes(word)) score += 1;
  return score;
}

function shorten(text: string, maximum: number): string {
  if (text.length <= maximum) return text;
  const cut = text.slice(0, maximum - 1);
  return `${cut.slice(0, Math.max(cut.lastIndexOf(' '), maximum / 2)).replace(/[\s,;:.-]+$/, '')}…`;
}

/** The company's name as people say it: without its legal form, in title case when it is shouted. */
export function speakableName(name: string): string {
  const bare = name.replace(/[,.]?\s+(inc|incorporated|llc|l\.l\.c|corp|corporation|co|ltd|limited|pllc|pa|lp|llp)\.?$/i, '').trim();
  if (bare !== bare.toUpperCase()) return bare;
  return bare.toLowerCase().replace(/\b([a-z])/g, (letter) => letter.toUpperCase());
}

/**
 * The offline, extractive opener: the company's own most telling sentence (family, years in
 * business, awards, community … weighed with the campaign's pain points), quoted verbatim, its
 * heading or first words as the topic. Marked `offline` and extractive by the caller; never shown as
 * a model's writing.
 */
export function extractivePersonalization(context: PersonalizationContext): PersonalizationOutput {
  const campaignWords = [...(context.campaign?.seller.painPoints ?? []), ...(context.campaign?.targetCompany?.keywords ?? [])].flatMap((phrase) => phrase.toLowerCase().split(/\W+/));
  const candidates = context.passages.flatMap((passage) =>
    sentencesOf(passage.text)
      .filter((sentence) => sentence.length >= 30 && sentence.length <= 240 && !/[|{}<>"]/.test(sentence) && sentencesOf(sentence).length === 1)
      .map((sentence, index) => ({ passage, sentence, score: cueScore(sentence, campaignWords) + passage.score - index * 0.1 })),
  );
  const best = candidates.toSorted((left, right) => right.score - left.score)[0];
  const company = speakableName(context.company.name);
  const greeting = context.contact ? `Hi ${context.contact.name.split(' ')[0]}, ` : 'Hi, ';
  const seller = context.campaign?.seller;
  const pain = seller?.painPoints[0];
  const closing = seller?.companyName && pain
    ? `That is why I thought of you: ${seller.companyName} helps companies like ${company} with ${pain.charAt(0).toLowerCase()}${pain.slice(1).replace(/\.$/, '')}.`
    : `That is what made me want to reach out to ${company}.`;
  if (!best) {
    const summary = context.company.summary ?? context.company.title ?? `${company}'s website`;
    return {
      subject: shorten(`A question for ${company}`, 60),
      iceBreaker: `${greeting}I came across ${company} while reading ${new URL(context.company.website).hostname}. ${closing}`,
      hotButtonTopic: shorten(summary, 80),
      quotes: [{ quote: shorten(summary, 200).replace(/…$/, ''), pageUrl: context.company.website }],
    };
  }
  const heading = best.passage.heading.trim();
  const topic = heading && !genericHeadings.test(heading) && heading.length <= 80 ? heading : shorten(best.sentence.replace(/[.!?]+$/, ''), 60);
  return {
    subject: shorten(`${topic} at ${company}`, 70),
    iceBreaker: `${greeting}your website says "${best.sentence.replace(/\s+/g, ' ')}" ${closing}`,
    hotButtonTopic: topic,
    quotes: [{ quote: best.sentence, pageUrl: best.passage.pageUrl }],
  };
}

function describeCampaign(campaign: CampaignTargeting | null): string {
  if (!campaign) return 'No campaign: write a neutral, curious opener about the company itself.';
  const lines = [`Campaign "${campaign.name}".`];
  if (campaign.seller.companyName) lines.push(`The sender works at ${campaign.seller.companyName}: ${campaign.seller.description ?? ''}`.trim());
  if (campaign.seller.painPoints.length) lines.push(`Problems the sender solves: ${campaign.seller.painPoints.slice(0, 5).join('; ')}.`);
  if (campaign.targetPersona) lines.push(`The reader is typically: ${campaign.targetPersona.name} (${campaign.targetPersona.jobTitles.slice(0, 5).join(', ')}).`);
  if (campaign.targetCompany) lines.push(`Target companies: ${campaign.targetCompany.name}.`);
  return lines.join('\n');
}

/** The PERSONALIZATION task (architecture decision 7): its prompt, schema and offline version. */
export const personalizationTask: LlmTask<PersonalizationOutput, PersonalizationContext> = {
  name: 'enrichment-personalization',
  version: '1',
  schema: personalizationSchema,
  system:
    'You write the first lines of a cold email to one small or mid-sized company. Build only on what the company says about itself in the passages given; ' +
    'never invent facts, numbers, names or events. Quote passages word for word in `quotes`. Be specific, warm and brief; no flattery, no exclamation marks, ' +
    'no mention of having "researched" them. The subject line is about them, not about the sender.',
  offline: extractivePersonalization,
};

/** The prompt: the company, the person, the campaign, then the numbered passages with their pages. */
export function personalizationPrompt(context: PersonalizationContext): string {
  const place = [context.company.city, context.company.region].filter(Boolean).join(', ');
  const passages = context.passages.map((passage, index) => `[${index + 1}] ${passage.pageUrl} — ${passage.heading}\n${passage.text.slice(0, 800)}`).join('\n\n');
  return [
    `Company: ${context.company.name}${place ? ` (${place})` : ''}, ${context.company.website}`,
    context.company.summary ? `What they do: ${context.company.summary}` : null,
    context.contact ? `Greet: ${context.contact.name}${context.contact.title ? `, ${context.contact.title}` : ''}` : 'No named person: greet without a name.',
    describeCampaign(context.campaign),
    'Write: a subject line; an ice-breaker of two or three sentences that opens with something specific from their own passages; the hot-button topic most likely to get a reply; and the quotes it rests on.',
    `Passages from ${context.company.website}:\n${passages || '(none)'}`,
  ]
    .filter(Boolean)
    .join('\n\n');
}
