import { randomUUID } from 'node:crypto';
import { raw } from '@mikro-orm/core';
import type { EntityManager, Logger } from '@gtm/runtime';
import { Company } from '../company/company.entity.js';
import type { CrmConnection } from '../crm-connection/crm-connection.entity.js';
import type { CrmAdapter, CrmChange, CrmRecord, CrmRecordUpdate, CrmWriteOutcome } from '../crm-provider/crm-provider.js';
import { CrmProviderError, isCrmProviderError } from '../crm-provider/crm-provider.error.js';
import { CrmLeadField, mappedFields, type FieldMapping } from '../crm-provider/field-mapping.js';
import { CrmDeadLetter, CrmSyncSide } from '../crm-dead-letter/crm-dead-letter.entity.js';
import { CrmRecordLink, type SyncedValues } from '../crm-record-link/crm-record-link.entity.js';
import { Lead } from '../lead/lead.entity.js';
import { leadEmailKey } from '../lead/lead-email-key.js';
import { companyKeyOf, leadValues, providerProperties, refusalOf, remoteValues } from './lead-values.js';
import { leadsBeforePlan, publishPlanLeadChanges } from './lead-changes.js';
import { fieldsInDispute, reconcile } from './reconcile.js';

/** Records counted by what happened to them (the API's `CrmSyncRun` counts). */
export interface SyncCounts {
  created: number;
  updated: number;
  unchanged: number;
  failed: number;
  conflicts: number;
  deleted: number;
  merged: number;
}

export const emptyCounts = (): SyncCounts => ({ created: 0, updated: 0, unchanged: 0, failed: 0, conflicts: 0, deleted: 0, merged: 0 });

interface LeadCreate {
  id: string;
  values: SyncedValues;
}

interface LeadUpdate {
  id: string;
  values: SyncedValues;
}

interface LeadMerge {
  survivorId: string;
  mergedId: string;
  /** The survivor's empty fields, filled from the merged lead. */
  fill: SyncedValues;
}

interface LinkWrite {
  leadId: string;
  externalId: string;
  syncedValues: SyncedValues;
  remoteModifiedAt: Date | null;
}

interface DeadLetterWrite {
  direction: CrmSyncSide;
  externalId: string | null;
  leadId: string | null;
  error: CrmProviderError | { kind: string; message: string };
}

/** Everything one item (a page, a batch) writes here, decided before the transaction that writes it. */
export class SyncPlan {
  readonly counts = emptyCounts();
  readonly leadCreates: LeadCreate[] = [];
  readonly leadUpdates: LeadUpdate[] = [];
  readonly leadMerges: LeadMerge[] = [];
  readonly leadDeletes: string[] = [];
  readonly linkDeletes: string[] = [];
  readonly links = new Map<string, LinkWrite>();
  readonly deadLetters: DeadLetterWrite[] = [];
  /** Records that went through: their open dead letters are resolved. */
  readonly succeededExternalIds: string[] = [];
  readonly succeededLeadIds: string[] = [];
  /** Records deleted at the provider for leads deleted here: their open dead letters are resolved. */
  readonly succeededDeletes: string[] = [];
  /** Whether the connection may have open dead letters these successes resolve (skips a query per page when it has none). */
  resolveDeadLetters = true;

  /** Whether the plan writes anything here at all. */
  get writesNothing(): boolean {
    return (
      this.leadCreates.length + this.leadUpdates.length + this.leadMerges.length + this.leadDeletes.length + this.linkDeletes.length + this.links.size + this.deadLetters.length + this.succeededExternalIds.length + this.succeededLeadIds.length + this.succeededDeletes.length ===
      0
    );
  }
}

export interface SyncEngineOptions {
  connection: CrmConnection;
  adapter: CrmAdapter;
  /** Reads outside the item's transaction (tenant-scoped). */
  em: EntityManager;
  logger: Logger;
  signal?: AbortSignal;
}

const isFatal = (error: unknown): boolean => isCrmProviderError(error) && (error.isRetryable || error.kind === 'unauthorized' || error.kind === 'daily-limit' || error.kind === 'forbidden' || error.kind === 'refused-address' || error.kind === 'malformed-response');

/**
 * Decides what a page of provider changes or a batch of leads changed here comes to — matches,
 * three-way merges, writes at the provider — and records it in a `SyncPlan` that the item's
 * transaction writes. Provider calls happen here, outside any transaction; a record that fails
 * for good becomes a dead letter, and an error that stops the run (rate limit exhausted, revoked
 * credentials, daily cap) is thrown.
 */
export class CrmSyncEngine {
  private readonly mapping: FieldMapping;
  private readonly fields: CrmLeadField[];
  readonly providerFields: string[];

  /** Whether the connection has open dead letters; known once `prepare` ran, kept up to date by the plans. */
  private openDeadLetters = true;

  constructor(private readonly options: SyncEngineOptions) {
    this.mapping = options.connection.fieldMapping;
    this.fields = mappedFields(this.mapping).map(([field]) => field);
    this.providerFields = mappedFields(this.mapping).map(([, providerField]) => providerField);
  }

  /** Reads what every plan of the attempt needs once. */
  async prepare(): Promise<void> {
    this.openDeadLetters = (await this.options.em.fork().count(CrmDeadLetter, { connectionId: this.connectionId, resolvedAt: null })) > 0;
  }

  /** A new plan, knowing whether dead letters may need resolving. */
  private newPlan(): SyncPlan {
    const plan = new SyncPlan();
    plan.resolveDeadLetters = this.openDeadLetters;
    return plan;
  }

  /** Notes dead letters a plan opens, for the plans after it. */
  private finish(plan: SyncPlan): SyncPlan {
    if (plan.deadLetters.length > 0) this.openDeadLetters = true;
    return plan;
  }

  private get connectionId() {
    return this.options.connection.id;
  }

  /** Applies provider changes (a page of the import, or what webhooks announced). */
  async planImport(changes: CrmChange[]): Promise<SyncPlan> {
    const plan = this.newPlan();
    const { em } = this.options;
    // The last word on each record in the page: a record changed twice appears once.
    const latest = new Map<string, CrmChange>();
    for (const change of changes) latest.set(change.kind === 'upsert' ? change.record.externalId : change.externalId, change);
    const upserts = [...latest.values()].filter((change): change is Extract<CrmChange, { kind: 'upsert' }> => change.kind === 'upsert').map((change) => change.record);
    const deletes = [...latest.values()].filter((change): change is Extract<CrmChange, { kind: 'delete' }> => change.kind === 'delete');

    const externalIds = [...new Set([...upserts.flatMap((record) => [record.externalId, ...record.mergedExternalIds]), ...deletes.map((change) => change.externalId)])];
    const links = externalIds.length === 0 ? [] : await em.fork().find(CrmRecordLink, { connectionId: this.connectionId, externalId: { $in: externalIds } });
    const linkByExternalId = new Map(links.map((link) => [link.externalId, link]));

    // The fast path: a linked record the provider has not changed since we last saw it (our own
    // write's echo, or the overlap window read again) needs nothing more, not even its lead.
    const untouched = new Set(
      upserts
        .filter((record) => {
          const link = linkByExternalId.get(record.externalId);
          return link?.remoteModifiedAt && record.modifiedAt.getTime() <= link.remoteModifiedAt.getTime() && record.mergedExternalIds.every((id) => !linkByExternalId.has(id) || id === record.externalId);
        })
        .map((record) => record.externalId),
    );
    for (const externalId of untouched) {
      plan.counts.unchanged += 1;
      plan.succeededExternalIds.push(externalId);
    }
    const remaining = upserts.filter((record) => !untouched.has(record.externalId));
    const remote = new Map(remaining.map((record) => [record.externalId, remoteValues(record.properties, this.mapping)]));
    // Matched by the address's key: a record's spelling of a Gmail mailbox finds the lead under another spelling.
    const emailKeys = [...new Set(remaining.filter((record) => !linkByExternalId.has(record.externalId)).map((record) => emailKeyOf(remote.get(record.externalId)!)).filter(Boolean))];
    const leadIds = [...new Set(links.filter((link) => !untouched.has(link.externalId)).map((link) => link.leadId))];
    const reader = em.fork();
    const leads =
      leadIds.length + emailKeys.length === 0 ? [] : await reader.find(Lead, { $or: [{ id: { $in: leadIds } }, { [raw((alias) => `${alias}.email_key`)]: { $in: emailKeys } }] }, { populate: ['company'] });
    const leadById = new Map(leads.map((lead) => [lead.id, lead]));
    const leadByEmailKey = new Map(leads.filter((lead) => lead.email).map((lead) => [leadEmailKey(lead.email!), lead]));

    // Records without a link or an email match: matched by company domain (or name) and person name.
    const byCompanyAndName = await this.matchByCompanyAndName(
      reader,
      remaining.filter((record) => !linkByExternalId.has(record.externalId) && !leadByEmailKey.has(emailKeyOf(remote.get(record.externalId)!))).map((record) => remote.get(record.externalId)!),
    );
    for (const lead of byCompanyAndName) leadById.set(lead.id, lead);

    // Leads already linked, in this connection, to another record than the one matching them.
    const candidateIds = [...leads, ...byCompanyAndName].map((lead) => lead.id).filter((id) => !leadIds.includes(id));
    const otherLinks = candidateIds.length === 0 ? [] : await em.fork().find(CrmRecordLink, { connectionId: this.connectionId, leadId: { $in: candidateIds } });
    const linkedElsewhere = new Map(otherLinks.map((link) => [link.leadId, link.externalId]));
    const claimed = new Set<string>();

    const pendingRemote: Array<{ record: CrmRecord; leadId: string; update: CrmRecordUpdate; merged: SyncedValues; synced: SyncedValues }> = [];
    const disputedTimes = new Map<string, Partial<Record<CrmLeadField, Date>>>();

    for (const record of remaining) {
      const values = remote.get(record.externalId)!;
      let link = linkByExternalId.get(record.externalId) ?? null;
      let lead = link ? (leadById.get(link.leadId) ?? null) : null;

      // Merges at the provider: each merged record's lead folds into this record's.
      for (const mergedId of record.mergedExternalIds) {
        const mergedLink = linkByExternalId.get(mergedId);
        if (!mergedLink || mergedLink.externalId === record.externalId) continue;
        plan.linkDeletes.push(mergedId);
        linkByExternalId.delete(mergedId);
        const mergedLead = leadById.get(mergedLink.leadId) ?? null;
        if (!mergedLead) continue;
        if (!lead) {
          lead = mergedLead;
          link = { ...mergedLink, externalId: record.externalId } as CrmRecordLink;
        } else if (mergedLead.id !== lead.id) {
          const survivorValues = leadValues(lead, this.fields);
          const fill = Object.fromEntries(Object.entries(leadValues(mergedLead, this.fields)).filter(([field, value]) => value !== null && survivorValues[field as CrmLeadField] === null));
          plan.leadMerges.push({ survivorId: lead.id, mergedId: mergedLead.id, fill });
        }
        plan.counts.merged += 1;
      }

      const refusal = refusalOf(values);
      if (refusal) {
        plan.deadLetters.push({ direction: CrmSyncSide.IMPORT, externalId: record.externalId, leadId: lead?.id ?? null, error: { kind: 'invalid-record', message: `The ${this.options.connection.provider} record ${refusal}.` } });
        plan.counts.failed += 1;
        continue;
      }

      if (!lead) {
        const byEmail = values.EMAIL ? leadByEmailKey.get(emailKeyOf(values)) : undefined;
        const byName = byEmail ? undefined : byCompanyAndName.find((candidate) => sameCompanyAndName(candidate, values));
        const candidate = byEmail ?? byName;
        if (candidate && !claimed.has(candidate.id)) {
          const elsewhere = linkedElsewhere.get(candidate.id);
          if (elsewhere && elsewhere !== record.externalId) {
            plan.deadLetters.push({
              direction: CrmSyncSide.IMPORT,
              externalId: record.externalId,
              leadId: candidate.id,
              error: { kind: 'duplicate', message: `Lead ${candidate.id} matches this record but is already linked to record ${elsewhere}; merge the two records in the CRM.` },
            });
            plan.counts.failed += 1;
            continue;
          }
          lead = candidate;
        }
      }

      if (!lead) {
        const id = randomUUID();
        plan.leadCreates.push({ id, values });
        plan.links.set(record.externalId, { leadId: id, externalId: record.externalId, syncedValues: values, remoteModifiedAt: record.modifiedAt });
        claimed.add(id);
        plan.succeededExternalIds.push(record.externalId);
        plan.counts.created += 1;
        continue;
      }
      claimed.add(lead.id);

      const synced = link?.syncedValues ?? null;
      const local = leadValues(lead, this.fields);
      const disputed = fieldsInDispute({ fields: this.fields, local, remote: values, synced });
      let remoteModifiedAt: Partial<Record<CrmLeadField, Date>> = {};
      if (disputed.length > 0 && synced && this.options.adapter.fieldModifiedTimes) {
        remoteModifiedAt = await this.fieldTimes(record, disputed);
        disputedTimes.set(record.externalId, remoteModifiedAt);
      }
      const outcome = reconcile({ fields: this.fields, local, remote: values, synced, localModifiedAt: lead.updatedAt, remoteModifiedAt, remoteRecordModifiedAt: record.modifiedAt });
      plan.counts.conflicts += outcome.conflicts.length;
      const changesHere = Object.keys(outcome.toLocal).length > 0;
      const changesThere = Object.keys(outcome.toRemote).length > 0;
      if (changesHere) plan.leadUpdates.push({ id: lead.id, values: outcome.toLocal });
      if (changesThere) {
        // What the provider holds until our write succeeds: the fields we push keep their old agreed value.
        const untilWritten = { ...outcome.merged, ...Object.fromEntries(Object.keys(outcome.toRemote).map((field) => [field, synced?.[field as CrmLeadField] ?? values[field as CrmLeadField] ?? null])) };
        pendingRemote.push({ record, leadId: lead.id, update: { externalId: record.externalId, properties: providerProperties(outcome.toRemote, this.mapping) }, merged: outcome.merged, synced: untilWritten });
      } else {
        plan.links.set(record.externalId, { leadId: lead.id, externalId: record.externalId, syncedValues: outcome.merged, remoteModifiedAt: record.modifiedAt });
        plan.succeededExternalIds.push(record.externalId);
      }
      if (changesHere || changesThere || !link) plan.counts.updated += 1;
      else plan.counts.unchanged += 1;
    }

    if (pendingRemote.length > 0) {
      const outcomes = await this.options.adapter.update(
        pendingRemote.map((pending) => pending.update),
        this.providerFields,
        this.options.signal,
      );
      pendingRemote.forEach((pending, index) => this.recordWrite(plan, outcomes[index]!, pending.leadId, pending.record.externalId, pending.merged, pending.synced, pending.record.modifiedAt));
    }

    for (const change of deletes) {
      const link = linkByExternalId.get(change.externalId);
      if (!link) continue;
      plan.linkDeletes.push(change.externalId);
      plan.leadDeletes.push(link.leadId);
      plan.counts.deleted += 1;
    }
    if (plan.leadDeletes.length > 0) {
      // A lead another CRM still holds stays: only this link goes.
      const held = await em.fork().find(CrmRecordLink, { leadId: { $in: plan.leadDeletes }, connectionId: { $ne: this.connectionId } }, { fields: ['leadId'] });
      const heldIds = new Set(held.map((link) => link.leadId));
      plan.leadDeletes.splice(0, plan.leadDeletes.length, ...plan.leadDeletes.filter((id) => !heldIds.has(id)));
    }
    return this.finish(plan);
  }

  /** Pushes leads changed here (a batch of the export, or dead letters replayed). */
  async planExport(leads: Lead[]): Promise<SyncPlan> {
    const plan = this.newPlan();
    if (leads.length === 0) return plan;
    const { em, adapter, signal } = this.options;
    const links = await em.fork().find(CrmRecordLink, { connectionId: this.connectionId, leadId: { $in: leads.map((lead) => lead.id) } });
    const linkByLead = new Map(links.map((link) => [link.leadId, link]));

    const updates: Array<{ lead: Lead; link: CrmRecordLink; update: CrmRecordUpdate; merged: SyncedValues }> = [];
    const unlinked: Lead[] = [];
    for (const lead of leads) {
      const link = linkByLead.get(lead.id);
      const local = leadValues(lead, this.fields);
      if (!link) {
        if (local.EMAIL || local.FIRST_NAME || local.LAST_NAME) unlinked.push(lead);
        continue;
      }
      const changed = Object.fromEntries(this.fields.filter((field) => (local[field] ?? null) !== (link.syncedValues[field] ?? null)).map((field) => [field, local[field] ?? null])) as SyncedValues;
      if (Object.keys(changed).length === 0) {
        plan.counts.unchanged += 1;
        plan.succeededLeadIds.push(lead.id);
        continue;
      }
      updates.push({ lead, link, update: { externalId: link.externalId, properties: providerProperties(changed, this.mapping) }, merged: { ...link.syncedValues, ...changed } });
    }

    // Leads never synced: matched by email at the provider first, so nothing is created twice there.
    const emails = unlinked.map((lead) => lead.email).filter((email): email is string => Boolean(email));
    const existing = emails.length === 0 ? [] : await adapter.findByEmails(emails, this.providerFields, signal);
    const existingByEmail = new Map(existing.map((record) => [remoteValues(record.properties, this.mapping).EMAIL ?? '', record]));
    const alreadyLinked = existing.length === 0 ? [] : await em.fork().find(CrmRecordLink, { connectionId: this.connectionId, externalId: { $in: existing.map((record) => record.externalId) } });
    const linkedExternalIds = new Set(alreadyLinked.map((link) => link.externalId));
    const creates: Array<{ lead: Lead; values: SyncedValues }> = [];
    for (const lead of unlinked) {
      const local = leadValues(lead, this.fields);
      const record = lead.email ? existingByEmail.get(lead.email) : undefined;
      if (record && linkedExternalIds.has(record.externalId)) {
        plan.deadLetters.push({ direction: CrmSyncSide.EXPORT, externalId: null, leadId: lead.id, error: { kind: 'duplicate', message: `Record ${record.externalId} with this email is already linked to another lead here; merge the two leads.` } });
        plan.counts.failed += 1;
        continue;
      }
      if (!record) {
        creates.push({ lead, values: local });
        continue;
      }
      const values = remoteValues(record.properties, this.mapping);
      const outcome = reconcile({ fields: this.fields, local, remote: values, synced: null, localModifiedAt: lead.updatedAt, remoteModifiedAt: {}, remoteRecordModifiedAt: record.modifiedAt });
      if (Object.keys(outcome.toLocal).length > 0) plan.leadUpdates.push({ id: lead.id, values: outcome.toLocal });
      if (Object.keys(outcome.toRemote).length > 0) {
        updates.push({ lead, link: { syncedValues: values, externalId: record.externalId } as CrmRecordLink, update: { externalId: record.externalId, properties: providerProperties(outcome.toRemote, this.mapping) }, merged: outcome.merged });
      } else {
        plan.links.set(record.externalId, { leadId: lead.id, externalId: record.externalId, syncedValues: outcome.merged, remoteModifiedAt: record.modifiedAt });
        plan.succeededLeadIds.push(lead.id);
        plan.counts.updated += 1;
      }
    }

    if (updates.length > 0) {
      const outcomes = await adapter.update(
        updates.map((entry) => entry.update),
        this.providerFields,
        signal,
      );
      updates.forEach((entry, index) => {
        this.recordWrite(plan, outcomes[index]!, entry.lead.id, entry.update.externalId, entry.merged, entry.link.syncedValues, null);
      });
    }
    if (creates.length > 0) {
      const outcomes = await adapter.create(
        creates.map((entry) => providerProperties(entry.values, this.mapping)),
        this.providerFields,
        signal,
      );
      creates.forEach((entry, index) => {
        const outcome = outcomes[index]!;
        if (outcome.ok) {
          plan.links.set(outcome.record.externalId, { leadId: entry.lead.id, externalId: outcome.record.externalId, syncedValues: entry.values, remoteModifiedAt: outcome.record.modifiedAt });
          plan.succeededLeadIds.push(entry.lead.id);
          plan.counts.created += 1;
        } else {
          plan.deadLetters.push({ direction: CrmSyncSide.EXPORT, externalId: null, leadId: entry.lead.id, error: outcome.error });
          plan.counts.failed += 1;
        }
      });
    }
    return this.finish(plan);
  }

  /**
   * Deletes at the provider the records of leads deleted here (their links went with them). A record
   * already gone is no error; one the provider refuses to delete becomes a dead letter by its id.
   */
  async planRemoteDeletes(externalIds: readonly string[]): Promise<SyncPlan> {
    const plan = this.newPlan();
    for (const externalId of externalIds) {
      try {
        await this.options.adapter.delete(externalId, this.options.signal);
        plan.succeededDeletes.push(externalId);
        plan.counts.deleted += 1;
      } catch (error) {
        if (!isCrmProviderError(error) || isFatal(error)) throw error;
        plan.deadLetters.push({ direction: CrmSyncSide.EXPORT, externalId, leadId: null, error });
        plan.counts.failed += 1;
      }
    }
    return this.finish(plan);
  }

  /** A write at the provider: on success the link records what both now hold (so its echo is known); on failure a dead letter. */
  private recordWrite(plan: SyncPlan, outcome: CrmWriteOutcome, leadId: string, externalId: string, merged: SyncedValues, previous: SyncedValues, seenModifiedAt: Date | null) {
    if (outcome.ok) {
      plan.links.set(outcome.record.externalId, { leadId, externalId: outcome.record.externalId, syncedValues: merged, remoteModifiedAt: outcome.record.modifiedAt });
      plan.succeededLeadIds.push(leadId);
      plan.succeededExternalIds.push(externalId);
      plan.counts.updated += plan.leadUpdates.some((update) => update.id === leadId) ? 0 : 1;
      return;
    }
    if (isFatal(outcome.error)) throw outcome.error;
    if (outcome.error.kind === 'not-found') {
      // Gone at the provider meanwhile: the import's delete will follow; nothing to write here now.
      plan.counts.unchanged += 1;
      return;
    }
    plan.links.set(externalId, { leadId, externalId, syncedValues: previous, remoteModifiedAt: seenModifiedAt });
    plan.deadLetters.push({ direction: CrmSyncSide.EXPORT, externalId: null, leadId, error: outcome.error });
    plan.counts.failed += 1;
  }

  private async fieldTimes(record: CrmRecord, fields: CrmLeadField[]): Promise<Partial<Record<CrmLeadField, Date>>> {
    const providerFields = fields.map((field) => this.mapping[field]!);
    const times = await this.options.adapter.fieldModifiedTimes!(record.externalId, providerFields, this.options.signal);
    return Object.fromEntries(fields.filter((field) => times[this.mapping[field]!]).map((field) => [field, times[this.mapping[field]!]!]));
  }

  /** Leads at the companies these values name (by domain, else name) whose names match: two indexed queries, whatever the page. */
  private async matchByCompanyAndName(reader: EntityManager, candidates: SyncedValues[]): Promise<Lead[]> {
    const named = candidates.filter((values) => values.FIRST_NAME && values.LAST_NAME && (values.COMPANY_WEBSITE || values.COMPANY_NAME));
    if (named.length === 0) return [];
    const keys = named.map(companyKeyOf);
    const domains = [...new Set(keys.map((key) => key.domain).filter((domain): domain is string => Boolean(domain)))];
    const names = [...new Set(keys.filter((key) => !key.domain && key.name).map((key) => key.name!))];
    const companies = await reader.find(Company, { $or: [{ domain: { $in: domains } }, { name: { $in: names } }] }, { fields: ['id'] });
    if (companies.length === 0) return [];
    const leads = await reader.find(Lead, { company: { $in: companies.map((company) => company.id) }, firstName: { $ne: null }, lastName: { $ne: null } }, { populate: ['company'] });
    return leads.filter((lead) => named.some((values) => sameCompanyAndName(lead, values)));
  }
}

/** The key of a record's email (lead-email-key.ts), or '' for none. */
function emailKeyOf(values: SyncedValues): string {
  return values.EMAIL ? leadEmailKey(values.EMAIL) : '';
}

function sameCompanyAndName(lead: Lead, values: SyncedValues): boolean {
  if (!lead.firstName || !lead.lastName || !lead.company) return false;
  if (lead.firstName.toLowerCase() !== values.FIRST_NAME?.toLowerCase() || lead.lastName.toLowerCase() !== values.LAST_NAME?.toLowerCase()) return false;
  const company = companyKeyOf(values);
  return company.domain ? lead.company.domain === company.domain : lead.company.name.toLowerCase() === company.name?.toLowerCase();
}

/**
 * Writes a plan in the item's transaction: companies found or made, leads created, updated, merged
 * and deleted, links upserted, dead letters opened (or counted again) and resolved.
 */
export async function writePlan(transaction: EntityManager, plan: SyncPlan, connection: CrmConnection, runId: string): Promise<void> {
  const tenantId = connection.tenantId;
  const now = new Date();
  const leadsBefore = await leadsBeforePlan(transaction, plan);
  if (plan.linkDeletes.length > 0) await transaction.nativeDelete(CrmRecordLink, { connectionId: connection.id, externalId: { $in: plan.linkDeletes } });

  const companyIds = await ensureCompanies(transaction, tenantId, [...plan.leadCreates.map((create) => create.values), ...plan.leadUpdates.map((update) => update.values)]);
  const columns = (values: SyncedValues) => {
    const changes: Partial<Lead> = {};
    if (CrmLeadField.EMAIL in values) changes.email = values.EMAIL ?? null;
    if (CrmLeadField.FIRST_NAME in values) changes.firstName = values.FIRST_NAME ?? null;
    if (CrmLeadField.LAST_NAME in values) changes.lastName = values.LAST_NAME ?? null;
    if (CrmLeadField.PHONE in values) changes.phone = values.PHONE ?? null;
    if (CrmLeadField.TITLE in values) changes.title = values.TITLE ?? null;
    if (CrmLeadField.COMPANY_NAME in values || CrmLeadField.COMPANY_WEBSITE in values) {
      const id = companyIds.get(companyCacheKey(values));
      (changes as { company?: unknown }).company = id ? transaction.getReference(Company, id) : null;
    }
    return changes;
  };
  if (plan.leadCreates.length > 0) {
    // One multi-row insert; `now` on both sides (the lead's updated_at, the link's last_synced_at)
    // is what tells the export that an imported lead has nothing new to push.
    await transaction.insertMany(
      Lead,
      plan.leadCreates.map((create) => ({ id: create.id, tenantId, source: connection.provider.toLowerCase(), status: 'NEW', createdAt: now, updatedAt: now, ...columns(create.values) })) as never,
    );
  }
  for (const update of plan.leadUpdates) {
    const changes = columns(update.values);
    if (Object.keys(changes).length > 0) await transaction.nativeUpdate(Lead, { id: update.id }, { ...changes, updatedAt: now });
  }
  for (const merge of plan.leadMerges) {
    const fill = columns(merge.fill);
    if (Object.keys(fill).length > 0) await transaction.nativeUpdate(Lead, { id: merge.survivorId }, { ...fill, updatedAt: now });
    // The merged lead's links to other CRMs move to the survivor, unless it has its own there.
    const survivorLinks = await transaction.find(CrmRecordLink, { leadId: merge.survivorId }, { fields: ['connectionId'] });
    await transaction.nativeUpdate(CrmRecordLink, { leadId: merge.mergedId, connectionId: { $nin: survivorLinks.map((link) => link.connectionId) } }, { leadId: merge.survivorId, updatedAt: now });
    // Where both had a record, the merged lead's stays at that CRM, unlinked (its next import asks
    // for a merge there): a merge here never deletes a record at another CRM.
    await transaction.nativeDelete(CrmRecordLink, { leadId: merge.mergedId });
    await transaction.nativeDelete(Lead, { id: merge.mergedId });
  }
  if (plan.leadDeletes.length > 0) await transaction.nativeDelete(Lead, { id: { $in: plan.leadDeletes } });

  const links = [...plan.links.values()].filter((link) => !plan.leadDeletes.includes(link.leadId));
  if (links.length > 0) {
    await transaction.upsertMany(
      CrmRecordLink,
      links.map((link) => ({ id: randomUUID(), tenantId, connectionId: connection.id, leadId: link.leadId, externalId: link.externalId, syncedValues: link.syncedValues, remoteModifiedAt: link.remoteModifiedAt, lastSyncedAt: now, createdAt: now, updatedAt: now })),
      { onConflictFields: ['connectionId', 'externalId'], onConflictAction: 'merge', onConflictMergeFields: ['leadId', 'syncedValues', 'remoteModifiedAt', 'lastSyncedAt', 'updatedAt'] },
    );
  }

  await publishPlanLeadChanges(transaction, plan, leadsBefore, runId);

  if (plan.resolveDeadLetters && plan.succeededExternalIds.length + plan.succeededLeadIds.length + plan.succeededDeletes.length > 0) {
    await transaction.nativeUpdate(
      CrmDeadLetter,
      {
        connectionId: connection.id,
        resolvedAt: null,
        $or: [
          { direction: CrmSyncSide.IMPORT, externalId: { $in: plan.succeededExternalIds } },
          { direction: CrmSyncSide.EXPORT, leadId: { $in: plan.succeededLeadIds } },
          { direction: CrmSyncSide.EXPORT, leadId: null, externalId: { $in: plan.succeededDeletes } },
        ],
      },
      { resolvedAt: now, updatedAt: now },
    );
  }
  for (const letter of plan.deadLetters) {
    const message = letter.error.message.slice(0, 2_000);
    const open = await transaction.findOne(CrmDeadLetter, {
      connectionId: connection.id,
      direction: letter.direction,
      resolvedAt: null,
      // An export letter names its lead, or — a delete pushed for a lead gone here — only the record.
      ...(letter.direction === CrmSyncSide.IMPORT || !letter.leadId ? { externalId: letter.externalId } : { leadId: letter.leadId }),
    });
    if (open) {
      await transaction.nativeUpdate(CrmDeadLetter, { id: open.id }, { attempts: open.attempts + 1, error: message, errorKind: letter.error.kind, syncRunId: runId, updatedAt: now });
    } else {
      transaction.persist(
        transaction.create(CrmDeadLetter, {
          tenantId,
          connectionId: connection.id,
          direction: letter.direction,
          externalId: letter.externalId,
          leadId: letter.direction === CrmSyncSide.EXPORT || !plan.leadDeletes.includes(letter.leadId ?? '') ? letter.leadId : null,
          errorKind: letter.error.kind,
          error: message,
          syncRunId: runId,
        }),
      );
    }
  }
  await transaction.flush();
}

const companyCacheKey = (values: SyncedValues) => {
  const key = companyKeyOf(values);
  return key.domain ? `domain:${key.domain}` : key.name ? `name:${key.name.toLowerCase()}` : '';
};

/** The companies named by these values, found by domain (else name) or made; cache key → id. */
async function ensureCompanies(transaction: EntityManager, tenantId: string, valueSets: SyncedValues[]): Promise<Map<string, string>> {
  const wanted = new Map<string, ReturnType<typeof companyKeyOf>>();
  for (const values of valueSets) {
    if (!(CrmLeadField.COMPANY_NAME in values) && !(CrmLeadField.COMPANY_WEBSITE in values)) continue;
    const key = companyCacheKey(values);
    if (key) wanted.set(key, companyKeyOf(values));
  }
  const ids = new Map<string, string>();
  if (wanted.size === 0) return ids;
  const domains = [...wanted.values()].map((company) => company.domain).filter((domain): domain is string => Boolean(domain));
  const names = [...wanted.values()].filter((company) => !company.domain && company.name).map((company) => company.name!);
  const found = await transaction.find(Company, { $or: [{ domain: { $in: domains } }, { name: { $in: names }, domain: null }] });
  for (const company of found) {
    if (company.domain) ids.set(`domain:${company.domain}`, company.id);
    else if (!ids.has(`name:${company.name.toLowerCase()}`)) ids.set(`name:${company.name.toLowerCase()}`, company.id);
  }
  for (const [key, company] of wanted) {
    if (ids.has(key)) continue;
    const created = transaction.create(Company, { tenantId, name: company.name ?? company.domain!, domain: company.domain, websiteUrl: company.websiteUrl });
    transaction.persist(created);
    ids.set(key, created.id);
  }
  await transaction.flush();
  return ids;
}
