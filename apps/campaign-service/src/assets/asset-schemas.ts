import { z } from 'zod';
import { AssetKind } from './asset-kind.js';

// These schemas are what a model fills (sent as JSON schema by libs/llm), what the offline tasks
// produce, and what a correction is validated against. OpenAI's strict mode accepts only some
// keywords (on strings just `pattern` and `format`; every property required, optional values as
// `null`), so string lengths are checked by a refinement, which zod leaves out of the JSON schema,
// and stated in the field's description where the model reads them. Array sizes (`maxItems`),
// integer bounds and enums are accepted by strict mode and stay in the JSON schema.

/** What a field holds when the website does not say: the model and the offline tasks both use it. */
export const notStated = 'Not stated on the website.';

/** A non-blank string of at most `maximum` characters; the bound is not sent as `maxLength`. */
export function boundedText(maximum: number) {
  return z.string().refine((value) => value.trim().length > 0 && value.length <= maximum, { message: `must be 1 to ${maximum} characters` });
}

const unique = <Value>(values: readonly Value[]) => new Set(values).size === values.length;

/** A list of distinct values: a model repeating itself is an invalid answer, not a longer list. */
function distinctList<Item extends z.ZodType>(item: Item, maximum: number) {
  return z
    .array(item)
    .max(maximum)
    .refine((values) => unique(values), { message: 'must not repeat an entry' });
}

const shortList = (maximumItems: number, maximumLength = 300) => distinctList(boundedText(maximumLength), maximumItems);

/**
 * Where a claim comes from: a passage's page and a quote copied from it word for word. The model
 * fills these (so it cites while it writes); they are shown as AssetStatus.sources.
 */
export const sourceSchema = z
  .object({
    url: boundedText(2048).describe('The pageUrl of the passage the quote is copied from.'),
    quote: boundedText(300).describe('Text copied word for word from that passage (at most 300 characters): no paraphrase, no ellipsis.'),
  })
  .describe('A citation of the website.');
export type AssetSource = z.infer<typeof sourceSchema>;

/** How many citations an asset carries at most. */
export const maximumSources = 30;

const sources = z
  .array(sourceSchema)
  .max(maximumSources)
  .describe('The passages this asset rests on, at most 30: every feature, pain point and claim above should have one here. Empty when nothing was cited.');

export const productOverviewSchema = z
  .object({
    companyName: boundedText(120).describe('The company that sells the product, as the website names it (at most 120 characters).'),
    description: boundedText(1000).describe('What the product does and for whom, in one or two sentences taken from the website (at most 1000 characters).'),
    keyFeatures: shortList(12).describe('The main features or services, each as the website states it (at most 12, each at most 300 characters).'),
    useCases: shortList(10).describe('What customers use it for (at most 10, each at most 300 characters).'),
    painPoints: shortList(10).describe('The problems the website says it solves (at most 10, each at most 300 characters).'),
    customerProfiles: shortList(10).describe('Who the customers are: segments, roles or named customers the website mentions (at most 10, each at most 300 characters).'),
    differentiators: shortList(10).describe('What the website says sets it apart from alternatives (at most 10, each at most 300 characters).'),
    pricing: boundedText(500).describe(`Prices, plans or the pricing model as the website states them (at most 500 characters); "${notStated}" when it does not.`),
    sources,
  })
  .describe('What the company sells, grounded in its website.');
export type ProductOverview = z.infer<typeof productOverviewSchema>;

/** Kinds of event that suggest a company is ready to buy now. */
export const buyingSignalTypes = ['HIRING', 'FUNDING', 'GROWTH', 'LEADERSHIP_CHANGE', 'TECHNOLOGY', 'PAIN_POINT', 'COMPLIANCE', 'INTENT', 'OTHER'] as const;
export type BuyingSignalType = (typeof buyingSignalTypes)[number];
export const priorities = ['HIGH', 'MEDIUM', 'LOW'] as const;
export type Priority = (typeof priorities)[number];

const nullableText = (maximum: number) => boundedText(maximum).nullable();

export const targetCompanySchema = z
  .object({
    name: boundedText(120).describe('A short name for the segment, e.g. "Early-stage B2B SaaS companies" (at most 120 characters).'),
    description: boundedText(1000).describe('Which companies to target and why they need the product (at most 1000 characters).'),
    firmographics: z
      .object({
        industries: shortList(10, 80).describe('Industries or verticals (at most 10, each at most 80 characters).'),
        employeeRange: nullableText(80).describe('Company size in employees, e.g. "11-200"; null when nothing supports one.'),
        revenueRange: nullableText(80).describe('Annual revenue, e.g. "$1M-$20M"; null when nothing supports one.'),
        geographies: shortList(10, 80).describe('Countries or regions (at most 10, each at most 80 characters); empty when not stated.'),
        businessModel: nullableText(120).describe('e.g. "B2B SaaS", "Marketplace"; null when nothing supports one.'),
        fundingStage: nullableText(80).describe('e.g. "Seed to Series B", "Early-stage"; null when nothing supports one.'),
        keywords: shortList(20, 60).describe('Words to find such companies with in a company database (at most 20, each at most 60 characters).'),
      })
      .describe('Filters that find the target companies.'),
    buyingSignals: z
      .array(
        z.object({
          title: boundedText(120).describe('The signal in a few words (at most 120 characters).'),
          description: boundedText(500).describe('What the signal is and why it means the company may buy now (at most 500 characters).'),
          type: z.enum(buyingSignalTypes).describe('The kind of signal.'),
          priority: z.enum(priorities).describe('How strongly the signal predicts a purchase.'),
          detectionMethod: boundedText(300).describe('Where and how to detect it, e.g. "Job posts for SDRs on LinkedIn" (at most 300 characters).'),
        }),
      )
      .max(10)
      .describe('Events that suggest a company is ready to buy now (at most 10).'),
    disqualifiers: shortList(10).describe('What rules a company out (at most 10, each at most 300 characters).'),
    rationale: boundedText(1000).describe('Why this segment, from what the website and the product overview say (at most 1000 characters).'),
    sources,
  })
  .describe('The companies to target.');
export type TargetCompany = z.infer<typeof targetCompanySchema>;

/** Seniority levels, coarse enough that every data source can map its own onto them. */
export const seniorityLevels = ['OWNER', 'C_LEVEL', 'VP', 'DIRECTOR', 'MANAGER', 'INDIVIDUAL_CONTRIBUTOR'] as const;
export type SeniorityLevel = (typeof seniorityLevels)[number];
/** The parts a person plays in a purchase. */
export const buyingRoles = ['DECISION_MAKER', 'ECONOMIC_BUYER', 'CHAMPION', 'INFLUENCER', 'TECHNICAL_EVALUATOR', 'USER'] as const;
export type BuyingRole = (typeof buyingRoles)[number];

export const targetPersonaSchema = z
  .object({
    name: boundedText(120).describe('The persona in a few words, e.g. "Head of Support" (at most 120 characters).'),
    description: boundedText(1000).describe('Who this person is and what they are responsible for (at most 1000 characters).'),
    jobTitles: shortList(12, 100).describe('Job titles to search for (at most 12, each at most 100 characters).'),
    departments: shortList(8, 80).describe('Departments they work in (at most 8, each at most 80 characters).'),
    seniority: distinctList(z.enum(seniorityLevels), seniorityLevels.length).describe('Their seniority levels, most senior first.'),
    buyingRoles: distinctList(z.enum(buyingRoles), buyingRoles.length).describe('The parts they play in the purchase.'),
    useCases: z
      .array(
        z.object({
          useCase: boundedText(300).describe('What they use the product for (at most 300 characters).'),
          painPoints: shortList(5).describe('The problems behind it (at most 5, each at most 300 characters).'),
          capability: boundedText(300).describe('The feature that answers it (at most 300 characters).'),
          desiredOutcome: boundedText(300).describe(`The result they want (at most 300 characters); "${notStated}" when it does not say.`),
        }),
      )
      .max(8)
      .describe('Their use cases (at most 8).'),
    goals: shortList(10).describe('What they are trying to achieve (at most 10, each at most 300 characters).'),
    objections: shortList(10).describe('Doubts they raise before buying, or that the website answers (at most 10, each at most 300 characters).'),
    buyingSignals: shortList(10).describe('What this person does or says when ready to buy (at most 10, each at most 300 characters).'),
    purchaseJourney: shortList(8).describe('The steps from first contact to purchase, in order (at most 8, each at most 300 characters).'),
    sources,
  })
  .describe('The person to write to.');
export type TargetPersona = z.infer<typeof targetPersonaSchema>;

export const positioningSchema = z
  .object({
    uniqueInsight: boundedText(600).describe('The belief about the market the positioning rests on, e.g. what the usual way gets wrong (at most 600 characters).'),
    valuePropositions: z
      .array(
        z.object({
          theme: boundedText(120).describe('The value in a few words (at most 120 characters).'),
          description: boundedText(600).describe('What the buyer gets (at most 600 characters).'),
          evidence: boundedText(600).describe(`A result, number or customer quote that backs it (at most 600 characters); "${notStated}" when there is none.`),
        }),
      )
      .max(6)
      .describe('The values to lead with, strongest first (at most 6).'),
    differentiators: shortList(10).describe('What sets it apart (at most 10, each at most 300 characters).'),
    competitiveAlternatives: shortList(10, 200).describe('What buyers do instead: competitors, in-house work, the status quo (at most 10, each at most 200 characters).'),
    sources,
  })
  .describe('How to position the product to the persona.');
export type Positioning = z.infer<typeof positioningSchema>;

/** Why an email is in the sequence. */
export const emailPurposes = ['INTRODUCTION', 'PAIN_POINT', 'VALUE_PROPOSITION', 'SOCIAL_PROOF', 'OBJECTION_HANDLING', 'BREAKUP'] as const;
export type EmailPurpose = (typeof emailPurposes)[number];

/** Merge fields an email may use; whoever sends the sequence fills them per recipient. */
export const emailMergeFields = ['{{firstName}}', '{{company}}', '{{senderName}}'] as const;

export const emailSequenceSchema = z
  .object({
    emails: z
      .array(
        z.object({
          step: z.int().min(1).max(10).describe('Position in the sequence, from 1.'),
          delayDays: z.int().min(0).max(60).describe('Days to wait after the previous email (0 for the first).'),
          subject: boundedText(120).describe('Subject line (at most 120 characters).'),
          subjectAlternatives: shortList(3, 120).describe('Other subject lines to test (at most 3, each at most 120 characters).'),
          body: boundedText(2500).describe(`Plain-text body (at most 2500 characters); it may use ${emailMergeFields.join(', ')}.`),
          purpose: z.enum(emailPurposes).describe('Why this email is in the sequence.'),
        }),
      )
      .min(1)
      .max(7)
      .refine((emails) => emails.every((email, index) => email.step === index + 1), { message: 'steps must run 1, 2, 3 … in order' })
      .describe('The emails in sending order (1 to 7).'),
    sources,
  })
  .describe('An outbound email sequence to the persona.');
export type EmailSequence = z.infer<typeof emailSequenceSchema>;

/** Each kind's asset type. */
export interface AssetByKind {
  [AssetKind.PRODUCT_OVERVIEW]: ProductOverview;
  [AssetKind.TARGET_COMPANY]: TargetCompany;
  [AssetKind.TARGET_PERSONA]: TargetPersona;
  [AssetKind.POSITIONING]: Positioning;
  [AssetKind.EMAIL_SEQUENCE]: EmailSequence;
}

/** Any asset: every one carries `sources`. */
export type Asset = AssetByKind[AssetKind];

const schemas: { [Kind in AssetKind]: z.ZodType<AssetByKind[Kind]> } = {
  [AssetKind.PRODUCT_OVERVIEW]: productOverviewSchema,
  [AssetKind.TARGET_COMPANY]: targetCompanySchema,
  [AssetKind.TARGET_PERSONA]: targetPersonaSchema,
  [AssetKind.POSITIONING]: positioningSchema,
  [AssetKind.EMAIL_SEQUENCE]: emailSequenceSchema,
};

/** The schema a kind's asset is generated, validated and corrected against. */
export function assetSchemaOf<Kind extends AssetKind>(kind: Kind): z.ZodType<AssetByKind[Kind]> {
  return schemas[kind];
}
