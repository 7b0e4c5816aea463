import { UniqueConstraintViolationException, type FilterQuery } from '@mikro-orm/core';
import { badUserInput, containsPattern, definedFields, domainOf, normalizeWebsiteUrl, notFound, optionalText, paginate, parseInput, type ConnectionArgs, type SubgraphContext } from '@gtm/runtime';
import { z } from 'zod';
import type { CrmLoaders } from '../loaders.js';
import { Company } from './company.entity.js';
import type { CompanyFilter, CreateCompanyInput, UpdateCompanyInput } from './company.input.js';

type CrmContext = SubgraphContext<CrmLoaders>;

const companyFieldsSchema = z.object({
  name: z.string().trim().min(1, 'must not be empty').max(300),
  websiteUrl: z.string().max(2048).nullish(),
  domain: z.string().trim().toLowerCase().max(253).regex(/^[a-z0-9.-]+\.[a-z]{2,}$/, 'must be a host name such as example.com').nullish(),
  industry: optionalText(200),
  employeeCount: z.number().int().min(0).max(10_000_000).nullish(),
  phone: optionalText(50),
  city: optionalText(200),
  region: optionalText(200),
  country: optionalText(100),
  description: optionalText(5_000),
});

export class CompanyService {
  async get(context: CrmContext, id: string): Promise<Company | null> {
    return context.loaders.companyById.load(id);
  }

  async list(context: CrmContext, filter: CompanyFilter | undefined, args: ConnectionArgs) {
    const where: FilterQuery<Company>[] = [];
    if (filter?.industry) where.push({ industry: { $ilike: filter.industry } });
    if (filter?.domain) where.push({ domain: filter.domain.trim().toLowerCase().replace(/^www\./, '') });
    if (filter?.search?.trim()) {
      const pattern = containsPattern(filter.search.trim());
      where.push({ $or: [{ name: { $ilike: pattern } }, { domain: { $ilike: pattern } }, { industry: { $ilike: pattern } }] });
    }
    return paginate(context.em, Company, where.length > 0 ? { $and: where } : {}, args);
  }

  async create(context: CrmContext, input: CreateCompanyInput): Promise<Company> {
    const fields = parseInput(companyFieldsSchema, input);
    const websiteUrl = fields.websiteUrl ? normalizeWebsiteUrl(fields.websiteUrl) : null;
    const company = context.em.create(Company, {
      ...fields,
      tenantId: context.caller.tenantId,
      websiteUrl,
      domain: fields.domain ?? (websiteUrl ? domainOf(websiteUrl) : null),
    });
    await this.flushUnique(context, company);
    return company;
  }

  async update(context: CrmContext, id: string, input: UpdateCompanyInput): Promise<Company> {
    const company = await this.get(context, id);
    if (!company) throw notFound('Company', id);
    const changes = parseInput(companyFieldsSchema.partial(), definedFields(input));
    if ('name' in changes && !changes.name) throw badUserInput('name must not be empty.', 'name');
    const { websiteUrl, ...rest } = changes;
    context.em.assign(company, rest);
    if (websiteUrl !== undefined) {
      company.websiteUrl = websiteUrl ? normalizeWebsiteUrl(websiteUrl) : null;
      if (changes.domain === undefined) company.domain = company.websiteUrl ? domainOf(company.websiteUrl) : null;
    }
    await this.flushUnique(context, company);
    return company;
  }

  /** Saves, turning the per-tenant unique domain into an error that names the existing company. */
  private async flushUnique(context: CrmContext, company: Company): Promise<void> {
    try {
      await context.em.persist(company).flush();
    } catch (error) {
      if (!(error instanceof UniqueConstraintViolationException)) throw error;
      context.em.clear();
      const existing = await context.em.findOne(Company, { domain: company.domain });
      throw badUserInput(`A company with domain ${company.domain} already exists${existing ? ` (id ${existing.id})` : ''}; update that one instead.`, 'domain');
    }
  }
}
