import type { Opt } from '@mikro-orm/core';
import { Entity, Property } from '@mikro-orm/decorators/legacy';
import { Job } from '@gtm/jobs';
import type { MappedColumn } from './lead-import.normalise.js';

/** The `kind` of a lead import, and its worker task. */
export const leadImportJobKind = 'lead-import';

/** A column mapping the import was given: the column's header (or its snake_case name) and the field, null to keep it as a custom field. */
export interface RequestedMapping {
  column: string;
  field: string | null;
}

/**
 * One CSV import (decision 0080): a job that waits for its file. The upload stages the rows
 * (COPY into `stagingTable`); the job merges them into leads and companies in one transaction.
 */
@Entity({ tableName: 'lead_import' })
export class LeadImport extends Job {
  override kind: Opt<string> = leadImportJobKind;

  @Property({ type: 'text' })
  fileName!: string;

  @Property({ type: 'text' })
  listName!: string;

  @Property({ type: 'uuid', nullable: true })
  listId: string | null = null;

  /** Overwrite non-empty fields of existing leads (default: only fill empty ones). */
  @Property({ type: 'boolean' })
  overwrite: Opt<boolean> = false;

  /** Before the file arrives: what the import asked for; after: what each column became. */
  /** The country of rows that name none (ISO 3166 alpha-2): their phone numbers are read as its. */
  @Property({ type: 'text', nullable: true })
  defaultCountry: string | null = null;

  @Property({ type: 'json', nullable: true })
  columnMapping: MappedColumn[] | RequestedMapping[] | null = null;

  /** The file's headers, in order. */
  @Property({ type: 'json', nullable: true })
  columns: string[] | null = null;

  @Property({ type: 'text', nullable: true })
  encoding: string | null = null;

  @Property({ type: 'text', nullable: true })
  delimiter: string | null = null;

  @Property({ type: 'text', nullable: true })
  stagingTable: string | null = null;

  @Property({ type: 'datetime', nullable: true })
  fileReceivedAt: Date | null = null;

  @Property({ type: 'integer' })
  rowsRead: Opt<number> = 0;

  @Property({ type: 'integer' })
  imported: Opt<number> = 0;

  @Property({ type: 'integer' })
  merged: Opt<number> = 0;

  @Property({ type: 'integer' })
  rejected: Opt<number> = 0;

  @Property({ type: 'integer' })
  leadsUpdated: Opt<number> = 0;

  @Property({ type: 'integer' })
  companiesCreated: Opt<number> = 0;
}
