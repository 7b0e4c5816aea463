import { enrichmentRecordCompleted, leadUpdated, publishEvents, subscribeBatch, type DomainEvent, type EventData, type LeadSnapshot, type PublishInput } from '@gtm/events';
import { Company } from '../company/company.entity.js';
import { Lead } from './lead.entity.js';
import { changedLeadFields, leadSnapshotOf } from './lead.events.js';

type Enrichment = EventData<typeof enrichmentRecordCompleted>;
type EnrichmentEvent = DomainEvent<Enrichment>;

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
 *
 * A job's records complete by the hundred, so events come in batches (one per tenant, one event
 * per lead): the leads and the companies of their domains are read in one query each, written in
 * one flush, and the changes published in one statement. Leads of one batch with the same new
 * domain share the one company made for it.
 */
export const leadEnrichmentSubscription = subscribeBatch(enrichmentRecordCompleted, async (events, { em, logger }) => {
  const leads = new Map((await em.find(Lead, { id: { $in: events.map((event) => event.entity.id) } }, { populate: ['company'] })).map((lead) => [lead.id, lead]));
  const wantedDomains = [...new Set(events.filter((event) => event.data.domain && leads.get(event.entity.id) && !leads.get(event.entity.id)!.company).map((event) => event.data.domain!))];
  const companies = new Map<string, Company>();
  if (wantedDomains.length > 0) for (const company of await em.find(Company, { domain: { $in: wantedDomains } })) companies.set(company.domain!, company);
  const filled: Array<{ event: EnrichmentEvent; lead: Lead; before: LeadSnapshot; companyChanged: string[] }> = [];
  for (const event of events) {
    const lead = leads.get(event.entity.id);
    if (!lead) continue;
    const before = leadSnapshotOf(lead);
    const { domain, website, companyName, contact } = event.data;
    const companyChanged: string[] = [];
    if (domain) {
      if (!lead.company) {
        let company = companies.get(domain);
        if (!company) {
          company = em.create(Company, { name: companyName ?? domain, domain, websiteUrl: website, tenantId: event.tenantId });
          companies.set(domain, company);
        }
        lead.company = company;
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
    filled.push({ event, lead, before, companyChanged });
  }
  await em.flush();
  const updates: Array<PublishInput<typeof leadUpdated>> = [];
  for (const { event, lead, before, companyChanged } of filled) {
    const changed = changedLeadFields(before, leadSnapshotOf(lead));
    if (changed.length > 0) updates.push({ entityId: lead.id, data: { lead: leadSnapshotOf(lead), changed }, requestId: event.requestId });
    if (changed.length > 0 || companyChanged.length > 0) logger.info({ eventId: event.id, leadId: lead.id, changed, companyChanged, jobId: event.data.jobId }, 'lead filled from its enrichment');
  }
  await publishEvents(em, leadUpdated, updates);
});
