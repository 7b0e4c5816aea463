import { badUserInput, parseInput } from '@gtm/runtime';
import { GraphQLError } from 'graphql';
import { z } from 'zod';

/** A buying signal the campaign watches for. */
export interface TargetingBuyingSignal {
  /** Free text or an enum-like value: `HIRING`, `funding round`, `new VP of Sales` … */
  type: string;
  /** `HIGH`, `MEDIUM`, `LOW` (case ignored); anything else counts as medium. */
  priority: string | null;
}

/**
 * Who a campaign targets, as the enrichment planner needs it: the target company's firmographics
 * and buying signals, and the target persona. Every field is optional (empty list or null).
 */
export interface CampaignTargeting {
  industries: string[];
  /** Free text with numbers, e.g. `51-200`, `200+`, `1,000–5,000 employees`, or words (`SMB`). */
  employeeRange: string | null;
  /** Free text with amounts, e.g. `$10M-$50M`, `under $5M`, `1B+`. */
  revenueRange: string | null;
  geographies: string[];
  businessModel: string | null;
  fundingStage: string | null;
  keywords: string[];
  buyingSignals: TargetingBuyingSignal[];
  jobTitles: string[];
  departments: string[];
  seniority: string[];
}

/** A numeric range read from free text; `max` null means open-ended. */
export interface NumberRange {
  min: number;
  max: number | null;
}

const largestEmployeeCount = 10_000_000;
const largestRevenueUsd = 10_000_000_000_000;

const multipliers: Record<string, number> = { k: 1e3, thousand: 1e3, m: 1e6, mm: 1e6, million: 1e6, b: 1e9, bn: 1e9, billion: 1e9, t: 1e12, trillion: 1e12 };

/**
 * Reads a range such as `51-200`, `200+`, `over 1,000`, `under $5M`, `$10M–$50M`, `1.5k to 3k`;
 * null when the text has no number (`SMB`, `Enterprise`). Throws a plain message for a negative
 * number or a minimum above the maximum.
 */
export function parseNumberRange(text: string): NumberRange | null {
  const numbers = [...text.matchAll(numberPattern)].map((match) => {
    if (isNegative(text.slice(0, match.index))) throw new Error('must not be negative');
    const digits = match[1]!.replace(/,(?=\d{3}\b)/g, '').replace(',', '.');
    return Number(digits) * (multipliers[(match[2] ?? '').toLowerCase()] ?? 1);
  });
  if (numbers.length === 0) return null;
  const first = numbers[0]!;
  if (numbers.length >= 2) {
    const [min, max] = [first, numbers[1]!];
    if (min > max) throw new Error(`has its minimum (${min.toLocaleString('en-US')}) above its maximum (${max.toLocaleString('en-US')})`);
    return { min, max };
  }
  if (/\+|over|more than|above|at least|>/i.test(text)) return { min: first, max: null };
  if (/under|less than|below|up to|fewer than|</i.test(text)) return { min: 0, max: first };
  return { min: first, max: first };
}

const numberPattern = /(\d+(?:[.,]\d+)*)\s*(thousand|million|billion|trillion|bn|mm|k|m|b|t)?\b/gi;

/**
 * Whether the number after `before` carries a minus sign: a hyphen or minus right before it that
 * does not follow another number, which would make it a range separator (`10M-50M`, `10 - 50`).
 */
function isNegative(before: string): boolean {
  const withoutCurrency = before.replace(/[\s$€£]+$/, '');
  if (!/[-−]$/.test(withoutCurrency)) return false;
  const beforeSign = withoutCurrency.slice(0, -1).replace(/[\s$€£]+$/, '');
  return !/\d\s*(thousand|million|billion|trillion|bn|mm|k|m|b|t)?$/i.test(beforeSign);
}

function rangeText(largest: number, unit: string) {
  return z
    .string()
    .trim()
    .max(100, 'must be at most 100 characters')
    .nullish()
    .superRefine((text, context) => {
      if (!text) return;
      try {
        const range = parseNumberRange(text);
        if (range && Math.max(range.min, range.max ?? 0) > largest) context.addIssue({ code: 'custom', message: `must be at most ${largest.toLocaleString('en-US')} ${unit}` });
      } catch (error) {
        context.addIssue({ code: 'custom', message: (error as Error).message });
      }
    })
    .transform((text) => text || null);
}

const text = (maximum: number) =>
  z
    .string()
    .trim()
    .max(maximum, `must be at most ${maximum} characters`)
    .nullish()
    .transform((value) => value || null);

// Blank entries are dropped rather than refused: generated assets and forms both produce them.
const textList = (maximumItems: number) =>
  z
    .array(z.string().trim().max(200, 'entries must be at most 200 characters'))
    .max(maximumItems, `must have at most ${maximumItems} entries`)
    .nullish()
    .transform((values) => (values ?? []).filter(Boolean));

const campaignTargetingSchema = z.object({
  industries: textList(50),
  employeeRange: rangeText(largestEmployeeCount, 'employees'),
  revenueRange: rangeText(largestRevenueUsd, 'USD'),
  geographies: textList(100),
  businessModel: text(200),
  fundingStage: text(200),
  keywords: textList(50),
  buyingSignals: z
    .array(z.object({ type: z.string().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters'), priority: text(50) }))
    .max(30, 'must have at most 30 entries')
    .nullish()
    .transform((signals) => signals ?? []),
  jobTitles: textList(50),
  departments: textList(30),
  seniority: textList(20),
}) satisfies z.ZodType<CampaignTargeting, unknown>;

/**
 * Validates targeting sent by a client (`Query.enrichmentPlan(targeting:)`): a problem is a
 * BAD_USER_INPUT naming the field, e.g. `targeting.employeeRange`.
 */
export function parseCampaignTargeting(input: unknown): CampaignTargeting {
  return parseInput(z.object({ targeting: campaignTargetingSchema }), { targeting: input }).targeting;
}

/** Default per-record budget of a plan when the caller gives none: a typical self-serve waterfall. */
export const defaultBudgetUsdPerRecord = 0.25;

/** Budget per record in USD: 0 to 100, default `defaultBudgetUsdPerRecord`. */
export function parseBudget(budgetUsdPerRecord: number | null | undefined): number {
  const schema = z.object({
    budgetUsdPerRecord: z.number().finite().min(0, 'must not be negative').max(100, 'must be at most 100 USD per record').nullish(),
  });
  return parseInput(schema, { budgetUsdPerRecord }).budgetUsdPerRecord ?? defaultBudgetUsdPerRecord;
}

type Many = string | number | (string | number | null)[] | null | undefined;
type RangeValue = string | number | { min?: number | null; max?: number | null } | null | undefined;

/**
 * The targeting fields of a `Campaign` as campaign-service resolves them (its `schema.graphql`):
 * what `extend type Campaign { enrichmentPlan … @requires(fields: "targetCompany { … } targetPersona { … }") }`
 * hands to the resolver. Lenient about shapes still being settled (a string or a list, a range as
 * text or as `{ min max }`), since campaign-service builds these types in parallel.
 */
export interface CampaignTargetingRepresentation {
  targetCompany?: {
    firmographics?: {
      industries?: Many;
      employeeRange?: RangeValue;
      revenueRange?: RangeValue;
      geographies?: Many;
      businessModel?: Many;
      fundingStage?: Many;
      keywords?: Many;
    } | null;
    buyingSignals?: ({ type?: string | null; title?: string | null; priority?: string | number | null } | null)[] | null;
  } | null;
  targetPersona?: {
    jobTitles?: Many;
    departments?: Many;
    seniority?: Many;
  } | null;
}

/** Where each targeting field lives on a Campaign, so that an error names the campaign's field. */
const campaignFieldPaths: Record<keyof CampaignTargeting, string> = {
  industries: 'targetCompany.firmographics.industries',
  employeeRange: 'targetCompany.firmographics.employeeRange',
  revenueRange: 'targetCompany.firmographics.revenueRange',
  geographies: 'targetCompany.firmographics.geographies',
  businessModel: 'targetCompany.firmographics.businessModel',
  fundingStage: 'targetCompany.firmographics.fundingStage',
  keywords: 'targetCompany.firmographics.keywords',
  buyingSignals: 'targetCompany.buyingSignals',
  jobTitles: 'targetPersona.jobTitles',
  departments: 'targetPersona.departments',
  seniority: 'targetPersona.seniority',
};

function asList(value: Many): string[] {
  if (value === null || value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).filter((item): item is string | number => item !== null && item !== undefined).map(String);
}

function asText(value: Many): string | null {
  const items = asList(value);
  return items.length > 0 ? items.join(', ') : null;
}

function asRangeText(value: RangeValue): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value !== 'object') return String(value);
  if (value.min === null || value.min === undefined) return value.max === null || value.max === undefined ? null : `up to ${value.max}`;
  return value.max === null || value.max === undefined ? `${value.min}+` : `${value.min}-${value.max}`;
}

/**
 * Maps a Campaign representation to CampaignTargeting, validated; null when the campaign has
 * neither a target company nor a target persona yet (nothing to plan for). A problem is a
 * BAD_USER_INPUT naming the campaign's field, e.g. `targetCompany.firmographics.employeeRange`.
 */
export function campaignTargetingFromRepresentation(representation: CampaignTargetingRepresentation): CampaignTargeting | null {
  const company = representation.targetCompany;
  const persona = representation.targetPersona;
  if (!company && !persona) return null;
  const firmographics = company?.firmographics;
  const targeting = {
    industries: asList(firmographics?.industries),
    employeeRange: asRangeText(firmographics?.employeeRange),
    revenueRange: asRangeText(firmographics?.revenueRange),
    geographies: asList(firmographics?.geographies),
    businessModel: asText(firmographics?.businessModel),
    fundingStage: asText(firmographics?.fundingStage),
    keywords: asList(firmographics?.keywords),
    // A signal without a type is still worth watching when it has a title to read the type from.
    buyingSignals: (company?.buyingSignals ?? []).flatMap((signal) => {
      const type = signal?.type?.trim() || signal?.title?.trim();
      return type ? [{ type, priority: signal?.priority === null || signal?.priority === undefined ? null : String(signal.priority) }] : [];
    }),
    jobTitles: asList(persona?.jobTitles),
    departments: asList(persona?.departments),
    seniority: asList(persona?.seniority),
  };
  try {
    return parseCampaignTargeting(targeting);
  } catch (error) {
    if (!(error instanceof GraphQLError)) throw error;
    const field = error.extensions['field'];
    if (typeof field !== 'string' || !field.startsWith('targeting.')) throw error;
    const [key, ...rest] = field.slice('targeting.'.length).split('.');
    const campaignField = [campaignFieldPaths[key as keyof CampaignTargeting] ?? key, ...rest].join('.');
    throw badUserInput(error.message.replace(field, `Campaign ${campaignField}`), campaignField);
  }
}
