import { Field, InputType, registerEnumType } from 'type-graphql';

export enum LeadMergeRule {
  FILL_EMPTY = 'FILL_EMPTY',
  OVERWRITE = 'OVERWRITE',
}

registerEnumType(LeadMergeRule, {
  name: 'LeadMergeRule',
  description: 'How a row changes a lead that already exists: FILL_EMPTY fills its empty fields only; OVERWRITE replaces a field with every non-empty value of the file.',
});

@InputType({ description: 'A column of the file and the lead field it fills.' })
export class ColumnMappingInput {
  @Field({ description: 'The header as in the file (case and spacing do not matter).' })
  column!: string;

  @Field(() => String, { nullable: true, description: 'A lead field (companyName, website, domain, email, companyEmail, phone, companyPhone, firstName, lastName, fullName, title, linkedinUrl, address, street, city, state, postalCode, country, industry, employeeCount, annualRevenue, notes); null keeps the column as a custom field.' })
  field!: string | null;
}

@InputType()
export class ImportLeadsInput {
  @Field({ description: 'The file name, shown on the import and its list.' })
  fileName!: string;

  @Field(() => String, { nullable: true, description: 'The name of the list the import makes; default: the file name.' })
  listName?: string | null;

  @Field(() => [ColumnMappingInput], { nullable: true, description: 'Columns whose meaning the import states; the others are detected.' })
  columnMapping?: ColumnMappingInput[] | null;

  @Field(() => String, { nullable: true, description: 'The country of rows that name none (ISO 3166 code such as US): their phone numbers are stored in E.164 (+13055550100). Default: only rows with a country (or a US state) get E.164.' })
  country?: string | null;

  @Field(() => LeadMergeRule, { defaultValue: LeadMergeRule.FILL_EMPTY })
  dedupe: LeadMergeRule = LeadMergeRule.FILL_EMPTY;
}
