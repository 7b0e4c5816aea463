import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { CampaignReference } from '../campaign/campaign.type.js';
import { LeadReference } from '../lead/lead.type.js';
import { SkipReason } from './enrollment.service.js';

registerEnumType(SkipReason, { name: 'EnrollmentSkipReason', description: 'Why a lead was not enrolled.' });

@ObjectType('SkippedLead', { description: 'A lead an enrolment left out, and why.' })
export class SkippedLeadType {
  @Field(() => LeadReference)
  lead!: LeadReference;

  @Field(() => String, { nullable: true })
  email!: string | null;

  @Field(() => SkipReason)
  reason!: SkipReason;

  @Field()
  detail!: string;
}

@ObjectType('Enrollment', { description: 'One enrollLeads call: how many leads it enrolled, which it skipped and why.' })
export class EnrollmentType {
  @Field(() => ID)
  id!: string;

  @Field(() => CampaignReference)
  campaign!: CampaignReference;

  @Field(() => ID)
  mailboxId!: string;

  @Field()
  requireApproval!: boolean;

  @Field(() => Int, { description: 'Leads asked for.' })
  requested!: number;

  @Field(() => Int)
  enrolled!: number;

  @Field(() => [SkippedLeadType])
  skipped!: SkippedLeadType[];

  @Field()
  createdAt!: Date;
}
