import type { SubgraphContext } from '@gtm/runtime';
import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { LeadList } from '../lead-list/lead-list.entity.js';
import type { LeadListService } from '../lead-list/lead-list.service.js';
import { LeadListType } from '../lead-list/lead-list.type.js';
import type { CrmLoaders } from '../loaders.js';
import { ImportLeadsInput } from './lead-import.input.js';
import type { LeadImportService } from './lead-import.service.js';
import { ImportRowErrorType, LeadImportType } from './lead-import.type.js';

type CrmContext = SubgraphContext<CrmLoaders>;

@Resolver(() => LeadImportType)
export class LeadImportResolver {
  constructor(
    private readonly imports: LeadImportService,
    private readonly lists: LeadListService,
  ) {}

  @Mutation(() => LeadImportType, { description: 'Starts a CSV import of leads: PUT the file (text/csv) to the answer’s uploadUrl, then follow jobProgress(jobId: <its id>).' })
  async importLeads(@Arg('input', () => ImportLeadsInput) input: ImportLeadsInput, @Ctx() context: CrmContext) {
    return this.imports.view(context, await this.imports.start(context, input));
  }

  @Mutation(() => LeadImportType, { description: 'Stops an import that has not finished; nothing of it is kept.' })
  async cancelLeadImport(@Arg('id', () => ID) id: string, @Ctx() context: CrmContext) {
    return this.imports.view(context, await this.imports.cancel(context, id));
  }

  @Query(() => LeadImportType, { nullable: true, description: 'An import of your tenant, or null.' })
  async leadImport(@Arg('id', () => ID) id: string, @Ctx() context: CrmContext) {
    const found = await this.imports.get(context, id);
    return found ? this.imports.view(context, found) : null;
  }

  @FieldResolver(() => [ImportRowErrorType], { description: 'Rows refused, in file order.' })
  errors(@Root() leadImport: LeadImportType, @Arg('first', () => Int, { defaultValue: 20, description: 'At most 1,000.' }) first: number, @Ctx() context: CrmContext) {
    return this.imports.errors(context, leadImport.id, first);
  }

  @FieldResolver(() => LeadListType, { nullable: true, description: 'The list of the leads the import brought in, once it has succeeded.' })
  async list(@Root() leadImport: LeadImportType, @Ctx() context: CrmContext): Promise<LeadList | null> {
    const found = await this.imports.get(context, leadImport.id);
    return found?.listId ? this.lists.get(context, found.listId) : null;
  }
}
