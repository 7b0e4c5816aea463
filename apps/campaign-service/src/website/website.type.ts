import { Directive, Field, ObjectType } from 'type-graphql';

/** content-service owns `Website`; this subgraph knows only its key and adds `campaigns` to it. */
@ObjectType('Website')
@Directive('@key(fields: "url")')
export class WebsiteReference {
  @Field()
  url!: string;
}
