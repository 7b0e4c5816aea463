import { ConnectionArgs, type SubgraphContext } from '@gtm/runtime';
import { Arg, Args, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { LeadConnection } from '../lead/lead.type.js';
import type { CrmLoaders } from '../loaders.js';
import type { LeadList } from './lead-list.entity.js';
import type { LeadListService } from './lead-list.service.js';
import { ExportFormat, LeadListConnection, LeadListType } from './lead-list.type.js';

type CrmContext = SubgraphContext<CrmLoaders>;

@Resolver(() => LeadListType)
export class LeadListResolver {
  constructor(private readonly lists: LeadListService) {}

  @Query(() => LeadListConnection, { description: 'Lead lists, newest first.' })
  leadLists(@Args(() => ConnectionArgs) args: ConnectionArgs, @Ctx() context: CrmContext) {
    return this.lists.list(context, args);
  }

  @Query(() => LeadListType, { nullable: true, description: 'A lead list of your tenant, or null.' })
  leadList(@Arg('id', () => ID) id: string, @Ctx() context: CrmContext) {
    return this.lists.get(context, id);
  }

  @Mutation(() => LeadListType, { description: 'Makes an empty list; add leads with addLeadsToList.' })
  createLeadList(@Arg('name') name: string, @Ctx() context: CrmContext) {
    return this.lists.create(context, name);
  }

  @Mutation(() => LeadListType, { description: 'Adds leads of your tenant to one of its lists (1 to 1,000 at a time); leads already in it stay where they are.' })
  addLeadsToList(@Arg('listId', () => ID) listId: string, @Arg('leadIds', () => [ID]) leadIds: string[], @Ctx() context: CrmContext) {
    return this.lists.addLeads(context, listId, leadIds);
  }

  @FieldResolver(() => Int)
  leadCount(@Root() list: LeadList, @Ctx() context: CrmContext) {
    return this.lists.leadCount(context, list);
  }

  @FieldResolver(() => LeadConnection, { description: 'The leads, in list order (the file’s).' })
  leads(
    @Root() list: LeadList,
    @Arg('first', () => Int, { nullable: true, description: 'Default 20, at most 100.' }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Ctx() context: CrmContext,
  ) {
    return this.lists.leads(context, list, first, after);
  }

  @FieldResolver(() => String, { description: 'A link (GET, 1 hour) to the list as CSV: the file’s own columns, then the normalised fields.' })
  downloadUrl(@Root() list: LeadList, @Arg('format', () => ExportFormat, { defaultValue: ExportFormat.CSV }) _format: ExportFormat, @Ctx() context: CrmContext) {
    return this.lists.downloadUrl(context, list);
  }
}
