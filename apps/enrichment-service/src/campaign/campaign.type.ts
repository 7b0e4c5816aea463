import { Directive, Field, ID, ObjectType, registerEnumType } from 'type-graphql';

// campaign-service owns `Campaign` and its targeting assets; this subgraph adds `enrichmentPlan`,
// computed from the targeting fields it `@requires`. It declares only those fields, all @external
// (resolved by campaign-service, never here), on stub types of the same names and shapes, and
// the enums they use with campaign-service's values.

/** campaign-service's `BuyingSignalType`: kinds of event that suggest a company is ready to buy now. */
export enum BuyingSignalKind {
  HIRING = 'HIRING',
  FUNDING = 'FUNDING',
  GROWTH = 'GROWTH',
  LEADERSHIP_CHANGE = 'LEADERSHIP_CHANGE',
  TECHNOLOGY = 'TECHNOLOGY',
  PAIN_POINT = 'PAIN_POINT',
  COMPLIANCE = 'COMPLIANCE',
  INTENT = 'INTENT',
  OTHER = 'OTHER',
}
registerEnumType(BuyingSignalKind, { name: 'BuyingSignalType', description: 'Kinds of event that suggest a company is ready to buy now.' });

/** campaign-service's `SignalPriority`. */
export enum SignalPriority {
  HIGH = 'HIGH',
  MEDIUM = 'MEDIUM',
  LOW = 'LOW',
}
registerEnumType(SignalPriority, { name: 'SignalPriority', description: 'How strongly a buying signal predicts a purchase.' });

/** campaign-service's `SeniorityLevel`. */
export enum SeniorityLevel {
  OWNER = 'OWNER',
  C_LEVEL = 'C_LEVEL',
  VP = 'VP',
  DIRECTOR = 'DIRECTOR',
  MANAGER = 'MANAGER',
  INDIVIDUAL_CONTRIBUTOR = 'INDIVIDUAL_CONTRIBUTOR',
}
registerEnumType(SeniorityLevel, { name: 'SeniorityLevel', description: 'Seniority levels, coarse enough that every data source maps its own onto them.' });

@ObjectType('Firmographics')
export class FirmographicsReference {
  @Field(() => [String])
  @Directive('@external')
  industries!: string[];

  @Field(() => String, { nullable: true })
  @Directive('@external')
  employeeRange!: string | null;

  @Field(() => String, { nullable: true })
  @Directive('@external')
  revenueRange!: string | null;

  @Field(() => [String])
  @Directive('@external')
  geographies!: string[];

  @Field(() => String, { nullable: true })
  @Directive('@external')
  businessModel!: string | null;

  @Field(() => String, { nullable: true })
  @Directive('@external')
  fundingStage!: string | null;

  @Field(() => [String])
  @Directive('@external')
  keywords!: string[];
}

@ObjectType('BuyingSignal')
export class BuyingSignalReference {
  @Field(() => BuyingSignalKind)
  @Directive('@external')
  type!: BuyingSignalKind;

  @Field(() => SignalPriority)
  @Directive('@external')
  priority!: SignalPriority;
}

@ObjectType('TargetCompany')
export class TargetCompanyReference {
  @Field(() => FirmographicsReference)
  @Directive('@external')
  firmographics!: FirmographicsReference;

  @Field(() => [BuyingSignalReference])
  @Directive('@external')
  buyingSignals!: BuyingSignalReference[];
}

@ObjectType('TargetPersona')
export class TargetPersonaReference {
  @Field(() => [String])
  @Directive('@external')
  jobTitles!: string[];

  @Field(() => [String])
  @Directive('@external')
  departments!: string[];

  @Field(() => [SeniorityLevel])
  @Directive('@external')
  seniority!: SeniorityLevel[];
}

/** A campaign as the gateway hands it over: its key and the targeting `enrichmentPlan` requires. */
@ObjectType('Campaign')
@Directive('@key(fields: "id")')
export class CampaignTargetingReference {
  @Field(() => ID)
  id!: string;

  @Field(() => TargetCompanyReference, { nullable: true })
  @Directive('@external')
  targetCompany?: TargetCompanyReference | null;

  @Field(() => TargetPersonaReference, { nullable: true })
  @Directive('@external')
  targetPersona?: TargetPersonaReference | null;
}
