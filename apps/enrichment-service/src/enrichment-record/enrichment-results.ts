// What each enrichment step leaves on a record, as stored (jsonb) and as the API shows it.

/** The steps of an enrichment, in the order they run (API.md `EnrichmentStep`). */
export enum EnrichmentStep {
  WEBSITE = 'WEBSITE',
  WEBSITE_ANALYSIS = 'WEBSITE_ANALYSIS',
  CONTACTS = 'CONTACTS',
  PERSONALIZATION = 'PERSONALIZATION',
  QUALIFICATION = 'QUALIFICATION',
}

export const allEnrichmentSteps: readonly EnrichmentStep[] = Object.values(EnrichmentStep);

/** How one step went for one record. */
export enum StepStatus {
  DONE = 'DONE',
  /** Not asked for, or nothing to do (a website given needs no search). */
  SKIPPED = 'SKIPPED',
  /** Stopped before a paid call: the record's budget would have been exceeded. */
  OVER_BUDGET = 'OVER_BUDGET',
  FAILED = 'FAILED',
}

export interface StepOutcome {
  step: EnrichmentStep;
  status: StepStatus;
  /** What happened, in words a user can act on. */
  note: string | null;
  costUsd: number;
  /** How long the step took, in milliseconds (waiting for a provider slot included). */
  durationMs: number;
}

/** Where a record's website came from. */
export enum WebsiteSource {
  INPUT = 'INPUT',
  EMAIL = 'EMAIL',
  SEARCH = 'SEARCH',
}

/** One page that was considered as the company's website, and the verdict. */
export interface WebsiteCandidate {
  url: string;
  accepted: boolean;
  /** What the page showed of the company: `name`, `phone`, `place`, `domain`. */
  matched: string[];
  reason: string;
}

/** Why a website is believed to be the company's. */
export interface WebsiteEvidence {
  /** The search that found it (null when it was given or came from an email). */
  query: string | null;
  provider: string | null;
  candidates: WebsiteCandidate[];
  /** Directory and social sites among the results, never taken as the company's site. */
  skipped: string[];
}

/** A person at the company, with where they were found. */
export interface EnrichedContact {
  name: string;
  title: string | null;
  email: string | null;
  phone: string | null;
  linkedinUrl: string | null;
  /** The page they were read from, or `input` when the row named them. */
  source: string;
  /** OWNER, C_LEVEL, VP, DIRECTOR, MANAGER or OTHER. */
  seniority: string;
}

/** A person a row names itself, as given. */
export interface GivenContact {
  name: string | null;
  title: string | null;
  email: string | null;
  phone: string | null;
}

/** A passage of the company's own website a personalisation or qualification rests on. */
export interface SourceQuote {
  url: string;
  quote: string;
}

export interface Personalization {
  subject: string;
  iceBreaker: string;
  hotButtonTopic: string;
  /** The provider that wrote it: a model's name, or `offline` for the extractive version. */
  provider: string;
  /** True when it was assembled from the site's own sentences without a model. */
  extractive: boolean;
  confidence: number;
}

export enum QualificationTier {
  A = 'A',
  B = 'B',
  C = 'C',
  D = 'D',
}

export interface Qualification {
  score: number;
  tier: QualificationTier;
  reasoning: string;
  confidence: number;
  signals: string[];
  provider: string;
  /** What the record was measured against: the campaign's targeting, or its own data. */
  basis: 'CAMPAIGN' | 'DATA';
}

/** The tier of a score: A from 75, B from 55, C from 35, D below. */
export function tierOf(score: number): QualificationTier {
  if (score >= 75) return QualificationTier.A;
  if (score >= 55) return QualificationTier.B;
  if (score >= 35) return QualificationTier.C;
  return QualificationTier.D;
}
