import type { CrmLeadField } from '../crm-provider/field-mapping.js';
import type { SyncedValues } from '../crm-record-link/crm-record-link.entity.js';

export interface ReconcileInput {
  fields: readonly CrmLeadField[];
  /** The lead's values here. */
  local: SyncedValues;
  /** The record's values at the provider. */
  remote: SyncedValues;
  /** What both held after the last sync; null for a pair never synced before (a first match). */
  synced: SyncedValues | null;
  /** When the lead last changed here. */
  localModifiedAt: Date;
  /** When each field last changed at the provider (its record's modification time where it keeps no per-field history). */
  remoteModifiedAt: Partial<Record<CrmLeadField, Date>>;
  remoteRecordModifiedAt: Date;
}

export interface Reconciliation {
  /** Fields to write here. */
  toLocal: SyncedValues;
  /** Fields to write at the provider. */
  toRemote: SyncedValues;
  /** What both sides hold once those writes are done. */
  merged: SyncedValues;
  /** Fields both sides changed since the last sync (decided by modification time). */
  conflicts: CrmLeadField[];
}

/**
 * Which fields need a time to be decided: both sides changed them since the last sync, or a first
 * match where both hold different values.
 */
export function fieldsInDispute(input: Pick<ReconcileInput, 'fields' | 'local' | 'remote' | 'synced'>): CrmLeadField[] {
  return input.fields.filter((field) => {
    const local = input.local[field] ?? null;
    const remote = input.remote[field] ?? null;
    if (local === remote) return false;
    const synced = input.synced && field in input.synced ? (input.synced[field] ?? null) : undefined;
    if (synced === undefined) return local !== null && remote !== null;
    return local !== synced && remote !== synced;
  });
}

/**
 * A three-way merge per field against what both sides last agreed on: a field changed on one side
 * only goes to the other; a field both changed (a true conflict) goes the way of the later change,
 * the provider winning a tie (it is the team's source of truth). A first match fills each side's
 * gaps from the other and decides differing values by time. A record equal to the agreed values —
 * the echo of our own write — changes nothing.
 */
export function reconcile(input: ReconcileInput): Reconciliation {
  const toLocal: SyncedValues = {};
  const toRemote: SyncedValues = {};
  const merged: SyncedValues = {};
  const conflicts: CrmLeadField[] = [];
  for (const field of input.fields) {
    const local = input.local[field] ?? null;
    const remote = input.remote[field] ?? null;
    const synced = input.synced && field in input.synced ? (input.synced[field] ?? null) : undefined;
    if (local === remote) {
      merged[field] = local;
      continue;
    }
    let remoteWins: boolean;
    if (synced !== undefined && local === synced) remoteWins = true;
    else if (synced !== undefined && remote === synced) remoteWins = false;
    else if (synced === undefined && local === null) remoteWins = true;
    else if (synced === undefined && remote === null) remoteWins = false;
    else {
      if (synced !== undefined) conflicts.push(field);
      const remoteAt = (input.remoteModifiedAt[field] ?? input.remoteRecordModifiedAt).getTime();
      remoteWins = remoteAt >= input.localModifiedAt.getTime();
    }
    if (remoteWins) {
      toLocal[field] = remote;
      merged[field] = remote;
    } else {
      toRemote[field] = local;
      merged[field] = local;
    }
  }
  return { toLocal, toRemote, merged, conflicts };
}
