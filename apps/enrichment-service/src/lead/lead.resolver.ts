import type { SubgraphContext } from '@gtm/runtime';
import { Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import { EnrichmentRecordType, QualificationType } from '../enrichment-record/enrichment-record.type.js';
import type { EnrichmentLoaders } from '../loaders.js';
import { LeadReference } from './lead.type.js';

@Resolver(() => LeadReference)
export class LeadEnrichmentResolver {
  @FieldResolver(() => EnrichmentRecordType, { nullable: true, description: 'The latest enrichment of this lead (by a job over a lead list), or null.' })
  enrichment(@Root() lead: LeadReference, @Ctx() context: SubgraphContext<EnrichmentLoaders>) {
    return context.loaders.latestRecordByLead.load(lead.id);
  }

  @FieldResolver(() => QualificationType, { nullable: true, description: 'The latest qualification of this lead, or null.' })
  async qualification(@Root() lead: LeadReference, @Ctx() context: SubgraphContext<EnrichmentLoaders>) {
    return (await context.loaders.latestRecordByLead.load(lead.id))?.qualification ?? null;
  }
}
