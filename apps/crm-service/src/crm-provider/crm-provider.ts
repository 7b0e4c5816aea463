import type { CrmProviderError } from './crm-provider.error.js';

/** The CRMs a tenant can connect (the API's `CrmProvider`). */
export enum CrmProvider {
  HUBSPOT = 'HUBSPOT',
  SALESFORCE = 'SALESFORCE',
  PIPEDRIVE = 'PIPEDRIVE',
  CLOSE = 'CLOSE',
  GOHIGHLEVEL = 'GOHIGHLEVEL',
}

/** Values as every adapter exchanges them: flat, by the provider's own field name, text or null. */
export type CrmProperties = Record<string, string | null>;

/** A field of the provider's contact (or lead) object, as its API describes it. */
export interface CrmFieldDescription {
  name: string;
  label: string;
  /** Computed by the provider; never written. */
  readOnly: boolean;
}

/** A contact as the provider holds it. */
export interface CrmRecord {
  externalId: string;
  /** The fields asked for, by provider field name; a field the record lacks is null. */
  properties: CrmProperties;
  /** When the provider last changed the record (its own clock: `lastmodifieddate`, `SystemModstamp` …). */
  modifiedAt: Date;
  /**
   * Ids of records the provider merged into this one (HubSpot's `hs_merged_object_ids`); their
   * links here move to this record. Default: none.
   */
  mergedExternalIds: string[];
}

/** One change read from the provider. */
export type CrmChange =
  | { kind: 'upsert'; record: CrmRecord }
  | {
      kind: 'delete';
      externalId: string;
      deletedAt: Date;
      /** The record this one was merged into, when the delete is the losing half of a merge. */
      mergedInto: string | null;
    };

export interface ListChangesRequest {
  /** Changes made at or after this instant (the stored cursor less the overlap window); null for everything. */
  since: Date | null;
  /** Where to continue, as the previous page said; null for the first page. */
  pageToken: string | null;
  /** Records per page the caller wants; adapters clamp it to what their API allows. */
  pageSize: number;
  /** Provider fields to read (the connection's mapping). */
  fields: readonly string[];
  signal?: AbortSignal;
}

export interface CrmChangePage {
  changes: CrmChange[];
  /** Where the next page starts; null after the last page. */
  nextPageToken: string | null;
  /**
   * The provider-clock instant up to which every change has now been read: stored once this page
   * is applied, so the next run (or a resumed one) starts there. Null when the page says nothing
   * new about it.
   */
  checkpoint: Date | null;
  /** How many changes the whole listing holds, when the provider says (progress only). */
  totalEstimate: number | null;
}

/** The outcome of writing one record of a batch: a batch is never all-or-nothing for the caller. */
export type CrmWriteOutcome = { ok: true; record: CrmRecord } | { ok: false; error: CrmProviderError };

export interface CrmRecordUpdate {
  externalId: string;
  properties: CrmProperties;
}

/** Who the credentials belong to, as the provider answered when they were checked. */
export interface CrmAccount {
  id: string;
  name: string;
}

/** A webhook request exactly as it reached us (the body's bytes untouched: signatures cover them). */
export interface InboundWebhook {
  method: string;
  /** The absolute URL the provider called (the public one it was registered with), query included. */
  url: string;
  headers: Record<string, string | undefined>;
  rawBody: Buffer;
}

/** One change a webhook announced. Its details are read from the provider when it is applied. */
export interface CrmWebhookEvent {
  /** The provider's id of the event, for applying each one once; derived from its content when the provider gives none. */
  eventId: string;
  kind: 'upsert' | 'delete' | 'merge';
  externalId: string;
  occurredAt: Date;
  /** For a merge: the records that disappeared into `externalId`. */
  mergedExternalIds: string[];
}

export type WebhookVerification =
  | {
      verified: true;
      events: CrmWebhookEvent[];
      /**
       * What makes this delivery unique (its signature): a second request carrying the same one
       * is a replay and is refused.
       */
      replayKey: string;
      /** How long `replayKey` must be remembered: the provider's freshness window, or longer. */
      replayWindowMs: number;
    }
  | { verified: false; reason: string };

/**
 * One CRM behind the interface the sync needs. Made by `createXAdapter(settings)`; each adapter
 * drives the provider's official SDK (or, for Close, a small typed client) against a configurable
 * base URL. Every method throws `CrmProviderError` and nothing else.
 */
export interface CrmAdapter {
  readonly provider: CrmProvider;
  /** Most records one create or update call takes. */
  readonly maximumBatchSize: number;
  /** Checks the credentials with a cheap authenticated call; says whose account they open. */
  verifyCredentials(signal?: AbortSignal): Promise<CrmAccount>;
  /** The contact fields the provider has (for field mappings). */
  listFields(signal?: AbortSignal): Promise<CrmFieldDescription[]>;
  /** One page of records changed since `since`, oldest change first, deletes included where the provider reports them. */
  listChanges(request: ListChangesRequest): Promise<CrmChangePage>;
  /** The record, or null when it is gone (deleted; a merged-away id answers with the record it went into). */
  get(externalId: string, fields: readonly string[], signal?: AbortSignal): Promise<CrmRecord | null>;
  /** Records whose email is one of these (matching before creating, so nothing is duplicated there). */
  findByEmails(emails: readonly string[], fields: readonly string[], signal?: AbortSignal): Promise<CrmRecord[]>;
  /** Creates records, one outcome per input, in order. */
  create(inputs: readonly CrmProperties[], fields: readonly string[], signal?: AbortSignal): Promise<CrmWriteOutcome[]>;
  /** Updates records, one outcome per input, in order. */
  update(inputs: readonly CrmRecordUpdate[], fields: readonly string[], signal?: AbortSignal): Promise<CrmWriteOutcome[]>;
  /** Deletes (archives) a record; one already gone is not an error. */
  delete(externalId: string, signal?: AbortSignal): Promise<void>;
  /**
   * When each field last changed, where the provider keeps per-field history (HubSpot). Asked only
   * for a true conflict. Default (absent): the record's `modifiedAt` stands for every field.
   */
  fieldModifiedTimes?(externalId: string, fields: readonly string[], signal?: AbortSignal): Promise<Record<string, Date>>;
  /** Where a person opens the record in the provider's app; null when it cannot be told. */
  recordUrl(externalId: string): string | null;
  /** Checks a webhook request the way this provider signs them, and lists its events. */
  verifyWebhook(request: InboundWebhook, now: Date): WebhookVerification;
}
