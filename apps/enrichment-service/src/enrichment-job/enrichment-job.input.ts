import { Field, InputType, Int } from 'type-graphql';
import { JobStatus } from './enrichment-job.entity.js';

@InputType()
export class CreateEnrichmentJobInput {
  @Field({ description: '1 to 200 characters, typically the file name.' })
  name!: string;

  @Field(() => Int, { description: 'Records to process, 0 to 1,000,000.' })
  total!: number;
}

@InputType()
export class EnrichmentJobFilter {
  @Field(() => [JobStatus], { nullable: true, description: 'Jobs in any of these statuses.' })
  status?: JobStatus[] | null;
}
