import type { AssetContext } from './asset-context.js';
import { AssetKind } from './asset-kind.js';
import { emailMergeFields, emailSequenceSchema, notStated, type EmailPurpose, type EmailSequence } from './asset-schemas.js';
import { defineAssetTask, prerequisiteOf } from './asset-task.js';
import { Citations, fragmentsOf, shorten } from './passage-extraction.js';
import { buildPositioningOffline } from './positioning.task.js';
import { buildProductOverviewOffline } from './product-overview.task.js';
import { buildTargetPersonaOffline } from './target-persona.task.js';

/** Days after the previous email, by position: a common outbound cadence. */
const cadence = [0, 3, 4, 5, 7] as const;

interface Draft {
  purpose: EmailPurpose;
  subject: string;
  subjectAlternatives: string[];
  paragraphs: string[];
}

const quoted = (text: string) => `"${text.replace(/^["“]|["”]$/g, '')}"`;
const lowerFirst = (text: string) => (/^\p{Lu}\p{Ll}/u.test(text) ? text.charAt(0).toLowerCase() + text.slice(1) : text);

/**
 * The sequence from the earlier assets: every claim in it is one the website made (the product's
 * description, its pain points, value propositions and their evidence, quoted); the words around
 * them are fixed. Merge fields `{{firstName}}`, `{{company}}`, `{{senderName}}` stay for the sender.
 */
export function buildEmailSequenceOffline(context: AssetContext): EmailSequence {
  const overview = prerequisiteOf(context, AssetKind.PRODUCT_OVERVIEW, buildProductOverviewOffline);
  const persona = prerequisiteOf(context, AssetKind.TARGET_PERSONA, buildTargetPersonaOffline);
  const positioning = prerequisiteOf(context, AssetKind.POSITIONING, buildPositioningOffline);
  const fragments = fragmentsOf(context.passages, { companyName: overview.companyName });
  const inherited = [...positioning.sources, ...overview.sources, ...persona.sources];
  const citations = new Citations();
  const carry = (text: string) => citations.carry(text, fragments, inherited);

  const seller = overview.companyName;
  // Each value proposition is told once: the introduction takes the first, the pain email the
  // next, and what is left fills value emails until the sequence has four before the break-up.
  const unused = [...positioning.valuePropositions];
  const nextValue = () => unused.shift();
  const proof = positioning.valuePropositions.find((proposition) => proposition.evidence !== notStated);
  const pain = overview.painPoints[0];
  const alternative = positioning.competitiveAlternatives[0];
  const drafts: Draft[] = [];

  const first = nextValue();
  drafts.push({
    purpose: 'INTRODUCTION',
    subject: first?.theme ?? `${seller} for {{company}}`,
    subjectAlternatives: [`${seller} for {{company}}`, 'A question for {{firstName}}'],
    paragraphs: [
      overview.description !== notStated ? `${seller} in one line: ${carry(overview.description)}` : `I work with ${seller}.`,
      ...(first ? [`One thing it does: ${carry(first.description)}`] : []),
      'Would a short call to see whether it fits {{company}} be useful?',
    ],
  });
  if (pain) {
    const answer = nextValue();
    drafts.push({
      purpose: 'PAIN_POINT',
      subject: answer?.theme ?? 'Is this familiar at {{company}}?',
      subjectAlternatives: ['Is this familiar at {{company}}?', '{{firstName}}, a quick question'],
      paragraphs: [
        `As we put it on our website: ${quoted(carry(pain))}`,
        ...(answer ? [`${seller}'s answer: ${carry(answer.description)}`] : []),
        'Is this on your list at {{company}}?',
      ],
    });
  }
  if (proof) {
    if (unused.includes(proof)) unused.splice(unused.indexOf(proof), 1);
    drafts.push({
      purpose: 'SOCIAL_PROOF',
      subject: shorten(`${proof.theme}: the result`, 120),
      subjectAlternatives: [`What changed for others with ${seller}`],
      paragraphs: [`From our website, on ${lowerFirst(proof.theme)}: ${quoted(carry(proof.evidence))}`, 'Happy to show you how that was done. Worth a short call?'],
    });
  }
  for (let value = nextValue(); value && drafts.length < 4; value = nextValue()) {
    drafts.push({
      purpose: 'VALUE_PROPOSITION',
      subject: value.theme,
      subjectAlternatives: ['One more idea for {{company}}'],
      paragraphs: [`One more thing ${seller} does: ${carry(value.description)}`, 'Should I send a short overview?'],
    });
  }
  drafts.push({
    purpose: 'BREAKUP',
    subject: 'Should I close the loop?',
    subjectAlternatives: [`Last note from ${seller}`],
    paragraphs: [
      alternative
        ? `I won't keep writing. If you ever weigh ${seller} against ${lowerFirst(alternative)}, reply and I'll send what you need to compare.`
        : `I won't keep writing. If ${first ? lowerFirst(first.theme) : seller} becomes a priority at {{company}}, reply and I'll send details.`,
    ],
  });

  const emails = drafts.map((draft, index) => ({
    step: index + 1,
    delayDays: cadence[Math.min(index, cadence.length - 1)]!,
    subject: shorten(draft.subject, 120),
    subjectAlternatives: [...new Set(draft.subjectAlternatives.map((subject) => shorten(subject, 120)))].filter((subject) => subject !== draft.subject).slice(0, 3),
    body: shorten(['Hi {{firstName}},', ...draft.paragraphs, '{{senderName}}'].join('\n\n'), 2500),
    purpose: draft.purpose,
  }));
  return { emails, sources: citations.list() };
}

export const emailSequenceTask = defineAssetTask<EmailSequence>({
  kind: AssetKind.EMAIL_SEQUENCE,
  name: 'campaign.email-sequence',
  version: '1',
  schema: emailSequenceSchema,
  subject: 'outbound email sequence to the target persona',
  guidance: [
    '3 to 5 short plain-text emails, step 1 first with delayDays 0; each with one purpose, a subject and up to 3 alternative subjects.',
    `Write to the persona about the pains and value propositions above; claims only from the positioning, the product overview and the passages. Merge fields allowed: ${emailMergeFields.join(', ')}.`,
    'No invented customers, numbers or results; no links; one clear ask per email.',
  ],
  offline: buildEmailSequenceOffline,
});
