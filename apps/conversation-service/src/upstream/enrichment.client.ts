import { z } from 'zod';
import { GraphQLUpstream, isUnknownField, type Logger } from '@gtm/runtime';

const batchSize = 200;

/**
 * enrichment-service's API as enrolment uses it: the ice-breaker written for a lead, when the lead
 * was enriched. Personalisation is a bonus: a deployment without it, a lead never enriched or an
 * enrichment service that is down all mean "no ice-breaker", never a failed enrolment.
 */
export class EnrichmentClient {
  constructor(
    private readonly upstream: GraphQLUpstream,
    private readonly logger: Logger,
  ) {}

  async iceBreakers(callerToken: string | undefined, leadIds: readonly string[]): Promise<Map<string, string>> {
    const found = new Map<string, string>();
    try {
      for (let start = 0; start < leadIds.length; start += batchSize) {
        const representations = leadIds.slice(start, start + batchSize).map((id) => ({ __typename: 'Lead', id }));
        const answer = await this.upstream.post(
          callerToken,
          `query ConversationIceBreakers($representations: [_Any!]!) { _entities(representations: $representations) { ... on Lead { id enrichment { personalization { iceBreaker } } } } }`,
          { representations },
        );
        if (isUnknownField(answer)) return found;
        const entities = z
          .array(z.object({ id: z.string(), enrichment: z.object({ personalization: z.object({ iceBreaker: z.string().nullish() }).nullish() }).nullish() }).nullable())
          .safeParse(answer.data?.['_entities']);
        if (!entities.success) return found;
        for (const lead of entities.data) {
          const iceBreaker = lead?.enrichment?.personalization?.iceBreaker?.trim();
          if (lead && iceBreaker) found.set(lead.id.toLowerCase(), iceBreaker);
        }
      }
    } catch (error) {
      this.logger.warn({ err: error }, 'could not read ice-breakers from enrichment-service; enrolling without them');
    }
    return found;
  }
}
