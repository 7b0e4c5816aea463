import { fileUrl, type FileTickets, type IssueFileTicketInput } from './file-ticket.js';

/** What a resolver's context gives a link: the caller (its tenant) and the gateway's public origin. */
export interface FileLinkContext {
  caller: { tenantId: string };
  /** `SubgraphContext.publicUrl`. */
  publicUrl?: string;
}

export interface FileLink {
  url: string;
  expiresAt: Date;
  /** The ticket's id (the single-use record is kept under it); never the ticket itself. */
  ticketId: string;
}

/**
 * An upload link for a mutation's answer, bound to the caller's tenant (never one from input):
 * `uploadLink(tickets, context, { service: 'crm', purpose: 'lead-import', resourceId })`.
 */
export function uploadLink(tickets: FileTickets, context: FileLinkContext, input: Omit<IssueFileTicketInput, 'tenantId'>): FileLink {
  const issued = tickets.issueUpload({ ...input, tenantId: context.caller.tenantId });
  return { url: fileUrl(context.publicUrl, issued), expiresAt: issued.expiresAt, ticketId: issued.claims.id };
}

/** A download link for a file result, bound to the caller's tenant, reusable until it expires. */
export function downloadLink(tickets: FileTickets, context: FileLinkContext, input: Omit<IssueFileTicketInput, 'tenantId' | 'contentTypes' | 'maxBytes'>): FileLink {
  const issued = tickets.issueDownload({ ...input, tenantId: context.caller.tenantId });
  return { url: fileUrl(context.publicUrl, issued), expiresAt: issued.expiresAt, ticketId: issued.claims.id };
}
