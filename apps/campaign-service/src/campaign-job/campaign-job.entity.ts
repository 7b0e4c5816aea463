import type { Opt } from '@mikro-orm/core';
import { Entity, Property } from '@mikro-orm/decorators/legacy';
import { Job } from '@gtm/jobs';
import type { LlmAttribution } from '@gtm/llm';
import type { AssetKind } from '../assets/index.js';
import type { PlannedStep } from '../generation/generation-plan.js';
import type { StoredWebsiteContext } from '../generation/website-context.js';

/** The `kind` of a generateCampaign job, and its worker task. */
export const campaignJobKind = 'campaign-generation';

/**
 * One `generateCampaign` run. It is a job (status, counts and timestamps live in the shared `job`
 * table, decision 0014, with the campaign as its subject); this table keeps what the worker needs
 * to build the assets without the request that asked for them.
 */
@Entity({ tableName: 'campaign_job' })
export class CampaignJob extends Job {
  override kind: Opt<string> = campaignJobKind;

  @Property({ type: 'uuid' })
  campaignId!: string;

  /** The kinds asked for; their prerequisites are built as needed. */
  @Property({ type: 'json' })
  kinds: Opt<AssetKind[]> = [];

  /** Kinds asked to be rebuilt even when ready. */
  @Property({ type: 'json' })
  regenerate: Opt<AssetKind[]> = [];

  /** What the request planned, in build order: one item of the job each. */
  @Property({ type: 'json' })
  steps: Opt<PlannedStep[]> = [];

  /**
   * The website's analysis and passages, read by the request while the caller's token was valid
   * (it lives a minute; the job may wait longer). Null when nothing needed building. Lazy: tens of
   * kilobytes that only the worker reads, not every listing of a campaign's jobs.
   */
  @Property({ type: 'json', nullable: true, lazy: true })
  website: StoredWebsiteContext | null = null;

  /** Who asked: every model call of the job is metered to them. */
  @Property({ type: 'json' })
  attribution!: LlmAttribution;
}
