import { ConnectionType } from '@gtm/runtime';
import { Directive, Field, ID, ObjectType, registerEnumType } from 'type-graphql';
import { LeadStatus } from './lead.entity.js';

registerEnumType(LeadStatus, { name: 'LeadStatus', description: 'Where a lead stands in the funnel.' });

@ObjectType('CustomField', { description: 'A value a lead carries that maps to none of its fields: a column of an imported file, by its header.' })
export class CustomFieldType {
  @Field({ description: "The column's header." })
  name!: string;

  @Field()
  value!: string;
}

@ObjectType('Lead', { description: 'A person the team sells to.' })
@Directive('@key(fields: "id")')
export class LeadType {
  @Field(() => ID)
  id!: string;

  @Field(() => String, { nullable: true })
  firstName!: string | null;

  @Field(() => String, { nullable: true })
  lastName!: string | null;

  @Field(() => String, { nullable: true })
  email!: string | null;

  @Field(() => String, { nullable: true })
  phone!: string | null;

  @Field(() => String, { nullable: true })
  title!: string | null;

  @Field(() => LeadStatus)
  status!: LeadStatus;

  @Field()
  source!: string;

  @Field(() => String, { nullable: true })
  notes!: string | null;

  @Field()
  createdAt!: Date;

  @Field()
  updatedAt!: Date;
}

export const LeadConnection = ConnectionType(LeadType, 'Lead');
