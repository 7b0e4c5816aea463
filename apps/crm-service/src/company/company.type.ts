import { ConnectionType } from '@gtm/runtime';
import { Directive, Field, ID, Int, ObjectType } from 'type-graphql';

@ObjectType('Company', { description: 'An organisation in the CRM: a lead works for one.' })
@Directive('@key(fields: "id")')
export class CompanyType {
  @Field(() => ID)
  id!: string;

  @Field()
  name!: string;

  @Field(() => String, { nullable: true, description: 'Lower-case host without www., unique per tenant.' })
  domain!: string | null;

  @Field(() => String, { nullable: true, description: 'Normalised home page URL; content-service resolves `website` from it.' })
  websiteUrl!: string | null;

  @Field(() => String, { nullable: true })
  industry!: string | null;

  @Field(() => Int, { nullable: true })
  employeeCount!: number | null;

  @Field(() => String, { nullable: true })
  phone!: string | null;

  @Field(() => String, { nullable: true })
  city!: string | null;

  @Field(() => String, { nullable: true })
  region!: string | null;

  @Field(() => String, { nullable: true })
  country!: string | null;

  @Field(() => String, { nullable: true })
  description!: string | null;

  @Field()
  createdAt!: Date;

  @Field()
  updatedAt!: Date;
}

export const CompanyConnection = ConnectionType(CompanyType, 'Company');
