import type { FilterQuery } from '@mikro-orm/core';
import type { CallerTokenVerifier } from '@gtm/caller';
import { leadFields } from '@gtm/csv';
import { downloadLink, uploadLink, type FileTickets } from '@gtm/files';
import { JobStatus, type JobQueue } from '@gtm/jobs';
import { badUserInput, isUuid, maximumPageSize, notFound, optionalText, paginate, parseInput, upstreamUnavailable, type Connection, type ConnectionArgs, type SubgraphContext } from '@gtm/runtime';
import type { SecretBox } from '@gtm/secrets';
import { z } from 'zod';
import type { CampaignClient } from '../campaign-context/campaign.client.js';
import type { CampaignTargeting } from '../campaign-context/campaign-targeting.js';
import { EnrichmentRecord, type EnrichmentRecordStatus } from '../enrichment-record/enrichment-record.entity.js';
import { allEnrichmentSteps, EnrichmentStep } from '../enrichment-record/enrichment-results.js';
import { enrichmentExportPurpose } from '../enrichment-file/enrichment-export.js';
import { enrichmentUploadPurpose } from '../enrichment-file/enrichment-upload.js';
import { isLeadField } from '../enrichment-file/file-columns.js';
import { insertRecords, recordInsertBatch, type NewRecord } from '../enrichment-record/record-insert.js';
import { leadColumns, leadListNotFound, type LeadListSource } from '../lead-list/lead-list.source.js';
import type { EnrichmentLoaders } from '../loaders.js';
import { EnrichmentJob, EnrichmentJobSource } from './enrichment-job.entity.js';
import type { CreateEnrichmentJobInput, EnrichmentJobFilter } from './enrichment-job.input.js';
import { delegatedTokenPurpose } from './enrichment-job.kind.js';

type EnrichmentContext = SubgraphContext<EnrichmentLoaders>;

const maximumRecords = 10_000;

const extraFieldsSchema = z
  .record(z.string().trim().min(1).max(200), z.union([z.string().max(5_000), z.number(), z.boolean(), z.null()]))
  .refine((fields) => Object.keys(fields).length <= 200, { message: 'may hold at most 200 columns' })
  .nullish();

const recordSchema = z
  .object({
    email: optionalText(320),
    companyName: optionalText(300),
    website: optionalText(2_000),
    phone: optionalText(64),
    address: optionalText(500),
    city: optionalText(200),
    state: optionalText(100),
    postalCode: optionalText(32),
    country: optionalText(100),
    contactName: optionalText(200),
    contactTitle: optionalText(200),
    fields: extraFieldsSchema,
  })
  // A row with only a company name is kept (and searched for): a list is rarely complete, and one
  // thin row must not refuse the rest. An empty row is a mistake.
  .refine((record) => record.email !== null || record.website !== null || record.companyName !== null, { message: 'is empty: give a website, an email or a company name' });

const stepOrder = (step: EnrichmentStep) => allEnrichmentSteps.indexOf(step);

const createEnrichmentJobSchema = z
  .object({
    name: z.string().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters'),
    total: z.number().int().min(0, 'must not be negative').max(1_000_000, 'must be at most 1,000,000').nullish(),
    records: z.array(recordSchema).min(1, 'must hold at least one record (or leave it out)').max(maximumRecords, `must hold at most ${maximumRecords.toLocaleString('en-US')} records`).nullish(),
    campaignId: z.string().nullish(),
    steps: z.array(z.enum(EnrichmentStep)).min(1, 'must name at least one step (or leave it out for all)').nullish(),
    budgetUsdPerRecord: z.number().min(0, 'must not be negative').max(10, 'must be at most 10 USD').nullish(),
    upload: z.boolean().nullish(),
    leadListId: z.string().nullish(),
    columnMapping: z
      .array(
        z.object({
          column: z.string().trim().min(1, 'must name a column').max(300),
          field: z
            .string()
            .nullish()
            .refine((field) => !field || isLeadField(field), { message: `must be one of ${leadFields.join(', ')}, or null` }),
        }),
      )
      .max(2_000)
      .nullish(),
  })
  .refine((input) => [input.records, input.upload, input.leadListId].filter(Boolean).length <= 1, { path: ['upload'], message: 'give only one of records, upload: true and leadListId' })
  .refine((input) => !input.columnMapping || input.upload, { path: ['columnMapping'], message: 'is only for an uploaded file (upload: true)' })
  .refine((input) => !input.records || input.total === null || input.total === undefined || input.total === input.records.length, {
    path: ['total'],
    message: 'must equal the number of records when both are given',
  })
  .refine((input) => input.records || input.upload || input.leadListId || (input.total !== null && input.total !== undefined), {
    path: ['total'],
    message: 'is required when no records, upload or leadListId are given',
  });

type RecordFields = z.infer<typeof recordSchema>;

/** The steps a job runs: those asked for, with what they need (an analysis for contacts and openers), in order. */
export function effectiveSteps(asked: readonly EnrichmentStep[] | null | undefined): EnrichmentStep[] {
  const steps = new Set(asked?.length ? asked : allEnrichmentSteps);
  if (steps.has(EnrichmentStep.CONTACTS) || steps.has(EnrichmentStep.PERSONALIZATION)) steps.add(EnrichmentStep.WEBSITE_ANALYSIS);
  return [...steps].toSorted((left, right) => stepOrder(left) - stepOrder(right));
}

/** The columns records given inline have, in order: the named fields first, then every other column. */
function inlineColumnsOf(records: readonly RecordFields[]): string[] {
  const columns = new Set<string>();
  for (const record of records) for (const key of Object.keys(inputOf(record))) columns.add(key);
  const named = Object.keys(recordSchema.shape).filter((key) => key !== 'fields' && columns.has(key));
  return [...named, ...[...columns].filter((key) => !named.includes(key))];
}

/** The row as given, verbatim: its named fields and any other columns, without the empty ones. */
function inputOf(record: RecordFields): Record<string, unknown> {
  const { fields, ...named } = record;
  const input: Record<string, unknown> = { ...fields };
  for (const [key, value] of Object.entries(named)) if (value !== null) input[key] = value;
  return input;
}

function newRecordOf(position: number, record: RecordFields): NewRecord {
  return {
    position,
    input: inputOf(record),
    email: record.email,
    companyName: record.companyName,
    website: record.website,
    phone: record.phone,
    address: record.address,
    city: record.city,
    region: record.state,
    postalCode: record.postalCode,
    country: record.country,
    givenContact: record.contactName ? { name: record.contactName, title: record.contactTitle, email: null, phone: null } : null,
  };
}

export interface EnrichmentJobServiceDependencies {
  jobs: JobQueue;
  campaigns: CampaignClient;
  secrets: SecretBox;
  /** Checks the delegated token the gateway sent before it is kept. */
  verifier: CallerTokenVerifier;
  /** Signs the upload and download links. */
  tickets: FileTickets;
  /** Reads a lead list's leads from crm-service. */
  leadLists: LeadListSource;
}

export class EnrichmentJobService {
  constructor(private readonly dependencies: EnrichmentJobServiceDependencies) {}

  async get(context: EnrichmentContext, id: string): Promise<EnrichmentJob | null> {
    return context.loaders.enrichmentJobById.load(id);
  }

  async list(context: EnrichmentContext, filter: EnrichmentJobFilter | undefined, args: ConnectionArgs) {
    const where: FilterQuery<EnrichmentJob> = filter?.status?.length ? { status: { $in: filter.status } } : {};
    return paginate(context.em, EnrichmentJob, where, args);
  }

  /**
   * A job with records is submitted: the job, its records and its worker task are committed
   * together; a lead list's job is submitted at once too, and reads the list as it runs. Without
   * records the job only records what is coming (`total`) and waits for them.
   * A campaign is read from campaign-service now, with the caller's token, and kept with the job.
   */
  async create(context: EnrichmentContext, input: CreateEnrichmentJobInput): Promise<EnrichmentJob> {
    const { name, total, records, campaignId, steps, budgetUsdPerRecord, upload, leadListId, columnMapping } = parseInput(createEnrichmentJobSchema, input);
    const tenantId = context.caller.tenantId;
    if (leadListId && !isUuid(leadListId)) throw leadListNotFound(leadListId);
    const campaign = campaignId ? await this.campaignOf(context, campaignId) : null;
    // Only the list's existence (the caller's own) and size are checked now: the job reads its leads (decision 0077).
    const listSize = leadListId ? await this.dependencies.leadLists.leadCount(context, leadListId) : null;
    if (listSize === 0) throw badUserInput(`Lead list ${leadListId} has no leads to enrich.`, 'leadListId', { reason: 'EMPTY_LEAD_LIST' });
    const delegatedToken = await this.delegatedTokenOf(context);
    const source = upload ? EnrichmentJobSource.UPLOAD : leadListId ? EnrichmentJobSource.LEAD_LIST : EnrichmentJobSource.RECORDS;
    const build = async (em: typeof context.em) => {
      const job = em.create(EnrichmentJob, {
        name,
        tenantId,
        total: records?.length ?? listSize ?? (upload ? 0 : (total ?? 0)),
        status: JobStatus.QUEUED,
        campaignId: campaign?.id ?? null,
        campaign,
        steps: effectiveSteps(steps),
        budgetUsdPerRecord: budgetUsdPerRecord ?? null,
        source,
        leadListId: leadListId ?? null,
        columnMapping: columnMapping?.map((entry) => ({ column: entry.column, field: entry.field ?? null })) ?? null,
        columns: records ? inlineColumnsOf(records) : leadListId ? leadColumns : null,
      });
      job.subjectType = 'EnrichmentJob';
      job.subjectId = job.id;
      job.delegatedCallerToken = delegatedToken ? this.dependencies.secrets.seal(delegatedToken, delegatedTokenPurpose(job.id)) : null;
      // The job first: records refer to it by a plain column, which the unit of work cannot order by.
      await em.persist(job).flush();
      if (records) {
        for (let start = 0; start < records.length; start += recordInsertBatch) {
          const batch = records.slice(start, start + recordInsertBatch).map((record, offset) => newRecordOf(start + offset, record));
          await insertRecords(em, tenantId, job.id, batch);
        }
      }
      return job;
    };
    if (records || leadListId) return this.dependencies.jobs.submit(context.em, build);
    const waiting = await build(context.em);
    await this.dependencies.jobs.publish(waiting);
    return waiting;
  }

  /** Where the file of a job created with `upload: true` goes, while the job waits for it; else null. */
  uploadUrl(context: EnrichmentContext, job: EnrichmentJob): string | null {
    if (job.source !== EnrichmentJobSource.UPLOAD || job.fileReceivedAt || job.status !== JobStatus.QUEUED) return null;
    return uploadLink(this.dependencies.tickets, context, { service: 'enrichment', purpose: enrichmentUploadPurpose, resourceId: job.id }).url;
  }

  /** The job's results as a file, once it has records (a running job's file holds what is done so far). */
  downloadUrl(context: EnrichmentContext, job: EnrichmentJob): string | null {
    if (job.source === EnrichmentJobSource.UPLOAD && !job.fileReceivedAt) return null;
    return downloadLink(this.dependencies.tickets, context, { service: 'enrichment', purpose: enrichmentExportPurpose, resourceId: job.id }).url;
  }

  async cancel(context: EnrichmentContext, id: string): Promise<EnrichmentJob> {
    const result = await this.dependencies.jobs.cancel(context.em, EnrichmentJob, id);
    if (!result) throw notFound('EnrichmentJob', id);
    if (!result.cancelled) {
      throw badUserInput(`Enrichment job ${id} already finished (${result.job.status}); only a QUEUED or RUNNING job can be cancelled.`, 'id');
    }
    return result.job;
  }

  /** A job's records in list order (keyset on position), optionally of some statuses only. */
  async records(context: EnrichmentContext, job: EnrichmentJob, args: ConnectionArgs, statuses: EnrichmentRecordStatus[] | null): Promise<Connection<EnrichmentRecord>> {
    if (!Number.isInteger(args.first) || args.first < 1 || args.first > maximumPageSize) {
      throw badUserInput(`\`first\` must be between 1 and ${maximumPageSize}; got ${args.first}.`, 'first');
    }
    const after = args.after ? decodeRecordCursor(args.after) : -1;
    const where: FilterQuery<EnrichmentRecord> = { jobId: job.id, position: { $gt: after }, ...(statuses?.length ? { status: { $in: statuses } } : {}) };
    const rows = await context.em.find(EnrichmentRecord, where, { orderBy: { position: 'asc' }, limit: args.first + 1 });
    const edges = rows.slice(0, args.first).map((record) => ({ node: record, cursor: encodeRecordCursor(record.position) }));
    return {
      edges,
      pageInfo: { hasNextPage: rows.length > args.first, hasPreviousPage: after >= 0, startCursor: edges[0]?.cursor ?? null, endCursor: edges.at(-1)?.cursor ?? null },
    };
  }

  private async campaignOf(context: EnrichmentContext, campaignId: string): Promise<CampaignTargeting> {
    const missing = () => badUserInput(`No campaign ${campaignId.slice(0, 64)} in your workspace: give the id of one of your campaigns, or leave campaignId out.`, 'campaignId');
    if (!isUuid(campaignId)) throw missing();
    let campaign: CampaignTargeting | null;
    try {
      campaign = await this.dependencies.campaigns.targeting(context.callerToken, campaignId);
    } catch (error) {
      context.logger.warn({ err: error }, 'campaign-service could not be asked for a job’s campaign');
      throw upstreamUnavailable('The campaign service is unavailable right now, so the campaign could not be read; nothing was created. Try again shortly.', { service: 'campaign' });
    }
    if (!campaign) throw missing();
    return campaign;
  }

  /** The gateway's delegated token of this caller (decision 0070), once checked; null without one. */
  private async delegatedTokenOf(context: EnrichmentContext): Promise<string | null> {
    const token = context.delegatedCallerToken;
    if (!token) return null;
    try {
      const delegated = await this.dependencies.verifier.verify(token);
      if (delegated.tenantId === context.caller.tenantId) return token;
      context.logger.warn('a delegated caller token of another tenant was refused');
    } catch (error) {
      context.logger.warn({ reason: (error as Error).message }, 'a delegated caller token was refused');
    }
    return null;
  }
}

function encodeRecordCursor(position: number): string {
  return Buffer.from(`record:${position}`).toString('base64url');
}

function decodeRecordCursor(cursor: string): number {
  const match = /^record:(\d{1,9})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!match) throw badUserInput('The `after` cursor is not one this API returned; pass the `cursor` or `pageInfo.endCursor` of a previous page.', 'after');
  return Number(match[1]);
}
