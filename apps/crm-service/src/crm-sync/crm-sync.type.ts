import { JobStatus } from '@gtm/jobs';
import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { CrmProvider } from '../crm-provider/crm-provider.js';
import { CrmSyncSide } from '../crm-dead-letter/crm-dead-letter.entity.js';
import { SyncDirection } from './crm-sync-run.entity.js';

registerEnumType(SyncDirection, { name: 'SyncDirection', description: 'Which way a sync goes: from the CRM (IMPORT), to it (EXPORT), or both.' });
registerEnumType(CrmSyncSide, { name: 'CrmSyncSide', description: 'Which way a record failed: from the CRM (IMPORT) or to it (EXPORT).' });

@ObjectType('CrmSyncRun', { description: 'One sync of a CRM connection. It is a job: `jobProgress(jobId: <its id>)` follows it.' })
export class CrmSyncRunType {
  @Field(() => ID)
  id!: string;

  @Field(() => JobStatus)
  status!: JobStatus;

  @Field(() => SyncDirection)
  direction!: SyncDirection;

  @Field({ description: 'Imported everything, not only what changed since the last run.' })
  full!: boolean;

  @Field({ description: 'What started it: manual, webhook, resume, replay.' })
  trigger!: string;

  @Field(() => Int, { description: 'Records created, here or at the CRM.' })
  created!: number;

  @Field(() => Int, { description: 'Records updated, here or at the CRM.' })
  updated!: number;

  @Field(() => Int)
  unchanged!: number;

  @Field(() => Int, { description: 'Records that went to the dead letters.' })
  failed!: number;

  @Field(() => Int, { description: 'Fields both sides had changed since the last sync (the later change won).' })
  conflicts!: number;

  @Field(() => Int, { description: 'Leads removed because their CRM record was deleted.' })
  deleted!: number;

  @Field(() => Int, { description: 'Merges at the CRM followed here.' })
  merged!: number;

  @Field(() => String, { nullable: true })
  message!: string | null;

  @Field(() => Date, { nullable: true, description: "Set when the CRM's daily cap ended the run: another run resumes then." })
  pausedUntil!: Date | null;

  @Field()
  createdAt!: Date;

  @Field(() => Date, { nullable: true })
  finishedAt!: Date | null;
}

@ObjectType('CrmDeadLetter', { description: 'A record that could not be synced, with why. `retryCrmDeadLetters` tries them again.' })
export class CrmDeadLetterType {
  @Field(() => ID)
  id!: string;

  @Field(() => CrmSyncSide)
  direction!: CrmSyncSide;

  @Field(() => String, { nullable: true, description: "The CRM's record id (IMPORT)." })
  externalId!: string | null;

  @Field(() => ID, { nullable: true, description: 'The lead here (EXPORT, or an IMPORT that matched one).' })
  leadId!: string | null;

  @Field({ description: 'What the CRM (or this service) said.' })
  error!: string;

  @Field()
  errorKind!: string;

  @Field(() => Int)
  attempts!: number;

  @Field()
  createdAt!: Date;

  @Field({ description: 'When it last failed.' })
  updatedAt!: Date;
}

@ObjectType('CrmRecordLink', { description: "A lead's record at a connected CRM." })
export class CrmRecordLinkType {
  @Field(() => CrmProvider)
  provider!: CrmProvider;

  @Field(() => ID)
  connectionId!: string;

  @Field({ description: "The CRM's id of the record." })
  externalId!: string;

  @Field(() => String, { nullable: true, description: "Where the record opens in the CRM's app." })
  url!: string | null;

  @Field()
  lastSyncedAt!: Date;
}
