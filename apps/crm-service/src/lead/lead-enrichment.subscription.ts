import { enrichmentRecordCompleted, leadUpdated, publishEvent, subscribe, type EventData } from '@gtm/events';
import { Company } from '../company/company.entity.js';
import { Lead } from './lead.entity.js';
import { changedLeadFields, leadSnapshotOf } from './lead.events.js';

type Enrichment = EventData<typeof enrichmentRecordCompleted>;

const same = (left: string | null | undefined, right: string | null | undefined) => Boolean(left && right && left.trim().toLowerCase() === right.trim().toLowerCase());

/** Whether the contact enrichment found is the lead's own person: the same email, or the same full name. */
export function contactIsLead(lead: Pick<Lead, 'email' | 'firstName' | 'lastName'>, contact: Enrichment['contact'] | undefined): boolean {
  if (!contact) return false;
  if (same(lead.email, contact.email)) return true;
  const fullName = [lead.firstName, lead.lastName].filter(Boolean).join(' ');
  return same(fullName.replace(/\s+/g, ' '), contact.name.replace(/\s+/g, ' '));
}

/**
 * What enrichment found about a lead (enrichment-service publishes `enrichment.record_completed`
 * for the records of a lead list job) fills what the lead leaves empty: its company's domain and
 * website (a company is found by domain, or created, when the lead has none), and its title and
 * phone when one of the contacts found (the best-ranked three) is the lead's own person. Nothing the lead already says is
 * overwritten, so the same event handled twice (or a later, different job) changes nothing more;
 * a change is published as `lead.updated`, so connected CRMs hear of it. Lead.qualification is
 * enrichment-service's own field and is not copied.
 */
export const leadEnrichmentSubscription = subscribe(enrichmentRecordCompleted, async (event, { em, logger }) => {
  const lead = await em.findOne(Lead, { id: event.entity.id }, { populate: ['company'] });
  if (!lead) return;
  const before = leadSnapshotOf(lead);
  const { domain, website, companyName, contact } = event.data;
  const companyChanged: string[] = [];
  if (domain) {
    if (!lead.company) {
      lead.company = (await em.findOne(Company, { domain })) ?? em.create(Company, { name: companyName ?? domain, domain, websiteUrl: website, tenantId: event.tenantId });
      companyChanged.push('company');
    } else {
      if (!lead.company.domain) {
        lead.company.domain = domain;
        companyChanged.push('domain');
      }
      if (!lead.company.websiteUrl && website) {
        lead.company.websiteUrl = website;
        companyChanged.push('website');
      }
    }
  }
  // The lead's own person may be any of the ranked contacts (the general manager, not the owner).
  const own = (event.data.contacts ?? [contact]).find((candidate) => contactIsLead(lead, candidate));
  if (own) {
    if (!lead.title && own.title) lead.title = own.title;
    if (!lead.phone && own.phone) lead.phone = own.phone;
  }
  await em.flush();
  const changed = changedLeadFields(before, leadSnapshotOf(lead));
  if (changed.length > 0) await publishEvent(em, leadUpdated, { entityId: lead.id, data: { lead: leadSnapshotOf(lead), changed }, requestId: event.requestId });
  if (changed.length > 0 || companyChanged.length > 0) logger.info({ leadId: lead.id, changed, companyChanged, jobId: event.data.jobId }, 'lead filled from its enrichment');
});
