import { z } from 'zod';
import { GraphQLUpstream, isUnknownField, UpstreamError } from '@gtm/runtime';

/** A lead as the conversation engine writes to it. */
export interface LeadRecord {
  id: string;
  firstName: string | null;
  lastName: string | null;
  email: string | null;
  title: string | null;
  companyName: string | null;
}

const leadSchema = z.object({
  id: z.string(),
  firstName: z.string().nullish(),
  lastName: z.string().nullish(),
  email: z.string().nullish(),
  title: z.string().nullish(),
  company: z.object({ name: z.string().nullish() }).nullish(),
});

const leadFields = 'id firstName lastName email title company { name }';

const toRecord = (lead: z.infer<typeof leadSchema>): LeadRecord => ({
  id: lead.id.toLowerCase(),
  firstName: lead.firstName?.trim() || null,
  lastName: lead.lastName?.trim() || null,
  email: lead.email?.trim().toLowerCase() || null,
  title: lead.title?.trim() || null,
  companyName: lead.company?.name?.trim() || null,
});

/** Lead lists are not (yet) served by this crm-service. */
export class LeadListsUnavailableError extends Error {
  override readonly name = 'LeadListsUnavailableError';
  readonly isRetryable = false;
}

const batchSize = 200;

/** crm-service's API as enrolment uses it: leads by id (entity references) and a list's leads. */
export class CrmClient {
  constructor(private readonly upstream: GraphQLUpstream) {}

  /**
   * The leads of these ids the caller may see, by id; an id of another tenant or of no lead is
   * absent, as crm-service's tenant-scoped reference resolver answers null for both.
   */
  async leadsById(callerToken: string | undefined, ids: readonly string[]): Promise<Map<string, LeadRecord>> {
    const found = new Map<string, LeadRecord>();
    for (let start = 0; start < ids.length; start += batchSize) {
      const representations = ids.slice(start, start + batchSize).map((id) => ({ __typename: 'Lead', id }));
      const answer = await this.upstream.post(callerToken, `query ConversationLeads($representations: [_Any!]!) { _entities(representations: $representations) { ... on Lead { ${leadFields} } } }`, { representations });
      if (answer.errors?.length) throw new UpstreamError('crm-service', `crm-service refused the lead lookup: ${answer.errors[0]!.message}`);
      const entities = z.array(leadSchema.nullable()).safeParse(answer.data?.['_entities']);
      if (!entities.success) throw new UpstreamError('crm-service', 'crm-service answered the lead lookup with something other than leads');
      for (const lead of entities.data) if (lead) found.set(lead.id.toLowerCase(), toRecord(lead));
    }
    return found;
  }

  /** Every lead of a list, page by page, up to `maximum`; null when the list is not the caller's. */
  async leadsOfList(callerToken: string | undefined, listId: string, maximum: number): Promise<LeadRecord[] | null> {
    const leads: LeadRecord[] = [];
    let after: string | null = null;
    for (;;) {
      const answer = await this.upstream.post(
        callerToken,
        `query ConversationLeadList($id: ID!, $after: String) { leadList(id: $id) { id leads(first: 100, after: $after) { edges { node { ${leadFields} } } pageInfo { hasNextPage endCursor } } } }`,
        { id: listId, after },
      );
      if (isUnknownField(answer)) throw new LeadListsUnavailableError('this deployment’s crm-service has no lead lists; enrol leads by id');
      if (answer.errors?.length) throw new UpstreamError('crm-service', `crm-service refused the lead list lookup: ${answer.errors[0]!.message}`);
      const list = z
        .object({ leads: z.object({ edges: z.array(z.object({ node: leadSchema })), pageInfo: z.object({ hasNextPage: z.boolean(), endCursor: z.string().nullish() }) }) })
        .nullable()
        .safeParse(answer.data?.['leadList']);
      if (!list.success) throw new UpstreamError('crm-service', 'crm-service answered the lead list lookup with something other than a list');
      if (!list.data) return null;
      leads.push(...list.data.leads.edges.map((edge) => toRecord(edge.node)));
      if (leads.length > maximum) return leads;
      if (!list.data.leads.pageInfo.hasNextPage || !list.data.leads.pageInfo.endCursor) return leads;
      after = list.data.leads.pageInfo.endCursor;
    }
  }
}
