import { UniqueConstraintViolationException } from '@mikro-orm/core';
import { badUserInput, conflict, isUuid, notFound, parseInput, upstreamUnavailable, UpstreamError, type SubgraphContext } from '@gtm/runtime';
import { z } from 'zod';
import { Conversation } from '../conversation/conversation.entity.js';
import { ConversationState, openStates } from '../conversation/conversation-state.js';
import type { ConversationLoaders } from '../loaders.js';
import { newMessageId } from '../mail/message-id.js';
import { MailboxStatus } from '../mailbox/mailbox.entity.js';
import { Message, MessageDirection, MessageKind, MessageStatus } from '../message/message.entity.js';
import { bookSend, lockMailboxForBooking } from '../message/send-booking.js';
import type { SuppressionService } from '../suppression/suppression.service.js';
import type { CampaignClient } from '../upstream/campaign.client.js';
import { LeadListsUnavailableError, type CrmClient, type LeadRecord } from '../upstream/crm.client.js';
import type { EnrichmentClient } from '../upstream/enrichment.client.js';
import { Enrollment, type SkippedLead } from './enrollment.entity.js';
import type { EnrollLeadsInput } from './enrollment.input.js';
import type { EnrollmentType } from './enrollment.type.js';
import { renderForLead, supportedMergeFields, unknownMergeFields, type MergeValues } from './merge-fields.js';

type ConversationContext = SubgraphContext<ConversationLoaders>;

/** Leads one call may enrol: a list bigger than this is enrolled in several calls. */
export const maximumLeadsPerEnrollment = 5_000;

const uuid = (what: string) =>
  z
    .string()
    .trim()
    .refine(isUuid, `must be the id of a ${what}`)
    .transform((value) => value.toLowerCase());

const enrollSchema = z
  .object({
    campaignId: uuid('campaign'),
    mailboxId: uuid('mailbox'),
    leadIds: z.array(uuid('lead')).min(1, 'must name at least one lead').max(maximumLeadsPerEnrollment, `may name at most ${maximumLeadsPerEnrollment} leads`).nullish(),
    leadListId: uuid('lead list').nullish(),
    requireApproval: z.boolean().default(true),
  })
  .refine((input) => Boolean(input.leadIds) !== Boolean(input.leadListId), { message: 'give either leadIds or leadListId, not both', path: ['leadIds'] });

export enum SkipReason {
  NO_EMAIL = 'NO_EMAIL',
  SUPPRESSED = 'SUPPRESSED',
  ALREADY_IN_CONVERSATION = 'ALREADY_IN_CONVERSATION',
  DUPLICATE = 'DUPLICATE',
}

export interface EnrollmentServiceOptions {
  crm: CrmClient;
  campaigns: CampaignClient;
  enrichment: EnrichmentClient;
  suppressions: SuppressionService;
}

/**
 * Puts leads into a campaign's email sequence from a mailbox: every step rendered for its lead now,
 * the first booked in the mailbox's window and caps, the rest waiting for the one before them.
 * Everything is checked before anything is written, and written in one transaction.
 */
export class EnrollmentService {
  constructor(private readonly options: EnrollmentServiceOptions) {}

  async enroll(context: ConversationContext, input: EnrollLeadsInput): Promise<{ enrollment: Enrollment; conversations: Conversation[] }> {
    const fields = parseInput(enrollSchema, input);
    const token = context.callerToken;
    const mailbox = await context.loaders.mailboxById.load(fields.mailboxId);
    if (!mailbox) throw notFound('Mailbox', fields.mailboxId);
    if (mailbox.status === MailboxStatus.FAILING) {
      throw badUserInput(`Mailbox ${mailbox.address} is failing (${mailbox.lastError ?? 'its server refused it'}); connect it again before enrolling leads.`, 'mailboxId');
    }

    const campaign = await this.upstream(() => this.options.campaigns.campaign(token, fields.campaignId));
    if (!campaign) throw notFound('Campaign', fields.campaignId);
    if (!campaign.sequence) throw badUserInput(`Campaign ${campaign.name} has no email sequence yet; generate it first (generateAsset with kind EMAIL_SEQUENCE).`, 'campaignId');
    const unknown = [...new Set(campaign.sequence.flatMap((step) => [...unknownMergeFields(step.subject), ...unknownMergeFields(step.body)]))];
    if (unknown.length > 0) {
      throw badUserInput(`The campaign's sequence uses ${unknown.map((name) => `{{${name}}}`).join(', ')}, which no lead field fills (supported: ${supportedMergeFields.map((name) => `{{${name}}}`).join(', ')}); correct the sequence first.`, 'campaignId');
    }

    const requested = fields.leadIds ?? [];
    let leads: LeadRecord[];
    if (fields.leadIds) {
      const found = await this.upstream(() => this.options.crm.leadsById(token, [...new Set(fields.leadIds)]));
      const missing = [...new Set(fields.leadIds.filter((id) => !found.has(id)))];
      // Nothing is enrolled when one id is wrong: another tenant's lead and no lead read the same.
      if (missing.length > 0) throw notFound(missing.length === 1 ? 'Lead' : 'Leads', missing.join(', '));
      leads = fields.leadIds.map((id) => found.get(id)!);
    } else {
      let listed: LeadRecord[] | null;
      try {
        listed = await this.upstream(() => this.options.crm.leadsOfList(token, fields.leadListId!, maximumLeadsPerEnrollment));
      } catch (error) {
        if (error instanceof LeadListsUnavailableError) throw badUserInput(`Lead lists cannot be enrolled here: ${error.message}.`, 'leadListId');
        throw error;
      }
      if (!listed) throw notFound('LeadList', fields.leadListId!);
      if (listed.length > maximumLeadsPerEnrollment) throw badUserInput(`The list has more than ${maximumLeadsPerEnrollment} leads; enrol them by id in parts.`, 'leadListId');
      leads = listed;
    }
    const iceBreakers = await this.options.enrichment.iceBreakers(token, [...new Set(leads.map((lead) => lead.id))]);

    const suppressed = await this.options.suppressions.findAll(context.em, leads.flatMap((lead) => (lead.email ? [lead.email] : [])));
    const open = await context.em.find(Conversation, { leadId: { $in: [...new Set(leads.map((lead) => lead.id))] }, state: { $in: [...openStates] } });
    const openByLead = new Map(open.map((conversation) => [conversation.leadId, conversation]));

    const skipped: SkippedLead[] = [];
    const chosen: LeadRecord[] = [];
    const seen = new Set<string>();
    for (const lead of leads) {
      const skip = (reason: SkipReason, detail: string) => skipped.push({ leadId: lead.id, email: lead.email, reason, detail });
      if (seen.has(lead.id)) skip(SkipReason.DUPLICATE, 'The lead was named more than once; it is enrolled once.');
      else if (!lead.email) skip(SkipReason.NO_EMAIL, 'The lead has no email address.');
      else if (suppressed.has(lead.email)) skip(SkipReason.SUPPRESSED, `${lead.email} is suppressed (${suppressed.get(lead.email)!.reason}).`);
      else if (openByLead.has(lead.id)) skip(SkipReason.ALREADY_IN_CONVERSATION, `The lead is already in conversation ${openByLead.get(lead.id)!.id} (${openByLead.get(lead.id)!.state}).`);
      else chosen.push(lead);
      seen.add(lead.id);
    }

    const tenantId = context.caller.tenantId;
    const sequence = campaign.sequence;
    try {
      return await context.em.transactional(async (transaction) => {
        const booking = await lockMailboxForBooking(transaction, mailbox.id);
        if (!booking) throw notFound('Mailbox', mailbox.id);
        const enrollment = transaction.create(Enrollment, {
          tenantId,
          campaignId: campaign.id,
          mailboxId: mailbox.id,
          requireApproval: fields.requireApproval,
          requested: fields.leadIds ? requested.length : leads.length,
          enrolled: chosen.length,
          skipped,
          grounding: campaign.grounding,
        });
        const conversations: Conversation[] = [];
        const rendered: { conversation: Conversation; lead: LeadRecord; values: MergeValues }[] = [];
        const now = new Date();
        for (const lead of chosen) {
          const values: MergeValues = { firstName: lead.firstName, lastName: lead.lastName, company: lead.companyName, title: lead.title, senderName: booking.mailbox.displayName, iceBreaker: iceBreakers.get(lead.id) ?? null };
          const conversation = transaction.create(Conversation, {
            tenantId,
            subject: renderForLead(sequence[0]!.subject, values).slice(0, 300),
            state: ConversationState.INITIAL_OUTREACH,
            leadId: lead.id,
            campaignId: campaign.id,
            mailboxId: mailbox.id,
            enrollmentId: enrollment.id,
            leadEmail: lead.email,
            leadFirstName: lead.firstName,
            leadLastName: lead.lastName,
            leadCompany: lead.companyName,
            requireApproval: fields.requireApproval,
          });
          conversations.push(conversation);
          rendered.push({ conversation, lead, values });
        }
        // Messages name their conversation by id only: the conversations are written first.
        await transaction.flush();
        for (const { conversation, lead, values } of rendered) {
          const firstSubject = conversation.subject;
          // Every step's Message-ID is fixed now, so each follow-up names the ones before it and
          // threads under the first in the lead's inbox.
          const chain: string[] = [];
          for (const [index, step] of sequence.entries()) {
            const messageIdHeader = newMessageId(mailbox.address);
            const message = transaction.create(Message, {
              tenantId,
              conversationId: conversation.id,
              mailboxId: mailbox.id,
              direction: MessageDirection.OUTBOUND,
              kind: MessageKind.SEQUENCE_STEP,
              status: MessageStatus.QUEUED,
              step: index + 1,
              delayDays: step.delayDays,
              subject: index === 0 ? firstSubject : `Re: ${firstSubject}`,
              body: renderForLead(step.body, values, { placeIceBreaker: index === 0 }),
              messageIdHeader,
              inReplyTo: chain.at(-1) ?? null,
              referenceIds: [...chain],
              fromAddress: mailbox.address,
              toAddress: lead.email,
            });
            chain.push(messageIdHeader);
            if (index === 0) await bookSend(transaction, booking.planner, message, new Date(now.getTime() + step.delayDays * 86_400_000));
          }
        }
        await transaction.flush();
        context.logger.info({ enrollmentId: enrollment.id, campaignId: campaign.id, mailboxId: mailbox.id, enrolled: chosen.length, skipped: skipped.length }, 'leads enrolled');
        return { enrollment, conversations };
      });
    } catch (error) {
      // Another enrolment took one of these leads between the check and the commit: nothing was written.
      if (error instanceof UniqueConstraintViolationException && /conversation_one_open_per_lead/.test(error.message)) {
        throw conflict('Another enrolment took one of these leads at the same moment; nothing was enrolled. Send the request again: leads already enrolled will be skipped.');
      }
      throw error;
    }
  }

  async list(context: ConversationContext, campaignId: string | null, first: number): Promise<Enrollment[]> {
    if (!Number.isInteger(first) || first < 1 || first > 100) throw badUserInput('`first` must be between 1 and 100.', 'first');
    if (campaignId !== null && !isUuid(campaignId)) return [];
    return context.em.find(Enrollment, campaignId ? { campaignId: campaignId.toLowerCase() } : {}, { orderBy: { createdAt: 'desc', id: 'desc' }, limit: first });
  }

  toType(enrollment: Enrollment): EnrollmentType {
    return {
      id: enrollment.id,
      campaign: { id: enrollment.campaignId },
      mailboxId: enrollment.mailboxId,
      requireApproval: enrollment.requireApproval,
      requested: enrollment.requested,
      enrolled: enrollment.enrolled,
      skipped: enrollment.skipped.map((skip) => ({ lead: { id: skip.leadId }, email: skip.email, reason: skip.reason as SkipReason, detail: skip.detail })),
      createdAt: enrollment.createdAt,
    };
  }

  /** Runs a call to another service; its failure is UPSTREAM_UNAVAILABLE, naming the service. */
  private async upstream<Result>(call: () => Promise<Result>): Promise<Result> {
    try {
      return await call();
    } catch (error) {
      if (error instanceof UpstreamError) throw upstreamUnavailable(`${error.service} could not answer; try again shortly.`, { service: error.service });
      throw error;
    }
  }
}
