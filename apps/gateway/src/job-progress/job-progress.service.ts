import { progressPercent, type JobProgressEvent, type JobProgressFeed, type JobProgressSnapshot } from '@gtm/jobs';
import type { CallerContext } from '@gtm/caller';
import { upstreamUnavailable, type Logger } from '@gtm/runtime';
import type { GatewayContext } from '../context.js';
import type { JobProgressType } from './job-progress.type.js';

/** Subject types whose entity a `JobProgress` exposes, by the field that exposes them. */
const subjectFields = { enrichmentJob: 'EnrichmentJob', campaign: 'Campaign' } as const;

/** A job's progress as the caller may see it. */
export class JobProgressService {
  constructor(private readonly feed: JobProgressFeed) {}

  /**
   * The latest progress of a job of the caller's tenant, or null. A job of another tenant is
   * null exactly like one that does not exist, so ids of other tenants' jobs cannot be probed.
   */
  async current(caller: CallerContext, jobId: string, logger?: Logger): Promise<JobProgressEvent | null> {
    let event: JobProgressEvent | null;
    try {
      event = await this.feed.read(jobId);
    } catch (error) {
      // Redis away: a known outage with a retry, not an unexpected error.
      logger?.warn({ err: error, jobId }, 'could not read job progress: Redis did not answer');
      throw upstreamUnavailable('Job progress cannot be read right now: its store (Redis) does not answer. Try again shortly.');
    }
    return event && event.snapshot.tenantId === caller.tenantId ? event : null;
  }

  /**
   * The snapshot an execution answers with: the event a subscription is delivering (carried in the
   * context, so its execution shows that event and not a newer one), else the latest.
   */
  async snapshotFor(context: GatewayContext, jobId: string): Promise<JobProgressType | null> {
    const carried = context.jobProgress?.snapshot.jobId === jobId ? context.jobProgress : null;
    const event = carried ?? (await this.current(context.caller, jobId, context.logger));
    return event && event.snapshot.tenantId === context.caller.tenantId ? toJobProgress(event.snapshot) : null;
  }
}

function subjectReference(snapshot: JobProgressSnapshot, type: string): { id: string } | null {
  return snapshot.subject?.type === type ? { id: snapshot.subject.id } : null;
}

export function toJobProgress(snapshot: JobProgressSnapshot): JobProgressType {
  return {
    jobId: snapshot.jobId,
    kind: snapshot.kind,
    status: snapshot.status,
    total: snapshot.total,
    completed: snapshot.completed,
    failed: snapshot.failed,
    percent: progressPercent(snapshot),
    message: snapshot.message,
    updatedAt: new Date(snapshot.updatedAt),
    enrichmentJob: subjectReference(snapshot, subjectFields.enrichmentJob),
    campaign: subjectReference(snapshot, subjectFields.campaign),
  };
}
