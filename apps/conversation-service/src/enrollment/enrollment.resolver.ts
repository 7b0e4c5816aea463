import type { SubgraphContext } from '@gtm/runtime';
import { Arg, Ctx, ID, Int, Mutation, Query, Resolver } from 'type-graphql';
import { ConversationType } from '../conversation/conversation.type.js';
import type { Conversation } from '../conversation/conversation.entity.js';
import type { ConversationLoaders } from '../loaders.js';
import { EnrollLeadsInput } from './enrollment.input.js';
import type { EnrollmentService } from './enrollment.service.js';
import { EnrollmentType } from './enrollment.type.js';

type ConversationContext = SubgraphContext<ConversationLoaders>;

@Resolver(() => EnrollmentType)
export class EnrollmentResolver {
  constructor(private readonly enrollmentService: EnrollmentService) {}

  @Mutation(() => [ConversationType], {
    description:
      'Puts leads into a campaign’s email sequence from a mailbox; returns the conversations started. Leads without an address, suppressed, or already in an open conversation are skipped: see each conversation’s `enrollment.skipped`, or `enrollments(campaignId)`.',
  })
  async enrollLeads(@Arg('input', () => EnrollLeadsInput) input: EnrollLeadsInput, @Ctx() context: ConversationContext): Promise<Conversation[]> {
    return (await this.enrollmentService.enroll(context, input)).conversations;
  }

  @Query(() => EnrollmentType, { nullable: true, description: 'An enrolment of your tenant, or null.' })
  async enrollment(@Arg('id', () => ID) id: string, @Ctx() context: ConversationContext): Promise<EnrollmentType | null> {
    const enrollment = await context.loaders.enrollmentById.load(id);
    return enrollment && this.enrollmentService.toType(enrollment);
  }

  @Query(() => [EnrollmentType], { description: 'Enrolments, newest first: what each enrolled and skipped.' })
  async enrollments(
    @Arg('campaignId', () => ID, { nullable: true }) campaignId: string | undefined,
    @Arg('first', () => Int, { defaultValue: 20 }) first: number,
    @Ctx() context: ConversationContext,
  ): Promise<EnrollmentType[]> {
    return (await this.enrollmentService.list(context, campaignId ?? null, first)).map((enrollment) => this.enrollmentService.toType(enrollment));
  }
}
