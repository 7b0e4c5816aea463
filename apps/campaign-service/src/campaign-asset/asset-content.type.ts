import { graphqlEnumOf } from '@gtm/runtime';
import { Field, Int, ObjectType, registerEnumType } from 'type-graphql';
import { buyingRoles, buyingSignalTypes, emailPurposes, priorities, seniorityLevels } from '../assets/index.js';

// The five assets as GraphQL types, field for field the zod schemas of assets/asset-schemas.ts
// (API.md names). Their `sources` are not repeated here: AssetStatus.sources carries them.
// The enums are the schemas' closed lists; another subgraph reading these fields (enrichment's
// @requires) declares the same enums.

export const BuyingSignalTypeEnum = graphqlEnumOf(buyingSignalTypes);
registerEnumType(BuyingSignalTypeEnum, { name: 'BuyingSignalType', description: 'Kinds of event that suggest a company is ready to buy now.' });
export const SignalPriorityEnum = graphqlEnumOf(priorities);
registerEnumType(SignalPriorityEnum, { name: 'SignalPriority', description: 'How strongly a buying signal predicts a purchase.' });
export const SeniorityLevelEnum = graphqlEnumOf(seniorityLevels);
registerEnumType(SeniorityLevelEnum, { name: 'SeniorityLevel', description: 'Seniority levels, coarse enough that every data source maps its own onto them.' });
export const BuyingRoleEnum = graphqlEnumOf(buyingRoles);
registerEnumType(BuyingRoleEnum, { name: 'BuyingRole', description: 'The parts a person plays in a purchase.' });
export const EmailPurposeEnum = graphqlEnumOf(emailPurposes);
registerEnumType(EmailPurposeEnum, { name: 'EmailPurpose', description: 'Why an email is in the sequence.' });

@ObjectType('ProductOverview', { description: 'What the company sells, grounded in its website.' })
export class ProductOverviewType {
  @Field()
  companyName!: string;

  @Field({ description: 'What the product does and for whom.' })
  description!: string;

  @Field(() => [String])
  keyFeatures!: string[];

  @Field(() => [String])
  useCases!: string[];

  @Field(() => [String], { description: 'The problems the website says it solves.' })
  painPoints!: string[];

  @Field(() => [String], { description: 'Segments, roles or named customers the website mentions.' })
  customerProfiles!: string[];

  @Field(() => [String])
  differentiators!: string[];

  @Field({ description: 'As the website states it; "Not stated on the website." when it does not.' })
  pricing!: string;
}

@ObjectType('Firmographics', { description: 'Filters that find the target companies.' })
export class FirmographicsType {
  @Field(() => [String])
  industries!: string[];

  @Field(() => String, { nullable: true, description: 'Company size in employees, e.g. "11-200".' })
  employeeRange!: string | null;

  @Field(() => String, { nullable: true, description: 'Annual revenue, e.g. "$1M-$20M".' })
  revenueRange!: string | null;

  @Field(() => [String])
  geographies!: string[];

  @Field(() => String, { nullable: true, description: 'e.g. "B2B SaaS", "Marketplace".' })
  businessModel!: string | null;

  @Field(() => String, { nullable: true, description: 'e.g. "Seed to Series B".' })
  fundingStage!: string | null;

  @Field(() => [String], { description: 'Words to find such companies with in a company database.' })
  keywords!: string[];
}

@ObjectType('BuyingSignal', { description: 'An event that suggests a company is ready to buy now.' })
export class BuyingSignalType {
  @Field()
  title!: string;

  @Field()
  description!: string;

  @Field(() => BuyingSignalTypeEnum)
  type!: string;

  @Field(() => SignalPriorityEnum)
  priority!: string;

  @Field({ description: 'Where and how to detect it.' })
  detectionMethod!: string;
}

@ObjectType('TargetCompany', { description: 'The companies to target.' })
export class TargetCompanyType {
  @Field({ description: 'A short name for the segment.' })
  name!: string;

  @Field()
  description!: string;

  @Field(() => FirmographicsType)
  firmographics!: FirmographicsType;

  @Field(() => [BuyingSignalType])
  buyingSignals!: BuyingSignalType[];

  @Field(() => [String], { description: 'What rules a company out.' })
  disqualifiers!: string[];

  @Field({ description: 'Why this segment.' })
  rationale!: string;
}

@ObjectType('PersonaUseCase', { description: 'What the persona uses the product for, and why.' })
export class PersonaUseCaseType {
  @Field()
  useCase!: string;

  @Field(() => [String])
  painPoints!: string[];

  @Field({ description: 'The feature that answers it.' })
  capability!: string;

  @Field()
  desiredOutcome!: string;
}

@ObjectType('TargetPersona', { description: 'The person to write to.' })
export class TargetPersonaType {
  @Field()
  name!: string;

  @Field()
  description!: string;

  @Field(() => [String])
  jobTitles!: string[];

  @Field(() => [String])
  departments!: string[];

  @Field(() => [SeniorityLevelEnum], { description: 'Most senior first.' })
  seniority!: string[];

  @Field(() => [BuyingRoleEnum])
  buyingRoles!: string[];

  @Field(() => [PersonaUseCaseType])
  useCases!: PersonaUseCaseType[];

  @Field(() => [String])
  goals!: string[];

  @Field(() => [String])
  objections!: string[];

  @Field(() => [String], { description: 'What this person does or says when ready to buy.' })
  buyingSignals!: string[];

  @Field(() => [String], { description: 'The steps from first contact to purchase, in order.' })
  purchaseJourney!: string[];
}

@ObjectType('ValueProposition', { description: 'A value to lead with.' })
export class ValuePropositionType {
  @Field()
  theme!: string;

  @Field()
  description!: string;

  @Field({ description: 'A result, number or customer quote that backs it.' })
  evidence!: string;
}

@ObjectType('Positioning', { description: 'How to position the product to the persona.' })
export class PositioningType {
  @Field({ description: 'The belief about the market the positioning rests on.' })
  uniqueInsight!: string;

  @Field(() => [ValuePropositionType], { description: 'Strongest first.' })
  valuePropositions!: ValuePropositionType[];

  @Field(() => [String])
  differentiators!: string[];

  @Field(() => [String], { description: 'What buyers do instead: competitors, in-house work, the status quo.' })
  competitiveAlternatives!: string[];
}

@ObjectType('SequenceEmail', { description: 'One email of an outbound sequence.' })
export class SequenceEmailType {
  @Field(() => Int, { description: 'Position in the sequence, from 1.' })
  step!: number;

  @Field(() => Int, { description: 'Days to wait after the previous email (0 for the first).' })
  delayDays!: number;

  @Field()
  subject!: string;

  @Field(() => [String])
  subjectAlternatives!: string[];

  @Field({ description: 'Plain text; may use {{firstName}}, {{company}}, {{senderName}}.' })
  body!: string;

  @Field(() => EmailPurposeEnum)
  purpose!: string;
}

@ObjectType('EmailSequence', { description: 'An outbound email sequence to the persona.' })
export class EmailSequenceType {
  @Field(() => [SequenceEmailType], { description: 'In sending order.' })
  emails!: SequenceEmailType[];
}
