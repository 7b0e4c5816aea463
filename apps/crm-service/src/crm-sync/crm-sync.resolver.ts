import type { SubgraphContext } from '@gtm/runtime';
import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Resolver, Root } from 'type-graphql';
import type { CrmConnection } from '../crm-connection/crm-connection.entity.js';
import { CrmConnectionType } from '../crm-connection/crm-connection.type.js';
import { LeadType } from '../lead/lead.type.js';
import type { Lead } from '../lead/lead.entity.js';
import type { CrmLoaders } from '../loaders.js';
import { SyncDirection } from './crm-sync-run.entity.js';
import type { CrmSyncService } from './crm-sync.service.js';
import { CrmDeadLetterType, CrmRecordLinkType, CrmSyncRunType } from './crm-sync.type.js';

type CrmContext = SubgraphContext<CrmLoaders>;

@Resolver(() => CrmConnectionType)
export class CrmSyncResolver {
  constructor(private readonly sync: CrmSyncService) {}

  @Mutation(() => CrmSyncRunType, { description: 'Starts a sync run (a job; follow it with jobProgress(jobId: <its id>)).' })
  syncCrm(
    @Arg('connectionId', () => ID) connectionId: string,
    @Arg('direction', () => SyncDirection, { defaultValue: SyncDirection.BOTH }) direction: SyncDirection,
    @Arg('full', () => Boolean, { defaultValue: false, description: 'Import everything, not only what changed since the last run.' }) full: boolean,
    @Ctx() context: CrmContext,
  ) {
    return this.sync.sync(context, connectionId, direction, full);
  }

  @Mutation(() => Int, { description: "Tries the connection's dead letters again in a run; answers how many were queued." })
  retryCrmDeadLetters(@Arg('connectionId', () => ID) connectionId: string, @Ctx() context: CrmContext) {
    return this.sync.retryDeadLetters(context, connectionId);
  }

  @FieldResolver(() => [CrmSyncRunType], { description: 'Sync runs, newest first.' })
  syncRuns(@Root() connection: CrmConnection, @Arg('first', () => Int, { nullable: true, description: 'Default 20, at most 100.' }) first: number | null, @Ctx() context: CrmContext) {
    return this.sync.runs(context, connection, first);
  }

  @FieldResolver(() => [CrmDeadLetterType], { description: 'Records that could not be synced and are still open, newest first.' })
  deadLetters(@Root() connection: CrmConnection, @Arg('first', () => Int, { nullable: true, description: 'Default 20, at most 100.' }) first: number | null, @Ctx() context: CrmContext) {
    return this.sync.deadLetters(context, connection, first);
  }
}

@Resolver(() => LeadType)
export class LeadCrmRecordsResolver {
  constructor(private readonly sync: CrmSyncService) {}

  @FieldResolver(() => [CrmRecordLinkType], { description: "The lead's records at connected CRMs." })
  crmRecords(@Root() lead: Lead, @Ctx() context: CrmContext) {
    return this.sync.recordLinks(context, lead.id);
  }
}
