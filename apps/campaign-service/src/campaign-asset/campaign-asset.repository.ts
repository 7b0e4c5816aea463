import { LockMode, UniqueConstraintViolationException } from '@mikro-orm/core';
import type { EntityManager } from '@gtm/runtime';
import { assetKinds, dependentsOf, type Asset, type AssetKind } from '../assets/index.js';
import {
  AssetState,
  CampaignAsset,
  CampaignAssetVersion,
  CampaignCorrection,
  CorrectionScope,
  type AssetBasis,
  type AssetOrigin,
  type GroundingSummary,
  type UsedPassage,
  type VersionUsage,
} from './campaign-asset.entity.js';

/** One asset of a campaign as it reads: its state and its current version, if any. */
export interface AssetRecord {
  kind: AssetKind;
  /** The state readers see (an interrupted generation reads FAILED). */
  state: AssetState;
  error: string | null;
  staleReason: string | null;
  stateChangedAt: Date | null;
  current: CampaignAssetVersion | null;
}

/** A new version, before it has a number. */
export interface VersionDraft {
  kind: AssetKind;
  origin: AssetOrigin;
  content: Asset;
  confidence: number;
  provider: string;
  model: string;
  promptVersion: string;
  instructions: string | null;
  basedOn: AssetBasis;
  websiteAnalyzedAt: Date | null;
  passages: UsedPassage[];
  grounding: GroundingSummary;
  warnings: string[];
  usage: VersionUsage | null;
}

/** What writing a version did. */
export interface RecordedVersion {
  version: CampaignAssetVersion;
  /** Dependents that had content and went STALE. */
  staled: AssetKind[];
}

export interface CorrectionDraft {
  scope: CorrectionScope;
  fieldPath: string | null;
  value: unknown;
  instructions: string | null;
}

export interface AssetRepositoryOptions {
  /**
   * How long a GENERATING state may last before it reads as FAILED (its process stopped mid-way).
   * Longer than any generation takes with retries and failover. Default: 15 minutes.
   */
  interruptedAfterMs?: number;
  /** Default: the system clock. */
  now?: () => Date;
}

/** A transaction found a kind without its row; it is created outside the transaction, then the work is retried. */
class MissingRowsError extends Error {
  override readonly name = 'MissingRowsError';
}

export const interruptedMessage = 'Generation was interrupted before it finished (the service stopped). Generate it again.';

/** A row's state as readers see it. */
function readState(row: CampaignAsset, now: Date, interruptedAfterMs: number): Pick<AssetRecord, 'state' | 'error'> {
  if (row.state === AssetState.GENERATING && now.getTime() - row.stateChangedAt.getTime() > interruptedAfterMs) {
    return { state: AssetState.FAILED, error: interruptedMessage };
  }
  return { state: row.state, error: row.error };
}

/**
 * Reads and writes a campaign's assets, versions and corrections. Every call takes the tenant-scoped
 * EntityManager it is to use; writes run in their own transaction on a fork of it, so a run's
 * writes never mix with the request's unit of work, or, when that EntityManager is in a
 * transaction (a job item's), within it.
 */
export class CampaignAssetRepository {
  private readonly interruptedAfterMs: number;
  private readonly now: () => Date;

  constructor(options: AssetRepositoryOptions = {}) {
    this.interruptedAfterMs = options.interruptedAfterMs ?? 15 * 60_000;
    this.now = options.now ?? (() => new Date());
  }

  /** The five assets of each campaign, MISSING where none exists: two queries for any number of campaigns. */
  async loadMany(em: EntityManager, campaignIds: readonly string[]): Promise<Map<string, AssetRecord[]>> {
    const rows = campaignIds.length === 0 ? [] : await em.find(CampaignAsset, { campaignId: { $in: [...campaignIds] } });
    const withVersion = rows.filter((row) => row.currentVersion !== null);
    const versions =
      withVersion.length === 0
        ? []
        : await em.find(CampaignAssetVersion, { $or: withVersion.map((row) => ({ campaignId: row.campaignId, kind: row.kind, version: row.currentVersion! })) });
    const versionOf = new Map(versions.map((version) => [`${version.campaignId}:${version.kind}:${version.version}`, version]));
    const now = this.now();
    const result = new Map<string, AssetRecord[]>();
    for (const campaignId of campaignIds) {
      const records = assetKinds.map((kind): AssetRecord => {
        const row = rows.find((candidate) => candidate.campaignId === campaignId && candidate.kind === kind);
        if (!row) return { kind, state: AssetState.MISSING, error: null, staleReason: null, stateChangedAt: null, current: null };
        return {
          kind,
          ...readState(row, now, this.interruptedAfterMs),
          staleReason: row.state === AssetState.STALE ? row.staleReason : null,
          stateChangedAt: row.stateChangedAt,
          current: row.currentVersion === null ? null : (versionOf.get(`${campaignId}:${kind}:${row.currentVersion}`) ?? null),
        };
      });
      result.set(campaignId, records);
    }
    return result;
  }

  async load(em: EntityManager, campaignId: string): Promise<AssetRecord[]> {
    return (await this.loadMany(em.fork(), [campaignId])).get(campaignId)!;
  }

  /** A campaign's corrections, oldest first. */
  async corrections(em: EntityManager, campaignId: string): Promise<CampaignCorrection[]> {
    return em.fork().find(CampaignCorrection, { campaignId }, { orderBy: { createdAt: 'asc', id: 'asc' } });
  }

  /** Marks kinds GENERATING (creating their rows), so readers see the run. */
  async markGenerating(em: EntityManager, tenantId: string, campaignId: string, kinds: readonly AssetKind[]): Promise<void> {
    if (kinds.length === 0) return;
    await this.withLockedRows(em, tenantId, campaignId, kinds, async (_transaction, rows) => {
      const now = this.now();
      for (const row of rows) {
        row.state = AssetState.GENERATING;
        row.error = null;
        row.stateChangedAt = now;
      }
    });
  }

  /** Marks kinds FAILED with why, for the user; their content, if any, stays readable. */
  async markFailed(em: EntityManager, tenantId: string, campaignId: string, failures: ReadonlyArray<{ kind: AssetKind; error: string }>): Promise<void> {
    if (failures.length === 0) return;
    const kinds = failures.map((failure) => failure.kind);
    await this.withLockedRows(em, tenantId, campaignId, kinds, async (_transaction, rows) => {
      const now = this.now();
      for (const row of rows) {
        row.state = AssetState.FAILED;
        row.error = failures.find((failure) => failure.kind === row.kind)!.error;
        row.stateChangedAt = now;
      }
    });
  }

  /**
   * Stores a new version as the current one (READY) and marks the dependents that have content
   * STALE, except those in `rebuilding` (the run builds them next). One transaction; the asset row
   * is locked, so concurrent writers number their versions one after the other.
   */
  async recordVersion(em: EntityManager, tenantId: string, campaignId: string, draft: VersionDraft, rebuilding: readonly AssetKind[] = []): Promise<RecordedVersion> {
    return this.withLockedRows(em, tenantId, campaignId, [draft.kind], async (transaction, [row]) => {
      const version = this.append(transaction, tenantId, campaignId, row!, draft);
      row!.state = AssetState.READY;
      row!.currentVersion = version.version;
      row!.error = null;
      row!.staleReason = null;
      row!.stateChangedAt = this.now();
      const staled = await this.staleDependents(transaction, campaignId, draft.kind, rebuilding, `${draft.kind} was ${draft.origin === 'GENERATED' ? 'regenerated' : 'corrected'} (version ${version.version}).`);
      return { version, staled };
    });
  }

  /**
   * Stores a correction and the version it made, unless the asset changed since the caller read
   * it (`beforeVersion`): then nothing is written and null comes back.
   */
  async recordCorrection(
    em: EntityManager,
    tenantId: string,
    campaignId: string,
    beforeVersion: number,
    correction: CorrectionDraft,
    draft: VersionDraft,
  ): Promise<{ correction: CampaignCorrection; recorded: RecordedVersion } | null> {
    return this.withLockedRows(em, tenantId, campaignId, [draft.kind], async (transaction, [row]) => {
      if (row!.currentVersion !== beforeVersion) return null;
      const version = this.append(transaction, tenantId, campaignId, row!, draft);
      row!.currentVersion = version.version;
      // A correction changes content, not freshness: a STALE asset stays STALE, a FAILED one shows its corrected content.
      if (row!.state !== AssetState.STALE) row!.state = AssetState.READY;
      row!.error = null;
      row!.stateChangedAt = this.now();
      const staled = await this.staleDependents(transaction, campaignId, draft.kind, [], `${draft.kind} was corrected (version ${version.version}).`);
      const entry = transaction.create(CampaignCorrection, {
        tenantId,
        campaignId,
        kind: draft.kind,
        scope: correction.scope,
        fieldPath: correction.fieldPath,
        value: correction.value,
        instructions: correction.instructions,
        beforeVersion,
        afterVersion: version.version,
        staleKinds: staled,
      });
      transaction.persist(entry);
      return { correction: entry, recorded: { version, staled } };
    });
  }

  /** Records a correction whose version was stored by a generation run (a GLOBAL correction). */
  async appendCorrection(
    em: EntityManager,
    tenantId: string,
    campaignId: string,
    kind: AssetKind,
    correction: CorrectionDraft & { beforeVersion: number; afterVersion: number; staleKinds: AssetKind[] },
  ): Promise<CampaignCorrection> {
    const fork = em.fork();
    const entry = fork.create(CampaignCorrection, { tenantId, campaignId, kind, ...correction });
    await fork.persist(entry).flush();
    return entry;
  }

  /**
   * Adds the draft as the kind's next version. Every version becomes current in the transaction
   * that writes it, under the row's lock, so the current one is the latest.
   */
  private append(transaction: EntityManager, tenantId: string, campaignId: string, row: CampaignAsset, draft: VersionDraft): CampaignAssetVersion {
    const version = transaction.create(CampaignAssetVersion, { tenantId, campaignId, version: (row.currentVersion ?? 0) + 1, ...draft });
    transaction.persist(version);
    return version;
  }

  private async staleDependents(transaction: EntityManager, campaignId: string, kind: AssetKind, rebuilding: readonly AssetKind[], reason: string): Promise<AssetKind[]> {
    const dependents = dependentsOf(kind).filter((dependent) => !rebuilding.includes(dependent));
    if (dependents.length === 0) return [];
    const rows = await transaction.find(CampaignAsset, { campaignId, kind: { $in: dependents }, currentVersion: { $ne: null } }, { lockMode: LockMode.PESSIMISTIC_WRITE });
    const now = this.now();
    for (const row of rows) {
      // A dependent being built by another run still goes stale: what it is built on is now outdated.
      row.state = AssetState.STALE;
      row.staleReason = reason;
      row.stateChangedAt = now;
    }
    return dependents.filter((dependent) => rows.some((row) => row.kind === dependent));
  }

  /**
   * Runs `work` in one transaction with the kinds' rows locked (so concurrent writers of an asset
   * take turns and number their versions one after the other). Rows a kind does not have yet are
   * created first, through a flush like every other write (decision 0005's tenant guard).
   */
  private async withLockedRows<Result>(
    em: EntityManager,
    tenantId: string,
    campaignId: string,
    kinds: readonly AssetKind[],
    work: (transaction: EntityManager, rows: CampaignAsset[]) => Promise<Result>,
  ): Promise<Result> {
    const locked = async (transaction: EntityManager) => {
      const rows = await transaction.find(CampaignAsset, { campaignId, kind: { $in: [...kinds] } }, { lockMode: LockMode.PESSIMISTIC_WRITE });
      if (rows.length < kinds.length) throw new MissingRowsError();
      return work(
        transaction,
        kinds.map((kind) => rows.find((row) => row.kind === kind)!),
      );
    };
    for (let attempt = 1; ; attempt += 1) {
      try {
        if (!em.isInTransaction()) return await em.fork().transactional(locked);
        // Inside a caller's transaction (a job item's), the writes commit or roll back with it; no
        // savepoint is needed, since a failure here fails the caller's whole transaction anyway.
        const result = await locked(em);
        await em.flush();
        return result;
      } catch (error) {
        if (!(error instanceof MissingRowsError) || attempt >= 3) throw error;
        await this.createRows(em, tenantId, campaignId, kinds);
      }
    }
  }

  /** Creates the rows the kinds lack; a row another run created meanwhile is left as it is. */
  private async createRows(em: EntityManager, tenantId: string, campaignId: string, kinds: readonly AssetKind[]): Promise<void> {
    const fork = em.fork();
    const existing = await fork.find(CampaignAsset, { campaignId, kind: { $in: [...kinds] } });
    for (const kind of kinds.filter((candidate) => !existing.some((row) => row.kind === candidate))) {
      fork.create(CampaignAsset, { tenantId, campaignId, kind, state: AssetState.MISSING, stateChangedAt: this.now() });
    }
    try {
      await fork.flush();
    } catch (error) {
      // Another run created one of them first: the caller looks again.
      if (!(error instanceof UniqueConstraintViolationException)) throw error;
    }
  }
}
