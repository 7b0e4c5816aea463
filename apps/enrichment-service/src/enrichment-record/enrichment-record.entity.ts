import type { Opt } from '@mikro-orm/core';
import { Entity, Enum, Property } from '@mikro-orm/decorators/legacy';
import { TenantScopedEntity } from '@gtm/runtime';
import type { EnrichedContact, GivenContact, Personalization, Qualification, SourceQuote, StepOutcome, WebsiteEvidence, WebsiteSource } from './enrichment-results.js';

export enum EnrichmentRecordStatus {
  PENDING = 'PENDING',
  /** Every step asked for was done. */
  ENRICHED = 'ENRICHED',
  /** Some steps were done, others failed or stopped at the budget (`steps` says which and why). */
  PARTIAL = 'PARTIAL',
  /** Nothing could be enriched; `failureReason` says why. */
  FAILED = 'FAILED',
}

/** One row of an enrichment job's list: what the user gave, and what enrichment found. */
@Entity({ tableName: 'enrichment_record' })
export class EnrichmentRecord extends TenantScopedEntity {
  @Property({ type: 'uuid' })
  jobId!: string;

  /** 0-based place in the list; the order the worker goes through it. */
  @Property({ type: 'integer' })
  position!: number;

  /** The row as given: its columns and values, verbatim. */
  @Property({ type: 'json' })
  input: Opt<Record<string, unknown>> = {};

  @Property({ type: 'text', nullable: true })
  email: string | null = null;

  @Property({ type: 'text', nullable: true })
  companyName: string | null = null;

  @Property({ type: 'text', nullable: true })
  website: string | null = null;

  @Property({ type: 'text', nullable: true })
  phone: string | null = null;

  @Property({ type: 'text', nullable: true })
  address: string | null = null;

  @Property({ type: 'text', nullable: true })
  city: string | null = null;

  /** State, province or region. */
  @Property({ type: 'text', nullable: true })
  region: string | null = null;

  @Property({ type: 'text', nullable: true })
  postalCode: string | null = null;

  @Property({ type: 'text', nullable: true })
  country: string | null = null;

  @Enum({ items: () => EnrichmentRecordStatus, nativeEnumName: undefined })
  status: Opt<EnrichmentRecordStatus> = EnrichmentRecordStatus.PENDING;

  /** The company's domain, from its website or else from a work email. */
  @Property({ type: 'text', nullable: true })
  domain: string | null = null;

  /** The company's website, normalised (scheme, lower-case host, no trailing slash). */
  @Property({ type: 'text', nullable: true })
  normalizedWebsite: string | null = null;

  @Property({ type: 'text', nullable: true })
  websiteSource: WebsiteSource | null = null;

  @Property({ type: 'double', nullable: true })
  websiteConfidence: number | null = null;

  @Property({ type: 'json', nullable: true })
  websiteEvidence: WebsiteEvidence | null = null;

  /** What the company does, from the website analysis. */
  @Property({ type: 'text', nullable: true })
  websiteSummary: string | null = null;

  /** Addresses and numbers the website publishes for the company as a whole. */
  @Property({ type: 'text[]' })
  emails: Opt<string[]> = [];

  @Property({ type: 'text[]' })
  phones: Opt<string[]> = [];

  @Property({ type: 'json' })
  contacts: Opt<EnrichedContact[]> = [];

  @Property({ type: 'json', nullable: true })
  personalization: Personalization | null = null;

  @Property({ type: 'json', nullable: true })
  qualification: Qualification | null = null;

  @Property({ type: 'json' })
  sources: Opt<SourceQuote[]> = [];

  @Property({ type: 'json' })
  stepOutcomes: Opt<StepOutcome[]> = [];

  /** What enrichment spent on this record: searches and model tokens, in USD. */
  @Property({ type: 'double' })
  costUsd: Opt<number> = 0;

  /** The lead this record enriches, when the job ran over a lead list. */
  @Property({ type: 'uuid', nullable: true })
  leadId: string | null = null;

  /** The person the row itself names (an owner's columns), found first among the contacts. */
  @Property({ type: 'json', nullable: true })
  givenContact: GivenContact | null = null;

  /** Why enrichment failed, in words a user can act on. */
  @Property({ type: 'text', nullable: true })
  failureReason: string | null = null;
}
