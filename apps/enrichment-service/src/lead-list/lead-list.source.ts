import { notFound, upstreamUnavailable, UpstreamError, type EntityManager, type GraphQLUpstream, type SubgraphContext } from '@gtm/runtime';
import { z } from 'zod';
import type { EnrichmentJob } from '../enrichment-job/enrichment-job.entity.js';
import { insertRecords, type NewRecord } from '../enrichment-record/record-insert.js';

/** Leads asked of crm-service per call: the most its connections give (`maximumPageSize`). */
const leadPageSize = 100;

/** The columns of a lead list job's records (what each lead gave), in export order. */
export const leadColumns = ['leadId', 'firstName', 'lastName', 'title', 'email', 'phone', 'companyName', 'domain', 'website'];

/** A lead list that is not the caller's (another tenant's, or none): NOT_FOUND, the same for both. */
export function leadListNotFound(id: string) {
  return notFound('LeadList', id.slice(0, 64));
}

// The contract with crm-service: a LeadList entity by reference, its leads a page at a time (its
// Company names the home page `websiteUrl`).
const leadsQuery = `query LeadListLeads($representations: [_Any!]!, $first: Int!, $after: String) {
  _entities(representations: $representations) {
    ... on LeadList { leads(first: $first, after: $after) { edges { node { id email firstName lastName title phone company { name domain websiteUrl } } } pageInfo { hasNextPage endCursor } } }
  }
}`;

const text = z.string().nullish().transform((value) => value?.trim() || null);
const leadSchema = z.object({
  id: z.string(),
  email: text,
  firstName: text,
  lastName: text,
  title: text,
  phone: text,
  company: z.object({ name: text, domain: text, websiteUrl: text }).nullish(),
});
const pageSchema = z.object({
  _entities: z.array(
    z
      .object({
        leads: z.object({ edges: z.array(z.object({ node: leadSchema })), pageInfo: z.object({ hasNextPage: z.boolean(), endCursor: z.string().nullish() }) }),
      })
      .nullable(),
  ),
});

type Lead = z.infer<typeof leadSchema>;

function recordOfLead(position: number, lead: Lead): NewRecord {
  const name = [lead.firstName, lead.lastName].filter(Boolean).join(' ') || null;
  const input = {
    leadId: lead.id,
    firstName: lead.firstName,
    lastName: lead.lastName,
    title: lead.title,
    email: lead.email,
    phone: lead.phone,
    companyName: lead.company?.name ?? null,
    domain: lead.company?.domain ?? null,
    website: lead.company?.websiteUrl ?? null,
  };
  return {
    position,
    input: Object.fromEntries(Object.entries(input).filter(([, value]) => value !== null)),
    email: lead.email,
    companyName: lead.company?.name ?? null,
    website: lead.company?.websiteUrl ?? lead.company?.domain ?? null,
    phone: lead.phone,
    address: null,
    city: null,
    region: null,
    postalCode: null,
    country: null,
    givenContact: name ? { name, title: lead.title, email: lead.email, phone: lead.phone } : null,
    leadId: lead.id,
  };
}

/**
 * A lead list's leads, read from crm-service by entity reference with the caller's own token (so
 * crm-service applies the caller's tenant: another tenant's list answers null, as a missing one
 * does), a page at a time, each page written as records at once.
 */
export class LeadListSource {
  constructor(private readonly crm: GraphQLUpstream) {}

  /** Copies the list's leads into the job's records, on the job's transaction; returns how many. */
  async copyLeads(context: Pick<SubgraphContext, 'callerToken' | 'caller' | 'logger'>, em: EntityManager, job: EnrichmentJob, leadListId: string): Promise<number> {
    let after: string | null = null;
    let position = 0;
    for (;;) {
      const page = await this.page(context, leadListId, after);
      const list = page['_entities'][0];
      if (!list) throw leadListNotFound(leadListId);
      await insertRecords(
        em,
        context.caller.tenantId,
        job.id,
        list.leads.edges.map((edge) => recordOfLead(position++, edge.node)),
      );
      if (!list.leads.pageInfo.hasNextPage || !list.leads.pageInfo.endCursor) break;
      after = list.leads.pageInfo.endCursor;
    }
    job.columns = leadColumns;
    return position;
  }

  private async page(context: Pick<SubgraphContext, 'callerToken' | 'logger'>, leadListId: string, after: string | null): Promise<z.infer<typeof pageSchema>> {
    const unavailable = (reason: string) => {
      context.logger.warn({ reason, leadListId }, 'crm-service could not be asked for a lead list');
      return upstreamUnavailable('The CRM service is unavailable right now, so the lead list could not be read; nothing was created. Try again shortly.', { service: 'crm' });
    };
    try {
      const answer = await this.crm.post(context.callerToken, leadsQuery, { representations: [{ __typename: 'LeadList', id: leadListId }], first: leadPageSize, after });
      const parsed = pageSchema.safeParse(answer.data);
      if (!parsed.success) throw unavailable(answer.errors?.[0]?.message ?? 'an answer without the lead list');
      // A null beside errors is crm-service failing, not the list missing.
      if (!parsed.data['_entities'][0] && answer.errors?.length) throw unavailable(answer.errors[0]!.message);
      return parsed.data;
    } catch (error) {
      if (error instanceof UpstreamError) throw unavailable(error.message);
      throw error;
    }
  }
}
