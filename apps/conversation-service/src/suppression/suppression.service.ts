import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@gtm/runtime';
import { Suppression, SuppressionReason } from './suppression.entity.js';

/** The tenant's do-not-mail list: checked before every enrolment and every send. */
export class SuppressionService {
  /** The suppressions among these addresses, by lower-case address. */
  async findAll(em: EntityManager, emails: readonly string[]): Promise<Map<string, Suppression>> {
    const unique = [...new Set(emails.map((email) => email.toLowerCase()))];
    if (unique.length === 0) return new Map();
    const rows = await em.find(Suppression, { email: { $in: unique } });
    return new Map(rows.map((row) => [row.email, row]));
  }

  async find(em: EntityManager, email: string): Promise<Suppression | null> {
    return em.findOne(Suppression, { email: email.toLowerCase() });
  }

  /**
   * Adds an address (in `em`'s transaction); an address already suppressed keeps its first reason,
   * so an unsubscribe is never turned into a mere bounce or the other way round.
   */
  async add(em: EntityManager, tenantId: string, email: string, reason: SuppressionReason, details: { conversationId?: string | null; detail?: string | null } = {}): Promise<void> {
    await em
      .createQueryBuilder(Suppression)
      .insert({ id: randomUUID(), tenantId, email: email.toLowerCase(), reason, conversationId: details.conversationId ?? null, detail: details.detail?.slice(0, 500) ?? null, createdAt: new Date(), updatedAt: new Date() })
      .onConflict(['tenantId', 'email'])
      .ignore()
      .execute();
  }
}
