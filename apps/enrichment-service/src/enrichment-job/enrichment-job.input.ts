import { JobStatus } from '@gtm/jobs';
import { Field, InputType, Int } from 'type-graphql';

@InputType({ description: 'One row of the list to enrich. Its company is found from the website, else from a work email.' })
export class EnrichmentRecordInput {
  @Field(() => String, { nullable: true })
  email?: string | null;

  @Field(() => String, { nullable: true })
  companyName?: string | null;

  @Field(() => String, { nullable: true, description: 'The company’s website, such as panfactum.com.' })
  website?: string | null;
}

@InputType()
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
}

@InputType()
export class EnrichmentJobFilter {
  @Field(() => [JobStatus], { nullable: true, description: 'Jobs in any of these statuses.' })
  status?: JobStatus[] | null;
}
