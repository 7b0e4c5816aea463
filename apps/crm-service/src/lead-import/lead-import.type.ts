import { JobStatus } from '@gtm/jobs';
import { Directive, Field, ID, Int, ObjectType } from 'type-graphql';

@ObjectType('ColumnMapping', { description: 'What one column of an imported file became.' })
export class ColumnMappingType {
  @Field({ description: 'The column header as in the file.' })
  column!: string;

  @Field(() => String, { nullable: true, description: 'The lead field it fills (companyName, email, phone …); null: kept on each lead as a custom field.' })
  field!: string | null;

  @Field({ description: '0–1: how sure the detection was; 1 when the import named the field.' })
  confidence!: number;
}

@ObjectType('ImportRowError', { description: 'A row the import refused, and why.' })
export class ImportRowErrorType {
  @Field(() => Int, { description: '1 = the first data row after the header.' })
  row!: number;

  @Field(() => String, { nullable: true, description: 'The column at fault; null when the row as a whole is.' })
  column!: string | null;

  @Field()
  message!: string;
}

@ObjectType('LeadImport', { description: 'A CSV import of leads. It is a job: `jobProgress(jobId: <its id>)` follows it; send the file to `uploadUrl` (HTTP PUT, text/csv).' })
@Directive('@key(fields: "id")')
export class LeadImportType {
  @Field(() => ID)
  id!: string;

  @Field(() => JobStatus)
  status!: JobStatus;

  @Field()
  fileName!: string;

  @Field(() => String, { nullable: true, description: 'Where to PUT the file; null once the file arrived (or the import ended).' })
  uploadUrl!: string | null;

  @Field(() => [ColumnMappingType], { description: 'What each column became (detected, or as the import said); empty until the file arrives.' })
  columnMapping!: ColumnMappingType[];

  @Field(() => Int, { description: 'Rows read = imported + merged + rejected.' })
  total!: number;

  @Field(() => Int, { description: 'New leads.' })
  imported!: number;

  @Field(() => Int, { description: 'Rows that went into a lead that already existed or that another row of the file made.' })
  merged!: number;

  @Field(() => Int, { description: 'Rows refused; see errors.' })
  rejected!: number;

  @Field(() => Int, { description: 'Existing leads whose fields the import changed (0 when a file is imported again).' })
  leadsUpdated!: number;

  @Field(() => String, { nullable: true })
  message!: string | null;

  @Field()
  createdAt!: Date;

  @Field(() => Date, { nullable: true })
  finishedAt!: Date | null;
}
