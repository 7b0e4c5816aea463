import { ConnectionType } from '@gtm/runtime';
import { GraphQLJSON } from 'graphql-scalars';
import { Field, Float, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { EnrichmentRecordStatus } from './enrichment-record.entity.js';
import { EnrichmentStep, QualificationTier, StepStatus, WebsiteSource } from './enrichment-results.js';

registerEnumType(EnrichmentStep, {
  name: 'EnrichmentStep',
  description: 'What an enrichment does to each record, in this order.',
  valuesConfig: {
    WEBSITE: { description: 'The company’s website: given, from a work email’s domain, or found by a web search and confirmed on the site.' },
    WEBSITE_ANALYSIS: { description: 'The website read by content-service (each site once per job, reused within its analysis TTL).' },
    CONTACTS: { description: 'Owner and executives named on the site, ranked as a seller writes to them.' },
    PERSONALIZATION: { description: 'Subject line, ice-breaker and hot-button topic from the company’s own passages.' },
    QUALIFICATION: { description: 'Score, tier and reasoning against the campaign’s targeting, or the data itself.' },
  },
});
registerEnumType(EnrichmentRecordStatus, {
  name: 'EnrichmentRecordStatus',
  valuesConfig: {
    PENDING: { description: 'Not processed yet.' },
    ENRICHED: { description: 'Every step asked for was done.' },
    PARTIAL: { description: 'Some steps were done; `steps` says which were not, and why.' },
    FAILED: { description: 'Nothing could be enriched; `failureReason` says why.' },
  },
});
registerEnumType(StepStatus, { name: 'EnrichmentStepStatus', description: 'How one step went for one record.' });
registerEnumType(WebsiteSource, { name: 'WebsiteSource', description: 'Where a record’s website came from: the row, its work email’s domain, or a web search.' });
registerEnumType(QualificationTier, { name: 'QualificationTier', description: 'A from 75, B from 55, C from 35, D below.' });

@ObjectType('EnrichedContact', { description: 'A person at the company, with the page they were found on.' })
export class EnrichedContactType {
  @Field()
  name!: string;

  @Field(() => String, { nullable: true })
  title!: string | null;

  @Field(() => String, { nullable: true })
  email!: string | null;

  @Field(() => String, { nullable: true })
  phone!: string | null;

  @Field(() => String, { nullable: true })
  linkedinUrl!: string | null;

  @Field({ description: 'The page they were read from, or `input` when the row named them.' })
  source!: string;

  @Field({ description: 'OWNER, C_LEVEL, VP, DIRECTOR, MANAGER or OTHER, from the title.' })
  seniority!: string;
}

@ObjectType('Personalization', { description: 'An opener for this company, grounded in its own website.' })
export class PersonalizationType {
  @Field()
  subject!: string;

  @Field({ description: 'Two or three sentences built on something the company says on its site.' })
  iceBreaker!: string;

  @Field()
  hotButtonTopic!: string;

  @Field({ description: 'Who wrote it: a model provider, or `offline`.' })
  provider!: string;

  @Field({ description: 'True when assembled from the site’s own sentences without a model; never present it as AI writing.' })
  extractive!: boolean;

  @Field(() => Float)
  confidence!: number;
}

@ObjectType('Qualification', { description: 'How well the company fits.' })
export class QualificationType {
  @Field(() => Int, { description: '0 to 100.' })
  score!: number;

  @Field(() => QualificationTier)
  tier!: QualificationTier;

  @Field()
  reasoning!: string;

  @Field(() => Float)
  confidence!: number;

  @Field(() => [String])
  signals!: string[];

  @Field({ description: 'Who scored it: a model provider, or `offline` (rules).' })
  provider!: string;

  @Field({ description: 'CAMPAIGN when measured against the campaign’s targeting, DATA when against the record alone.' })
  basis!: string;
}

@ObjectType('SourceQuote', { description: 'Words from the company’s own website that a result rests on, found on that page.' })
export class SourceQuoteType {
  @Field()
  url!: string;

  @Field()
  quote!: string;
}

@ObjectType('EnrichmentStepOutcome', { description: 'How one step went for one record.' })
export class EnrichmentStepOutcomeType {
  @Field(() => EnrichmentStep)
  step!: EnrichmentStep;

  @Field(() => StepStatus)
  status!: StepStatus;

  @Field(() => String, { nullable: true, description: 'What happened, in words a user can act on.' })
  note!: string | null;

  @Field(() => Float, { description: 'What this step cost, in USD.' })
  costUsd!: number;

  @Field(() => Int, { description: 'How long it took, in milliseconds.' })
  durationMs!: number;
}

@ObjectType('WebsiteCandidate', { description: 'A site considered as the company’s, and the verdict.' })
export class WebsiteCandidateType {
  @Field()
  url!: string;

  @Field()
  accepted!: boolean;

  @Field(() => [String], { description: 'What the site showed of the company: name, phone, place, domain.' })
  matched!: string[];

  @Field()
  reason!: string;
}

@ObjectType('WebsiteEvidence', { description: 'Why the website is believed to be the company’s.' })
export class WebsiteEvidenceType {
  @Field(() => String, { nullable: true, description: 'The web search that found it.' })
  query!: string | null;

  @Field(() => String, { nullable: true })
  provider!: string | null;

  @Field(() => [WebsiteCandidateType])
  candidates!: WebsiteCandidateType[];

  @Field(() => [String], { description: 'Directory and social sites among the results, never taken as the company’s.' })
  skipped!: string[];
}

@ObjectType('EnrichmentRecord', { description: 'One row of an enrichment job: what was given and what was found.' })
export class EnrichmentRecordType {
  @Field(() => ID)
  id!: string;

  @Field(() => Int, { description: '0-based place in the list.' })
  position!: number;

  @Field(() => EnrichmentRecordStatus)
  status!: EnrichmentRecordStatus;

  @Field(() => GraphQLJSON, { description: 'The row as given: its columns and values, verbatim.' })
  input!: Record<string, unknown>;

  @Field(() => String, { nullable: true, name: 'website', description: 'The company’s website, normalised.' })
  normalizedWebsite!: string | null;

  @Field(() => String, { nullable: true })
  domain!: string | null;

  @Field(() => WebsiteSource, { nullable: true })
  websiteSource!: WebsiteSource | null;

  @Field(() => Float, { nullable: true, description: 'How sure it is the company’s website, 0 to 1.' })
  websiteConfidence!: number | null;

  @Field(() => WebsiteEvidenceType, { nullable: true })
  websiteEvidence!: WebsiteEvidenceType | null;

  @Field(() => String, { nullable: true, description: 'What the company does, from its website.' })
  websiteSummary!: string | null;

  @Field(() => [String], { description: 'Addresses the website publishes for the company as a whole.' })
  emails!: string[];

  @Field(() => [String])
  phones!: string[];

  @Field(() => [EnrichedContactType], { description: 'Owner and executives first.' })
  contacts!: EnrichedContactType[];

  @Field(() => PersonalizationType, { nullable: true })
  personalization!: PersonalizationType | null;

  @Field(() => QualificationType, { nullable: true })
  qualification!: QualificationType | null;

  @Field(() => [SourceQuoteType])
  sources!: SourceQuoteType[];

  @Field(() => [EnrichmentStepOutcomeType], { name: 'steps', description: 'How each step went, in order.' })
  stepOutcomes!: EnrichmentStepOutcomeType[];

  @Field(() => Float, { description: 'What enrichment spent on this record (searches and model tokens), in USD.' })
  costUsd!: number;

  @Field(() => String, { nullable: true })
  failureReason!: string | null;
}

export const EnrichmentRecordConnection = ConnectionType(EnrichmentRecordType, 'EnrichmentRecord');
