import { ConnectionArgs, type SubgraphContext } from '@gtm/runtime';
import { Arg, Args, Ctx, ID, Mutation, Query, Resolver } from 'type-graphql';
import type { CrmLoaders } from '../loaders.js';
import { CompanyFilter, CreateCompanyInput, UpdateCompanyInput } from './company.input.js';
import type { CompanyService } from './company.service.js';
import { CompanyConnection, CompanyType } from './company.type.js';

type CrmContext = SubgraphContext<CrmLoaders>;

@Resolver(() => CompanyType)
export class CompanyResolver {
  constructor(private readonly companyService: CompanyService) {}

  @Query(() => CompanyType, { nullable: true, description: 'A company of your tenant, or null.' })
  company(@Arg('id', () => ID) id: string, @Ctx() context: CrmContext) {
    return this.companyService.get(context, id);
  }

  @Query(() => CompanyConnection, { description: 'Companies, newest first.' })
  companies(@Args(() => ConnectionArgs) args: ConnectionArgs, @Arg('filter', () => CompanyFilter, { nullable: true }) filter: CompanyFilter | undefined, @Ctx() context: CrmContext) {
    return this.companyService.list(context, filter, args);
  }

  @Mutation(() => CompanyType)
  createCompany(@Arg('input', () => CreateCompanyInput) input: CreateCompanyInput, @Ctx() context: CrmContext) {
    return this.companyService.create(context, input);
  }

  @Mutation(() => CompanyType)
  updateCompany(@Arg('id', () => ID) id: string, @Arg('input', () => UpdateCompanyInput) input: UpdateCompanyInput, @Ctx() context: CrmContext) {
    return this.companyService.update(context, id, input);
  }
}
