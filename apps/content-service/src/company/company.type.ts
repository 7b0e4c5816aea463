import { Directive, Field, ID, ObjectType } from 'type-graphql';

/**
 * crm-service owns `Company`; this subgraph knows its key and, through `@requires`, its
 * `websiteUrl`, from which it adds `website`.
 */
@ObjectType('Company')
@Directive('@key(fields: "id")')
export class CompanyReference {
  @Field(() => ID)
  id!: string;

  @Field(() => String, { nullable: true })
  @Directive('@external')
  websiteUrl!: string | null;
}
