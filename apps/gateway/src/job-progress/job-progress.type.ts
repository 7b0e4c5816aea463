import { JobStatus } from '@gtm/jobs';
import { Directive, Field, Float, ID, Int, ObjectType } from 'type-graphql';

// Stubs of entities other subgraphs own: the gateway only hands out their keys, and federation
// resolves every other field the client selects from the owner.
@ObjectType('EnrichmentJob')
@Directive('@key(fields: "id", resolvable: false)')
export class EnrichmentJobReference {
  @Field(() => ID)
  id!: string;
}

@ObjectType('Campaign')
@Directive('@key(fields: "id", resolvable: false)')
export class CampaignReference {
  @Field(() => ID)
  id!: string;
}

@ObjectType('JobProgress', { description: 'Where a background job stands: its status and counts at one moment.' })
export class JobProgressType {
  @Field(() => ID)
  jobId!: string;

  @Field({ description: 'What sort of job: `enrichment`, …' })
  kind!: string;

  @Field(() => JobStatus)
  status!: JobStatus;

  @Field(() => Int, { description: 'Items to process.' })
  total!: number;

  @Field(() => Int, { description: 'Items processed successfully.' })
  completed!: number;

  @Field(() => Int, { description: 'Items that could not be processed.' })
  failed!: number;

  @Field(() => Float, { description: 'Items processed, successfully or not, as a share of total: 0 to 100.' })
  percent!: number;

  @Field(() => String, { nullable: true, description: 'A short note on the job’s state (a retry, a failure, a cancellation).' })
  message!: string | null;

  @Field(() => Date)
  updatedAt!: Date;

  @Field(() => EnrichmentJobReference, { nullable: true, description: 'The enrichment job this is, when it is one: select any of its fields.' })
  enrichmentJob!: EnrichmentJobReference | null;

  @Field(() => CampaignReference, { nullable: true, description: 'The campaign the job works on, when it works on one: select any of its fields.' })
  campaign!: CampaignReference | null;
}
