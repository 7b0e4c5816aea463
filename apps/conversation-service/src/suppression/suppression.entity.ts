import { Entity, Enum, Property } from '@mikro-orm/decorators/legacy';
import { TenantScopedEntity } from '@gtm/runtime';
import { registerEnumType } from 'type-graphql';

export enum SuppressionReason {
  UNSUBSCRIBED = 'UNSUBSCRIBED',
  BOUNCED = 'BOUNCED',
  /** Added by a person. */
  MANUAL = 'MANUAL',
}

registerEnumType(SuppressionReason, { name: 'SuppressionReason', description: 'Why an address is never mailed again.' });

/** An address this tenant never sends to again. */
@Entity({ tableName: 'suppression' })
export class Suppression extends TenantScopedEntity {
  /** Lower-case. */
  @Property({ type: 'text' })
  email!: string;

  @Enum({ items: () => SuppressionReason, nativeEnumName: undefined })
  reason!: SuppressionReason;

  @Property({ type: 'uuid', nullable: true })
  conversationId: string | null = null;

  @Property({ type: 'text', nullable: true })
  detail: string | null = null;
}
