// What enrichment-service publishes about leads it enriched: the contract between it and the
// services that keep leads (crm-service fills a lead's empty fields from it). A change consumers
// could not read is a new version.
import { z } from 'zod';
import { defineEvent } from '../event-definition.js';

const text = z.string().max(2_000).nullable();
const contact = z.object({ name: z.string().max(300), title: text, email: text, phone: text, linkedinUrl: text, source: z.string().max(2_000) });

/**
 * A record of an enrichment job that came from a lead (a job over a lead list) was enriched, fully
 * or in part. The entity is the lead. Everything is what enrichment found; a consumer decides what
 * of it to keep (crm-service fills only what the lead does not already say).
 */
export const enrichmentRecordCompleted = defineEvent({
  name: 'enrichment.record_completed',
  version: 1,
  entityType: 'Lead',
  schema: z.object({
    jobId: z.uuid(),
    recordId: z.uuid(),
    status: z.enum(['ENRICHED', 'PARTIAL']),
    companyName: text,
    /** The company's website, normalised (`https://example.com`). */
    website: text,
    domain: text,
    /** The first contact found (owner or executive first), with the page it came from. */
    contact: contact.nullable(),
    /**
     * The best-ranked contacts found, `contact` first (at most three). Optional, so events published
     * before it was added still read: a consumer falls back on `contact`.
     */
    contacts: z.array(contact).max(3).optional(),
    qualification: z.object({ score: z.number().int().min(0).max(100), tier: z.enum(['A', 'B', 'C', 'D']), reasoning: z.string().max(5_000) }).nullable(),
  }),
});
