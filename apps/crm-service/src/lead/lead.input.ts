import { Field, ID, InputType } from 'type-graphql';
import { LeadStatus } from './lead.entity.js';

@InputType()
export class CreateLeadInput {
  @Field(() => String, { nullable: true })
  firstName?: string | null;

  @Field(() => String, { nullable: true })
  lastName?: string | null;

  @Field(() => String, { nullable: true, description: 'Unique per tenant (case-insensitive).' })
  email?: string | null;

  @Field(() => String, { nullable: true })
  phone?: string | null;

  @Field(() => String, { nullable: true })
  title?: string | null;

  @Field(() => ID, { nullable: true })
  companyId?: string | null;

  @Field(() => LeadStatus, { nullable: true })
  status?: LeadStatus | null;

  @Field(() => String, { nullable: true, description: 'Default: manual.' })
  source?: string | null;

  @Field(() => String, { nullable: true })
  notes?: string | null;
}

@InputType({ description: 'Fields to change; an omitted field stays as it is, null clears it.' })
export class UpdateLeadInput {
  @Field(() => String, { nullable: true })
  firstName?: string | null;

  @Field(() => String, { nullable: true })
  lastName?: string | null;

  @Field(() => String, { nullable: true })
  email?: string | null;

  @Field(() => String, { nullable: true })
  phone?: string | null;

  @Field(() => String, { nullable: true })
  title?: string | null;

  @Field(() => ID, { nullable: true })
  companyId?: string | null;

  @Field(() => LeadStatus, { nullable: true })
  status?: LeadStatus | null;

  @Field(() => String, { nullable: true })
  notes?: string | null;
}

@InputType()
export class LeadFilter {
  @Field(() => String, { nullable: true, description: 'Case-insensitive match on name, email, title or company name.' })
  search?: string | null;

  @Field(() => [LeadStatus], { nullable: true })
  status?: LeadStatus[] | null;

  @Field(() => ID, { nullable: true })
  companyId?: string | null;

  @Field(() => String, { nullable: true })
  source?: string | null;
}
