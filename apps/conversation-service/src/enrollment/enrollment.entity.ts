import type { Opt } from '@mikro-orm/core';
import { Entity, Property } from '@mikro-orm/decorators/legacy';
import { TenantScopedEntity } from '@gtm/runtime';
import type { CampaignGrounding } from '../upstream/campaign.client.js';

/** A lead that was asked for but not enrolled, and why. */
export interface SkippedLead {
  leadId: string;
  email: string | null;
  reason: string;
  detail: string;
}

/** One `enrollLeads` call: what it enrolled, what it skipped, and the campaign as it was then. */
@Entity({ tableName: 'enrollment' })
export class Enrollment extends TenantScopedEntity {
  @Property({ type: 'uuid' })
  campaignId!: string;

  @Property({ type: 'uuid' })
  mailboxId!: string;

  @Property({ type: 'boolean' })
  requireApproval!: boolean;

  @Property({ type: 'integer' })
  requested!: number;

  @Property({ type: 'integer' })
  enrolled!: number;

  @Property({ type: 'json' })
  skipped: Opt<SkippedLead[]> = [];

  /**
   * What replies are grounded in: the campaign's positioning, product and persona as they were at
   * enrolment. Replies are drafted by background work that carries no caller token, so the campaign
   * cannot be read again then.
   */
  @Property({ type: 'json', lazy: true })
  grounding!: CampaignGrounding;
}
