import { ConnectionType } from '@gtm/runtime';
import { Directive, Field, ID, ObjectType, registerEnumType } from 'type-graphql';

export enum ExportFormat {
  CSV = 'CSV',
}

registerEnumType(ExportFormat, { name: 'ExportFormat', description: 'The format of an exported file.' });

@ObjectType('LeadList', { description: 'A named set of leads: what an import brought in, or a list made by hand.' })
@Directive('@key(fields: "id")')
export class LeadListType {
  @Field(() => ID)
  id!: string;

  @Field()
  name!: string;

  @Field(() => ID, { nullable: true, description: 'The import that made it.' })
  importId!: string | null;

  @Field()
  createdAt!: Date;
}

export const LeadListConnection = ConnectionType(LeadListType, 'LeadList');
