import { badUserInput } from '@gtm/runtime';
import { Arg, Ctx, ID, Query, Resolver, Root, Subscription } from 'type-graphql';
import type { GatewayContext } from '../context.js';
import type { JobProgressService } from './job-progress.service.js';
import { JobProgressType } from './job-progress.type.js';

@Resolver(() => JobProgressType)
export class JobProgressResolver {
  constructor(private readonly jobProgressService: JobProgressService) {}

  @Query(() => JobProgressType, {
    nullable: true,
    description: 'The latest progress of a job of your tenant, or null. To follow it as it changes, subscribe to `Subscription.jobProgress`.',
  })
  jobProgress(@Arg('jobId', () => ID) jobId: string, @Ctx() context: GatewayContext) {
    return this.jobProgressService.snapshotFor(context, jobId);
  }

  @Subscription(() => JobProgressType, {
    name: 'jobProgress',
    description:
      'A job’s progress over WebSocket (graphql-ws): the current snapshot first, then each change (at most about ten a second), and the subscription completes after a terminal status. An unknown job, or one of another tenant, is NOT_FOUND.',
    // The gateway's WebSocket server runs subscriptions itself (websocket/graphql-websocket.ts);
    // this schema only declares the field so it composes into the supergraph.
    subscribe: () => {
      throw badUserInput('Subscriptions are served over WebSocket at /graphql (graphql-ws, subprotocol graphql-transport-ws).');
    },
  })
  jobProgressEvents(@Arg('jobId', () => ID) _jobId: string, @Root() progress: JobProgressType): JobProgressType {
    return progress;
  }
}
