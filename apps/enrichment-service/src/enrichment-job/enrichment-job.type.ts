import { JobStatus } from '@gtm/jobs';
import { ConnectionType } from '@gtm/runtime';
import { Directive, Field, Float, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { EnrichmentJobSource } from './enrichment-job.entity.js';
import { EnrichmentStep } from '../enrichment-record/enrichment-results.js';

// A type separate from the entity because the entity's `error` column is for operators only.
@ObjectType('EnrichmentJob', { description: 'One enrichment run over a list of records, with its progress.' })
@Directive('@key(fields: "id")')
export class EnrichmentJobType {
  @Field(() => ID)
  id!: string;

  @Field({ description: 'What the job is called, typically the uploaded file name.' })
  name!: string;

  @Field(() => JobStatus)
  status!: JobStatus;

  @Field(() => Int, { description: 'Records to process.' })
  total!: number;

  @Field(() => Int, { description: 'Records processed successfully.' })
  completed!: number;

  @Field(() => Int, { description: 'Records that could not be processed.' })
  failed!: number;

  @Field(() => String, { nullable: true, description: 'A short note on the job’s state.' })
  message!: string | null;

  @Field()
  createdAt!: Date;

  @Field()
  updatedAt!: Date;

  @Field(() => Date, { nullable: true })
  startedAt!: Date | null;

  @Field(() => Date, { nullable: true, description: 'When the job succeeded, failed or was cancelled.' })
  finishedAt!: Date | null;

  @Field(() => [EnrichmentStep], { description: 'What is done to each record.' })
  steps!: EnrichmentStep[];

  @Field(() => Float, { nullable: true, description: 'The most one record may cost; null: no limit.' })
  budgetUsdPerRecord!: number | null;

  @Field(() => EnrichmentJobSource)
  source!: EnrichmentJobSource;

  @Field(() => ID, { nullable: true, description: 'The lead list whose leads are enriched.' })
  leadListId!: string | null;

  @Field(() => [ColumnMappingType], { nullable: true, description: 'An uploaded file’s columns and the fields they were read as: as given until the file arrives, then as used.' })
  columnMapping!: ColumnMappingType[] | null;
}

registerEnumType(EnrichmentJobSource, {
  name: 'EnrichmentJobSource',
  description: 'Where a job’s records come from.',
  valuesConfig: {
    RECORDS: { description: 'Given with the mutation.' },
    UPLOAD: { description: 'An uploaded CSV file (`uploadUrl`).' },
    LEAD_LIST: { description: 'The leads of a lead list.' },
  },
});

/** The formats a result file can be downloaded in. */
export enum ExportFormat {
  CSV = 'CSV',
}
registerEnumType(ExportFormat, { name: 'ExportFormat', description: 'The format of a downloaded file.' });

@ObjectType('EnrichmentColumnMapping', { description: 'What one column of an uploaded file was read as.' })
export class ColumnMappingType {
  @Field()
  column!: string;

  @Field(() => String, { nullable: true, description: 'The lead field, or null for an extra column kept as it is.' })
  field!: string | null;
}

export const EnrichmentJobConnection = ConnectionType(EnrichmentJobType, 'EnrichmentJob');
