import { notFound, upstreamUnavailable, UpstreamError, type GraphQLUpstream, type SubgraphContext } from '@gtm/runtime';
import { z } from 'zod';
import type { NewRecord } from '../enrichment-record/record-insert.js';

/** Leads asked of crm-service per call: the most its connections give (`maximumPageSize`). */
const leadPageSize = 100;

/** The columns of a lead list job's records (what each lead gave), in export order. */
export const leadColumns = ['leadId', 'firstName', 'lastName', 'title', 'email', 'phone', 'companyName', 'domain', 'website'];

/** A lead list that is not the caller's (another tenant's, or none): NOT_FOUND, the same for both. */
export function leadListNotFound(id: string) {
  return notFound('LeadList', id.slice(0, 64));
}

// The contract with crm-service: a LeadList entity by reference, how many leads it has, and its
// leads a page at a time (its Company names the home page `websiteUrl`).
const listQuery = `query LeadListSize($representations: [_Any!]!) {
  _entities(representations: $representations) { ... on LeadList { id leadCount } }
}`;
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
const listSchema = z.object({ _entities: z.array(z.object({ id: z.string(), leadCount: z.number().int().min(0) }).nullable()) });
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

/** One page of a list's leads as records, and where the next page starts. */
export interface LeadPage {
  records: NewRecord[];
  /** crm-service's cursor after this page; null when the list was empty. */
  endCursor: string | null;
  hasNextPage: boolean;
}

/** crm-service could not be asked, or answered nonsense: worth asking again later. */
export class LeadListUnavailableError extends Error {
  override readonly name = 'LeadListUnavailableError';
}

/**
 * A lead list of crm-service, by entity reference, always with a caller's token (so crm-service
 * applies the caller's tenant: another tenant's list answers null, as a missing one does). The
 * mutation only checks that the list is the caller's and how many leads it has (one call); the job
 * reads the leads a page at a time with the delegated token (decision 0077).
 */
export class LeadListSource {
  constructor(private readonly crm: GraphQLUpstream) {}

  /** How many leads the caller's list has; NOT_FOUND when it is not the caller's, UPSTREAM_UNAVAILABLE when crm-service cannot say. */
  async leadCount(context: Pick<SubgraphContext, 'callerToken' | 'logger'>, leadListId: string): Promise<number> {
    const unavailable = (reason: string) => {
      context.logger.warn({ reason, leadListId }, 'crm-service could not be asked for a lead list');
      return upstreamUnavailable('The CRM service is unavailable right now, so the lead list could not be read; nothing was created. Try again shortly.', { service: 'crm' });
    };
    let answer: Awaited<ReturnType<GraphQLUpstream['post']>>;
    try {
      answer = await this.crm.post(context.callerToken, listQuery, { representations: [{ __typename: 'LeadList', id: leadListId }] });
    } catch (error) {
      if (error instanceof UpstreamError) throw unavailable(error.message);
      throw error;
    }
    const parsed = listSchema.safeParse(answer.data);
    if (!parsed.success) throw unavailable(answer.errors?.[0]?.message ?? 'an answer without the lead list');
    const list = parsed.data['_entities'][0];
    // A null beside errors is crm-service failing, not the list missing.
    if (!list && answer.errors?.length) throw unavailable(answer.errors[0]!.message);
    if (!list) throw leadListNotFound(leadListId);
    return list.leadCount;
  }

  /**
   * The page of the list's leads after `after`, numbered from `position`; null when the list is
   * no longer the caller's (deleted since). Throws `LeadListUnavailableError` when crm-service
   * cannot answer.
   */
  async page(callerToken: string, leadListId: string, after: string | null, position: number): Promise<LeadPage | null> {
    let answer: Awaited<ReturnType<GraphQLUpstream['post']>>;
    try {
      answer = await this.crm.post(callerToken, leadsQuery, { representations: [{ __typename: 'LeadList', id: leadListId }], first: leadPageSize, after });
    } catch (error) {
      if (error instanceof UpstreamError) throw new LeadListUnavailableError(error.message, { cause: error });
      throw error;
    }
    const parsed = pageSchema.safeParse(answer.data);
    if (!parsed.success) throw new LeadListUnavailableError(`crm-service answered without the lead list: ${answer.errors?.[0]?.message ?? 'no data'}`);
    const list = parsed.data['_entities'][0];
    if (!list && answer.errors?.length) throw new LeadListUnavailableError(`crm-service failed: ${answer.errors[0]!.message}`);
    if (!list) return null;
    return {
      records: list.leads.edges.map((edge, index) => recordOfLead(position + index, edge.node)),
      endCursor: list.leads.pageInfo.endCursor ?? null,
      hasNextPage: list.leads.pageInfo.hasNextPage && Boolean(list.leads.pageInfo.endCursor),
    };
  }
}
