import { FieldResolver, Resolver, Root } from 'type-graphql';
import { LeadReference } from '../lead/lead.type.js';
import type { EnrichmentRecord } from './enrichment-record.entity.js';
import { EnrichmentRecordType } from './enrichment-record.type.js';

@Resolver(() => EnrichmentRecordType)
export class EnrichmentRecordResolver {
  @FieldResolver(() => LeadReference, { nullable: true, description: 'The lead this record enriches (crm-service’s), when the job ran over a lead list.' })
  lead(@Root() record: EnrichmentRecord): LeadReference | null {
    return record.leadId ? { id: record.leadId } : null;
  }
}
