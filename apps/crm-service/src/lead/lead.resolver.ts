import { ConnectionArgs, type SubgraphContext } from '@gtm/runtime';
import { Arg, Args, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import { CompanyType } from '../company/company.type.js';
import type { CrmLoaders } from '../loaders.js';
import type { Lead } from './lead.entity.js';
import { CreateLeadInput, LeadFilter, UpdateLeadInput } from './lead.input.js';
import type { LeadService } from './lead.service.js';
import { CustomFieldType, LeadConnection, LeadType } from './lead.type.js';

type CrmContext = SubgraphContext<CrmLoaders>;

@Resolver(() => LeadType)
export class LeadResolver {
  constructor(private readonly leadService: LeadService) {}

  @Query(() => LeadType, { nullable: true, description: 'A lead of your tenant, or null.' })
  lead(@Arg('id', () => ID) id: string, @Ctx() context: CrmContext) {
    return this.leadService.get(context, id);
  }

  @Query(() => LeadConnection, { description: 'Leads, newest first.' })
  leads(@Args(() => ConnectionArgs) args: ConnectionArgs, @Arg('filter', () => LeadFilter, { nullable: true }) filter: LeadFilter | undefined, @Ctx() context: CrmContext) {
    return this.leadService.list(context, filter, args);
  }

  @Mutation(() => LeadType)
  createLead(@Arg('input', () => CreateLeadInput) input: CreateLeadInput, @Ctx() context: CrmContext) {
    return this.leadService.create(context, input);
  }

  @Mutation(() => LeadType)
  updateLead(@Arg('id', () => ID) id: string, @Arg('input', () => UpdateLeadInput) input: UpdateLeadInput, @Ctx() context: CrmContext) {
    return this.leadService.update(context, id, input);
  }

  @Mutation(() => ID, { description: 'Deletes a lead of your tenant and returns its id; NOT_FOUND when there is none.' })
  deleteLead(@Arg('id', () => ID) id: string, @Ctx() context: CrmContext) {
    return this.leadService.delete(context, id);
  }

  @FieldResolver(() => [CustomFieldType], { description: "Values of the lead's imported columns that map to none of its fields, by column header." })
  customFields(@Root() lead: Lead): CustomFieldType[] {
    return Object.entries(lead.customFields).map(([name, value]) => ({ name, value }));
  }

  @FieldResolver(() => CompanyType, { nullable: true, description: 'The company the lead works for.' })
  company(@Root() lead: Lead, @Ctx() context: CrmContext) {
    return lead.company ? context.loaders.companyById.load(lead.company.id) : null;
  }
}
