import { Field, Float, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { AssetKind } from '../assets/index.js';
import { JobStatus } from './campaign-job.entity.js';

registerEnumType(JobStatus, { name: 'JobStatus', description: 'Where a background job stands.' });

// A type separate from the entity because the entity's `error` column is for operators only.
@ObjectType('CampaignJob', { description: 'A generateCampaign run: the assets it builds and how far it got.' })
export class CampaignJobType {
  @Field(() => ID)
  id!: string;

  @Field(() => ID)
  campaignId!: string;

  @Field(() => [AssetKind], { description: 'The kinds asked for; their prerequisites are built as needed.' })
  kinds!: AssetKind[];

  @Field(() => JobStatus)
  status!: JobStatus;

  @Field(() => Int, { description: 'Assets to build (the kinds asked for and the prerequisites they need).' })
  total!: number;

  @Field(() => Int, { description: 'Assets built.' })
  completed!: number;

  @Field(() => Int, { description: 'Assets that could not be built; Campaign.assets says why.' })
  failed!: number;

  @Field(() => Float, { description: 'Assets built or failed, as a share of total: 0 to 100.' })
  percent!: number;

  @Field(() => String, { nullable: true, description: 'Where it stands, in words.' })
  message!: string | null;

  @Field()
  createdAt!: Date;

  @Field()
  updatedAt!: Date;

  @Field(() => Date, { nullable: true })
  startedAt!: Date | null;

  @Field(() => Date, { nullable: true })
  finishedAt!: Date | null;
}
