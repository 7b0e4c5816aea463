import { JobStatus } from '@gtm/jobs';
import { GraphQLJSON } from 'graphql-scalars';
import { Field, Float, ID, InputType, Int } from 'type-graphql';
import { EnrichmentStep } from '../enrichment-record/enrichment-results.js';

@InputType({ description: 'One row of the list to enrich. Its company is found from the website, else from a work email, else by a web search for its name and place.' })
export class EnrichmentRecordInput {
  @Field(() => String, { nullable: true })
  email?: string | null;

  @Field(() => String, { nullable: true })
  companyName?: string | null;

  @Field(() => String, { nullable: true, description: 'The company’s website, such as panfactum.com.' })
  website?: string | null;

  @Field(() => String, { nullable: true, description: 'The company’s phone: confirms a website found by search.' })
  phone?: string | null;

  @Field(() => String, { nullable: true, description: 'Street address.' })
  address?: string | null;

  @Field(() => String, { nullable: true })
  city?: string | null;

  @Field(() => String, { nullable: true, description: 'State, province or region.' })
  state?: string | null;

  @Field(() => String, { nullable: true })
  postalCode?: string | null;

  @Field(() => String, { nullable: true, description: 'Two-letter code or name; default United States.' })
  country?: string | null;

  @Field(() => String, { nullable: true, description: 'A person at the company the row already names.' })
  contactName?: string | null;

  @Field(() => String, { nullable: true })
  contactTitle?: string | null;

  @Field(() => GraphQLJSON, { nullable: true, description: 'Any other columns of the row, `{ "column": "value" }`, kept verbatim in `input` (at most 200).' })
  fields?: Record<string, unknown> | null;
}

@InputType({ description: 'What one column of an uploaded file holds.' })
export class ColumnMappingInput {
  @Field({ description: 'The column’s header, as the file writes it.' })
  column!: string;

  @Field(() => String, {
    nullable: true,
    description:
      'The field it holds: companyName, website, domain, email (a person’s), companyEmail, phone (a person’s), companyPhone, firstName, lastName, fullName, title, linkedinUrl, address, street, city, state, postalCode, country, industry, employeeCount, annualRevenue or notes. Null: an extra column, kept as it is.',
  })
  field?: string | null;
}

@InputType({ description: 'Give exactly one of `records`, `upload: true` or `leadListId` (or only `total`, to add records later).' })
export class CreateEnrichmentJobInput {
  @Field({ description: '1 to 200 characters, typically the file name.' })
  name!: string;

  @Field(() => Int, { nullable: true, description: 'Records to process, 0 to 1,000,000. Optional with `records` (it is their count).' })
  total?: number | null;

  @Field(() => [EnrichmentRecordInput], {
    nullable: true,
    description: 'Up to 10,000 records: the job starts at once and its progress can be followed with `Subscription.jobProgress(jobId: <the job’s id>)`. Without them the job waits, QUEUED, for its records.',
  })
  records?: EnrichmentRecordInput[] | null;

  @Field(() => Boolean, {
    nullable: true,
    description:
      'True: the records come from a CSV file. The job’s `uploadUrl` takes it (`PUT`, `Content-Type: text/csv`, any encoding and delimiter); every column is kept as it is, and the job starts once the file is read.',
  })
  upload?: boolean | null;

  @Field(() => [ColumnMappingInput], { nullable: true, description: 'With `upload`: what columns hold, where the detected mapping is wrong. Columns not named keep the detected field.' })
  columnMapping?: ColumnMappingInput[] | null;

  @Field(() => ID, { nullable: true, description: 'A lead list of yours (crm-service): its leads are the records, and what is found reaches each lead.' })
  leadListId?: string | null;

  @Field(() => ID, { nullable: true, description: 'A campaign of yours: its product, target company and persona steer personalisation and qualification.' })
  campaignId?: string | null;

  @Field(() => [EnrichmentStep], { nullable: true, description: 'What to do to each record. Default: every step. Steps a later one needs run anyway (CONTACTS needs WEBSITE_ANALYSIS).' })
  steps?: EnrichmentStep[] | null;

  @Field(() => Float, { nullable: true, description: 'The most one record may cost in searches and model tokens, 0 to 10 USD; paid steps stop before it. Default: no limit.' })
  budgetUsdPerRecord?: number | null;
}

@InputType()
export class EnrichmentJobFilter {
  @Field(() => [JobStatus], { nullable: true, description: 'Jobs in any of these statuses.' })
  status?: JobStatus[] | null;
}

