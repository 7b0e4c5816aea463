import { LlmAbortedError, LlmError, type Llm } from '@gtm/llm';
import type { Logger } from '@gtm/runtime';
import type { CampaignTargeting } from '../campaign-context/campaign-targeting.js';
import { rankContacts } from '../contacts/contacts.js';
import { EnrichmentRecordStatus, type EnrichmentRecord } from '../enrichment-record/enrichment-record.entity.js';
import type { RecordChanges } from '../enrichment-record/record-update.js';
import {
  EnrichmentStep,
  StepStatus,
  tierOf,
  type EnrichedContact,
  type Personalization,
  type Qualification,
  type SourceQuote,
  type StepOutcome,
  type WebsiteEvidence,
  type WebsiteSource,
} from '../enrichment-record/enrichment-results.js';
import { personalizationPrompt, personalizationTask, type PersonalizationContext } from '../personalization/personalization.task.js';
import { findQuote } from '../personalization/quote-check.js';
import { offlineQualification, qualificationPrompt, qualificationTask } from '../qualification/qualification.task.js';
import type { QualificationEvidence } from '../qualification/qualification-signals.js';
import { WebSearchError } from '../web-search/index.js';
import { ContentServiceError, WebsiteUnreadableError, type WebsiteAnalysis, type WebsiteAnalysisClient } from '../website-analysis/website-analysis.client.js';
import type { WebsiteFinder, WebsiteFinding } from '../website-discovery/website-finder.js';

/** A provider failed in a way worth trying again later (rate limit, outage): the job retries the record. */
export class RetryLaterError extends Error {
  override readonly name = 'RetryLaterError';
}

/** What enriching a record needs, built once per process. */
export interface EnrichmentServices {
  finder: WebsiteFinder;
  analysis: WebsiteAnalysisClient;
  llm: Llm;
  /** What a model call with a prompt of this many characters is expected to cost (0 offline). */
  estimateLlmCostUsd: (promptCharacters: number) => number;
  logger: Logger;
}

/**
 * The analyses of one attempt of one job, by website: each site analysed once per job, however
 * many records share it. Bounded (an LRU), so a 100,000-row list does not keep every site in memory;
 * a site pushed out is read again from content-service's store, which keeps it for its TTL.
 */
export interface AnalysisMemo {
  get(website: string): Promise<WebsiteAnalysis> | undefined;
  set(website: string, analysis: Promise<WebsiteAnalysis>): unknown;
  delete(website: string): unknown;
}

/** What one attempt at a job knows, the same for all its records. */
export interface JobRun {
  tenantId: string;
  steps: ReadonlySet<EnrichmentStep>;
  budgetUsdPerRecord: number | null;
  campaign: CampaignTargeting | null;
  /** The caller's delegated token for content-service, or why there is none. */
  delegatedToken: { token: string } | { missing: string };
  analyses: AnalysisMemo;
  signal: AbortSignal;
  /** On the last attempt a retryable failure fails the record instead of the attempt. */
  lastAttempt: boolean;
}

export interface RecordEnrichment {
  status: EnrichmentRecordStatus;
  changes: RecordChanges;
}

const analysisSteps = new Set([EnrichmentStep.WEBSITE_ANALYSIS, EnrichmentStep.CONTACTS, EnrichmentStep.PERSONALIZATION]);
const roundUsd = (usd: number) => Math.round(usd * 1e9) / 1e9;
const isAbort = (error: unknown, signal: AbortSignal) => signal.aborted || error instanceof LlmAbortedError || (error instanceof WebSearchError && error.code === 'SEARCH_ABORTED');

/**
 * Runs the steps asked for on one record, in order (WEBSITE → WEBSITE_ANALYSIS → CONTACTS →
 * PERSONALIZATION and QUALIFICATION side by side), each step's outcome kept with a note a user can
 * act on. Paid calls (a search, a model call) are made only while the record's budget allows; past
 * it, personalisation and qualification fall back to their free offline versions, marked as such.
 * A provider failure worth retrying throws `RetryLaterError` (except on the job's last attempt);
 * every other failure fails its step, and the record carries on where it can.
 */
export async function enrichRecord(record: EnrichmentRecord, run: JobRun, services: EnrichmentServices): Promise<RecordEnrichment> {
  const outcomes: StepOutcome[] = [];
  const changes: RecordEnrichment['changes'] = {};
  let spent = 0;
  const canSpend = (usd: number) => run.budgetUsdPerRecord === null || spent + usd <= run.budgetUsdPerRecord + 1e-12;
  const wants = (step: EnrichmentStep) => run.steps.has(step);
  const started = new Map<EnrichmentStep, number>();
  const start = (step: EnrichmentStep) => started.set(step, performance.now());
  const outcome = (step: EnrichmentStep, status: StepStatus, note: string | null, costUsd = 0) =>
    outcomes.push({ step, status, note, costUsd: roundUsd(costUsd), durationMs: Math.round(performance.now() - (started.get(step) ?? performance.now())) });
  const retryOrFail = (error: { isRetryable: boolean; message: string }): string => {
    if (error.isRetryable && !run.lastAttempt) throw new RetryLaterError(error.message);
    return error.message;
  };
  const companyName = record.companyName?.trim() || null;
  const needsWebsite = [...run.steps].some((step) => analysisSteps.has(step) || step === EnrichmentStep.WEBSITE);

  // WEBSITE
  let finding: WebsiteFinding | null = null;
  start(EnrichmentStep.WEBSITE);
  if (needsWebsite) {
    const question = { name: companyName ?? '', phone: record.phone, address: record.address, city: record.city, region: record.region, postalCode: record.postalCode, website: record.website, email: record.email };
    if (wants(EnrichmentStep.WEBSITE)) {
      try {
        finding = await services.finder.find(question, { tenantId: run.tenantId, signal: run.signal, canSpend });
      } catch (error) {
        if (isAbort(error, run.signal)) throw error;
        if (!(error instanceof WebSearchError)) throw error;
        finding = { found: false, reason: `${retryOrFail(error)} The record was not searched for.`, evidence: null, costUsd: 0 };
      }
    } else {
      finding = await services.finder.find({ ...question, name: '', email: null }, { tenantId: run.tenantId, signal: run.signal, canSpend: () => false });
      if (!finding.found) finding = { found: false, reason: 'WEBSITE was not asked for and the row has no usable website.', evidence: null, costUsd: 0 };
    }
    spent += finding.costUsd;
    if (finding.found) {
      Object.assign(changes, {
        normalizedWebsite: finding.website,
        domain: finding.domain,
        websiteSource: finding.source satisfies WebsiteSource,
        websiteConfidence: finding.confidence,
        websiteEvidence: finding.evidence satisfies WebsiteEvidence | null,
      });
      if (wants(EnrichmentStep.WEBSITE)) outcome(EnrichmentStep.WEBSITE, StepStatus.DONE, finding.note ?? websiteNote(finding), finding.costUsd);
    } else {
      changes.websiteEvidence = finding.evidence;
      outcome(EnrichmentStep.WEBSITE, finding.overBudget ? StepStatus.OVER_BUDGET : StepStatus.FAILED, finding.reason, finding.costUsd);
    }
  }
  const website = finding?.found ? finding.website : null;

  // WEBSITE_ANALYSIS
  let analysis: WebsiteAnalysis | null = null;
  start(EnrichmentStep.WEBSITE_ANALYSIS);
  const needsAnalysis = [...run.steps].some((step) => analysisSteps.has(step));
  if (needsAnalysis) {
    if (!website) outcome(EnrichmentStep.WEBSITE_ANALYSIS, StepStatus.SKIPPED, 'No website to analyse.');
    else if ('missing' in run.delegatedToken) outcome(EnrichmentStep.WEBSITE_ANALYSIS, StepStatus.FAILED, run.delegatedToken.missing);
    else {
      try {
        analysis = await analyzeOnce(website, run.delegatedToken.token, run, services);
        Object.assign(changes, { websiteSummary: analysis.summary, emails: analysis.emails.slice(0, 10), phones: analysis.phones.slice(0, 10) });
        outcome(EnrichmentStep.WEBSITE_ANALYSIS, StepStatus.DONE, `${analysis.pages.length} page${analysis.pages.length === 1 ? '' : 's'} read; content ${analysis.qualityLevel.toLowerCase()}.`);
      } catch (error) {
        if (isAbort(error, run.signal)) throw error;
        if (error instanceof WebsiteUnreadableError) outcome(EnrichmentStep.WEBSITE_ANALYSIS, StepStatus.FAILED, `${website} could not be analysed: ${error.message}`);
        else if (error instanceof ContentServiceError) outcome(EnrichmentStep.WEBSITE_ANALYSIS, StepStatus.FAILED, retryOrFail(error));
        else throw error;
      }
    }
  }

  // CONTACTS
  let contacts: EnrichedContact[] = [];
  start(EnrichmentStep.CONTACTS);
  if (wants(EnrichmentStep.CONTACTS)) {
    const known = record.givenContact?.name ? record.givenContact : contactOf(record.input);
    contacts = rankContacts(analysis, known);
    changes.contacts = contacts;
    if (contacts.length > 0) outcome(EnrichmentStep.CONTACTS, StepStatus.DONE, `${contacts.length} found; first: ${contacts[0]!.name}${contacts[0]!.title ? `, ${contacts[0]!.title}` : ''}.`);
    else if (!analysis) outcome(EnrichmentStep.CONTACTS, StepStatus.SKIPPED, 'Needs the website analysis, which was not done.');
    else outcome(EnrichmentStep.CONTACTS, StepStatus.FAILED, `${analysis.domain} names nobody with a role on the pages read (team, about, contact).`);
  }

  // PERSONALIZATION and QUALIFICATION, side by side: neither needs the other.
  const sources: SourceQuote[] = [];
  start(EnrichmentStep.PERSONALIZATION);
  start(EnrichmentStep.QUALIFICATION);
  const personalize = async () => {
    if (!wants(EnrichmentStep.PERSONALIZATION)) return;
    if (!analysis || !website) return outcome(EnrichmentStep.PERSONALIZATION, StepStatus.SKIPPED, 'Needs the website analysis, which was not done.');
    const context: PersonalizationContext = {
      company: { name: companyName ?? analysis.title ?? analysis.domain, city: record.city, region: record.region, website, title: analysis.title, summary: analysis.summary },
      contact: contacts[0] ? { name: contacts[0].name, title: contacts[0].title } : null,
      passages: analysis.passages,
      campaign: run.campaign,
    };
    if (analysis.passages.length === 0) return outcome(EnrichmentStep.PERSONALIZATION, StepStatus.FAILED, `${analysis.domain} gave no passage to build an opener on.`);
    const prompt = personalizationPrompt(context);
    const estimate = services.estimateLlmCostUsd(prompt.length);
    const affordable = canSpend(estimate);
    try {
      const result = affordable
        ? await services.llm.generateObject({ task: personalizationTask, context, prompt, attribution: { tenantId: run.tenantId }, signal: run.signal })
        : { object: personalizationTask.offline(context), provider: 'offline', costUsd: 0, confidence: 0.3 };
      spent += result.costUsd;
      const verified = result.object.quotes.flatMap((quote) => {
        const passage = findQuote(quote.quote, analysis!.passages);
        return passage ? [{ url: passage.pageUrl, quote: quote.quote }] : [];
      });
      if (verified.length === 0) {
        return outcome(EnrichmentStep.PERSONALIZATION, StepStatus.FAILED, `The ${result.provider} answer quoted nothing found on ${analysis.domain}; it was not kept.`, result.costUsd);
      }
      sources.push(...verified);
      const extractive = result.provider === 'offline';
      changes.personalization = {
        subject: result.object.subject,
        iceBreaker: result.object.iceBreaker,
        hotButtonTopic: result.object.hotButtonTopic,
        provider: result.provider,
        extractive,
        confidence: result.confidence ?? (verified.length === result.object.quotes.length ? 0.8 : 0.6),
      } satisfies Personalization;
      const dropped = result.object.quotes.length - verified.length;
      const notes = [
        extractive ? (affordable ? 'Extractive: assembled from the site’s own sentences without a model.' : 'Extractive: a model call would go over the record’s budget.') : null,
        dropped > 0 ? `${dropped} quote${dropped === 1 ? '' : 's'} not found on the site were dropped.` : null,
      ].filter(Boolean);
      outcome(EnrichmentStep.PERSONALIZATION, StepStatus.DONE, notes.join(' ') || null, result.costUsd);
    } catch (error) {
      if (isAbort(error, run.signal)) throw error;
      if (!(error instanceof LlmError)) throw error;
      outcome(EnrichmentStep.PERSONALIZATION, StepStatus.FAILED, `The model could not write it: ${retryOrFail(error)}`);
    }
  };
  const qualify = async () => {
    if (!wants(EnrichmentStep.QUALIFICATION)) return;
    const evidence: QualificationEvidence = {
      company: { name: companyName ?? analysis?.title ?? record.domain ?? 'the company', city: record.city, region: record.region, country: record.country, postalCode: record.postalCode },
      input: record.input,
      website: website && finding?.found ? { url: website, confidence: finding.confidence } : null,
      siteText: analysis ? [analysis.title, analysis.summary, ...analysis.passages.map((passage) => `${passage.heading}: ${passage.text}`)].filter(Boolean).join('\n').slice(0, 8_000) : '',
      siteQuality: analysis?.qualityLevel ?? null,
      contacts,
      companyEmails: analysis?.emails ?? [],
      companyPhones: analysis?.phones ?? [],
      campaign: run.campaign,
    };
    const prompt = qualificationPrompt(evidence);
    const affordable = canSpend(services.estimateLlmCostUsd(prompt.length));
    try {
      const result = affordable
        ? await services.llm.generateObject({ task: qualificationTask, context: evidence, prompt, attribution: { tenantId: run.tenantId }, signal: run.signal })
        : { object: offlineQualification(evidence), provider: 'offline', costUsd: 0, confidence: undefined };
      spent += result.costUsd;
      const score = Math.round(result.object.score);
      changes.qualification = {
        score,
        tier: tierOf(score),
        reasoning: result.object.reasoning,
        confidence: result.provider === 'offline' ? Math.min(result.object.confidence, 0.3) : result.object.confidence,
        signals: result.object.signals,
        provider: result.provider,
        basis: run.campaign?.targetCompany || run.campaign?.targetPersona ? 'CAMPAIGN' : 'DATA',
      } satisfies Qualification;
      outcome(EnrichmentStep.QUALIFICATION, StepStatus.DONE, affordable ? null : 'Scored by rules: a model call would go over the record’s budget.', result.costUsd);
    } catch (error) {
      if (isAbort(error, run.signal)) throw error;
      if (!(error instanceof LlmError)) throw error;
      outcome(EnrichmentStep.QUALIFICATION, StepStatus.FAILED, `The model could not score it: ${retryOrFail(error)}`);
    }
  };
  const websiteFound = Boolean(website);
  if (websiteFound || !needsWebsite) await Promise.all([personalize(), qualify()]);
  else {
    // Without a website there is nothing to build on; the row is measured on what it says only if asked for nothing else.
    if (wants(EnrichmentStep.PERSONALIZATION)) outcome(EnrichmentStep.PERSONALIZATION, StepStatus.SKIPPED, 'No website to build on.');
    if (wants(EnrichmentStep.QUALIFICATION)) outcome(EnrichmentStep.QUALIFICATION, StepStatus.SKIPPED, 'No website: nothing to qualify beyond the row itself.');
    if (wants(EnrichmentStep.CONTACTS) && !outcomes.some((item) => item.step === EnrichmentStep.CONTACTS)) outcome(EnrichmentStep.CONTACTS, StepStatus.SKIPPED, 'No website.');
  }

  changes.sources = sources;
  changes.costUsd = roundUsd(spent);
  const ordered = [...run.steps].flatMap((step) => outcomes.filter((item) => item.step === step));
  // Steps not asked for but run on the way (an analysis for CONTACTS) are shown too.
  for (const item of outcomes) if (!ordered.includes(item)) ordered.push(item);
  changes.stepOutcomes = ordered.toSorted((left, right) => stepOrder(left.step) - stepOrder(right.step));
  const asked = changes.stepOutcomes.filter((item) => run.steps.has(item.step));
  const done = asked.filter((item) => item.status === StepStatus.DONE).length;
  const status = !websiteFound && needsWebsite ? EnrichmentRecordStatus.FAILED : done === asked.length ? EnrichmentRecordStatus.ENRICHED : done === 0 ? EnrichmentRecordStatus.FAILED : EnrichmentRecordStatus.PARTIAL;
  changes.status = status;
  changes.failureReason = status === EnrichmentRecordStatus.FAILED ? (asked.find((item) => item.status !== StepStatus.DONE && item.note)?.note ?? 'Nothing could be enriched.') : null;
  return { status, changes };
}

const stepOrder = (step: EnrichmentStep) => Object.values(EnrichmentStep).indexOf(step);

function websiteNote(finding: Extract<WebsiteFinding, { found: true }>): string | null {
  if (finding.source === 'INPUT') return 'Given in the row.';
  if (finding.source === 'EMAIL') return `From the work email's domain (confidence ${finding.confidence.toFixed(2)}).`;
  const checked = finding.evidence?.candidates.length ?? 0;
  return `Found by searching "${finding.evidence?.query}" and confirmed on the site (confidence ${finding.confidence.toFixed(2)}, ${checked} candidate${checked === 1 ? '' : 's'} checked).`;
}

/** Each website once per job attempt, however many records share it. */
function analyzeOnce(website: string, token: string, run: JobRun, services: EnrichmentServices): Promise<WebsiteAnalysis> {
  let pending = run.analyses.get(website);
  if (!pending) {
    pending = services.analysis.analyze(token, website, run.signal);
    run.analyses.set(website, pending);
    // A failure worth retrying is not remembered: the next record (or attempt) asks again.
    pending.catch((error: unknown) => {
      if (!(error instanceof WebsiteUnreadableError)) run.analyses.delete(website);
    });
  }
  return pending;
}

/** A person the row names itself (owner or contact columns), when it does. */
function contactOf(input: Record<string, unknown>): { name: string | null; title: string | null; email: string | null; phone: string | null } | null {
  const text = (key: string) => (typeof input[key] === 'string' && (input[key] as string).trim() ? (input[key] as string).trim() : null);
  const name = text('contactName');
  if (!name) return null;
  return { name, title: text('contactTitle'), email: text('contactEmail'), phone: text('contactPhone') };
}

