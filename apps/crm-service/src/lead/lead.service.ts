import { UniqueConstraintViolationException, raw, type FilterQuery } from '@mikro-orm/core';
import {
  type EntityManager,
  badUserInput,
  containsPattern,
  definedFields,
  isUuid,
  notFound,
  optionalText,
  paginate,
  parseInput,
  type ConnectionArgs,
  type SubgraphContext,
} from '@gtm/runtime';
import { leadCreated, leadDeleted, leadUpdated, publishEvent } from '@gtm/events';
import { z } from 'zod';
import { Company } from '../company/company.entity.js';
import type { CrmLoaders } from '../loaders.js';
import { leadEmailKey } from './lead-email-key.js';
import { Lead, LeadStatus } from './lead.entity.js';
import { changedLeadFields, leadSnapshotOf } from './lead.events.js';
import type { CreateLeadInput, LeadFilter, UpdateLeadInput } from './lead.input.js';

type CrmContext = SubgraphContext<CrmLoaders>;

const leadFieldsSchema = z.object({
  firstName: optionalText(200),
  lastName: optionalText(200),
  email: z
    .string()
    .trim()
    .toLowerCase()
    .pipe(z.email({ message: 'must be an email address such as ada@example.com' }))
    .nullish()
    .transform((value) => value ?? null),
  phone: optionalText(50),
  title: optionalText(300),
  companyId: z.string().nullish(),
  status: z.enum(LeadStatus).nullish(),
  source: z.string().trim().min(1).max(100).nullish(),
  notes: optionalText(10_000),
});

export class LeadService {
  async get(context: CrmContext, id: string): Promise<Lead | null> {
    return context.loaders.leadById.load(id);
  }

  async list(context: CrmContext, filter: LeadFilter | undefined, args: ConnectionArgs) {
    const where: FilterQuery<Lead>[] = [];
    if (filter?.status?.length) where.push({ status: { $in: filter.status } });
    if (filter?.source) where.push({ source: filter.source });
    if (filter?.companyId) {
      if (!isUuid(filter.companyId)) throw badUserInput('filter.companyId is not a company id.', 'filter.companyId');
      where.push({ company: filter.companyId });
    }
    if (filter?.search?.trim()) {
      const pattern = containsPattern(filter.search.trim());
      where.push({
        $or: [
          { firstName: { $ilike: pattern } },
          { lastName: { $ilike: pattern } },
          { email: { $ilike: pattern } },
          { title: { $ilike: pattern } },
          { company: { name: { $ilike: pattern } } },
        ],
      });
    }
    return paginate(context.em, Lead, where.length > 0 ? { $and: where } : {}, args);
  }

  async create(context: CrmContext, input: CreateLeadInput): Promise<Lead> {
    const fields = parseInput(leadFieldsSchema, input);
    if (!fields.firstName && !fields.lastName && !fields.email) {
      throw badUserInput('A lead needs at least a first name, a last name or an email.', 'email');
    }
    const { companyId, status, source, ...rest } = fields;
    const lead = context.em.create(Lead, {
      ...rest,
      tenantId: context.caller.tenantId,
      status: status ?? LeadStatus.NEW,
      source: source ?? 'manual',
      company: companyId ? await this.requireCompany(context, companyId) : null,
    });
    await this.saveUnique(context, lead, (transaction) =>
      publishEvent(transaction, leadCreated, { entityId: lead.id, data: { lead: leadSnapshotOf(lead) }, requestId: context.caller.requestId }),
    );
    return lead;
  }

  async update(context: CrmContext, id: string, input: UpdateLeadInput): Promise<Lead> {
    const lead = await this.get(context, id);
    if (!lead) throw notFound('Lead', id);
    const before = leadSnapshotOf(lead);
    const { companyId, status, ...rest } = parseInput(leadFieldsSchema.partial(), definedFields(input));
    context.em.assign(lead, rest);
    if (status) lead.status = status;
    if (companyId !== undefined) lead.company = companyId ? await this.requireCompany(context, companyId) : null;
    if (!lead.firstName && !lead.lastName && !lead.email) {
      throw badUserInput('A lead needs at least a first name, a last name or an email.', 'email');
    }
    await this.saveUnique(context, lead, async (transaction) => {
      const after = leadSnapshotOf(lead);
      const changed = changedLeadFields(before, after);
      // An update that changes nothing writes nothing, so it tells no one.
      if (changed.length > 0) await publishEvent(transaction, leadUpdated, { entityId: lead.id, data: { lead: after, changed }, requestId: context.caller.requestId });
    });
    return lead;
  }

  /** Deletes a lead of the caller's tenant and tells the services that keep something about it. */
  async delete(context: CrmContext, id: string): Promise<string> {
    const lead = await this.get(context, id);
    if (!lead) throw notFound('Lead', id);
    const last = leadSnapshotOf(lead);
    await context.em.transactional(async (transaction) => {
      transaction.remove(lead);
      await transaction.flush();
      await publishEvent(transaction, leadDeleted, { entityId: id, data: { lead: last }, requestId: context.caller.requestId });
    });
    return id;
  }

  private async requireCompany(context: CrmContext, companyId: string): Promise<Company> {
    const company = await context.loaders.companyById.load(companyId);
    if (!company) throw badUserInput(`Company ${companyId} was not found; create it first or leave companyId empty.`, 'companyId');
    return company;
  }

  /**
   * Saves and publishes in one transaction (the event is committed with the change or not at all),
   * turning the per-tenant unique email into an error that names the existing lead. `publish` runs
   * once the lead is written, so the event carries its stored timestamps.
   */
  private async saveUnique(context: CrmContext, lead: Lead, publish: (transaction: EntityManager) => Promise<unknown>): Promise<void> {
    try {
      await context.em.transactional(async (transaction) => {
        transaction.persist(lead);
        await transaction.flush();
        await publish(transaction);
      });
    } catch (error) {
      if (!(error instanceof UniqueConstraintViolationException)) throw error;
      context.em.clear();
      // Unique by the address's key: another spelling of the same Gmail mailbox is the same lead.
      const existing = lead.email ? await context.em.findOne(Lead, { [raw((alias) => `${alias}.email_key`)]: leadEmailKey(lead.email) }) : null;
      const spelling = existing?.email && existing.email !== lead.email ? ` as ${existing.email}, the same mailbox` : '';
      throw badUserInput(`A lead with email ${lead.email} already exists${spelling}${existing ? ` (id ${existing.id})` : ''}; update that one instead.`, 'email');
    }
  }
}
