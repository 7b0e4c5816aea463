import { JobStatus } from '@gtm/jobs';
import { Field, Float, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { AssetKind } from '../assets/index.js';
import { StepReason } from '../campaign-asset/generation.plan.js';

registerEnumType(StepReason, {
  name: 'StepReason',
  description: 'Why a generation builds an asset.',
  valuesConfig: {
    REQUESTED: { description: 'Asked for by name (regenerate).' },
    MISSING: { description: 'It has no version yet.' },
    FAILED: { description: 'Its last generation failed.' },
    STALE: { description: 'Built on an older version of an asset it depends on.' },
    WEAK: { description: 'Low confidence, and something changed that can make it better (a model, the prompt, a newer analysis).' },
    PREREQUISITE_REBUILT: { description: 'An asset it is built on is rebuilt in the same run.' },
  },
});

@ObjectType('CampaignJobStep', { description: 'An asset a generateCampaign job builds, and why.' })
export class CampaignJobStepType {
  @Field(() => AssetKind)
  kind!: AssetKind;

  @Field(() => StepReason)
  reason!: StepReason;
}

// A type separate from the entity because the job's `error` column is for operators only.
@ObjectType('CampaignJob', { description: 'A generateCampaign run: the assets it builds and how far it got. Follow it live with Subscription.jobProgress(jobId).' })
export class CampaignJobType {
  @Field(() => ID)
  id!: string;

  @Field(() => ID)
  campaignId!: string;

  @Field(() => [AssetKind], { description: 'The kinds asked for; their prerequisites are built as needed.' })
  kinds!: AssetKind[];

  @Field(() => [CampaignJobStepType], { description: 'What it builds, in build order: the kinds asked for and the prerequisites they need, where they are not ready.' })
  steps!: CampaignJobStepType[];

  @Field(() => JobStatus, { description: 'FAILED when an asset could not be built (message says why), or after the last of its attempts.' })
  status!: JobStatus;

  @Field(() => Int, { description: 'Assets to build (the steps).' })
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
