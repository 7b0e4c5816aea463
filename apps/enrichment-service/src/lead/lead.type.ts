import { Directive, Field, ID, ObjectType } from 'type-graphql';

/** crm-service owns `Lead`; this subgraph knows only its key and adds `enrichment` and `qualification`. */
@ObjectType('Lead')
@Directive('@key(fields: "id")')
export class LeadReference {
  @Field(() => ID)
  id!: string;
}
