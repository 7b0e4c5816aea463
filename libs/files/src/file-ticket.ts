import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createSecretBox } from '@gtm/secrets';
import { z } from 'zod';

/**
 * What a file ticket grants: one transfer of one file, for one tenant, to or from one service's
 * handler for one purpose and resource. The gateway and the owning service both verify it.
 */
export interface FileTicketClaims {
  /** Random id: the single-use record of an upload is kept under it. */
  id: string;
  kind: 'upload' | 'download';
  /** The owning service, as the gateway names its subgraphs (`crm`, `enrichment` …). */
  service: string;
  /** What the file is for; selects the service's handler (`lead-import`, `lead-list-export` …). */
  purpose: string;
  /** The resource the file belongs to (a LeadImport's id …). */
  resourceId: string;
  tenantId: string;
  /** When the ticket stops working, in seconds since the epoch. */
  expiresAt: number;
  /** Upload only: the media types accepted (`text/csv` …); empty accepts any. */
  contentTypes: string[];
  /** Upload only: the largest file accepted, in bytes, when smaller than the gateway's limit. */
  maxBytes: number | null;
}

export type FileTicketFailure = 'MALFORMED' | 'ALTERED' | 'EXPIRED';

/** A ticket that must not be honoured; `reason` says why (the gateway answers 401 or 410). */
export class FileTicketError extends Error {
  override readonly name = 'FileTicketError';
  readonly isRetryable = false;
  constructor(
    readonly reason: FileTicketFailure,
    message: string,
  ) {
    super(message);
  }
}

const version = 'f1';
const namePattern = /^[a-z][a-z0-9-]{0,62}$/;

// Short keys: the ticket travels in a URL path.
const wireSchema = z.object({
  i: z.string().regex(/^[A-Za-z0-9_-]{22}$/),
  k: z.enum(['u', 'd']),
  s: z.string().regex(namePattern),
  p: z.string().regex(namePattern),
  r: z.string().min(1).max(200),
  t: z.uuid(),
  e: z.number().int().positive(),
  c: z.array(z.string().max(100)).max(20).optional(),
  m: z.number().int().positive().optional(),
});

export interface IssueFileTicketInput {
  /** The tenant the file belongs to: the caller's, never one taken from input. */
  tenantId: string;
  service: string;
  purpose: string;
  resourceId: string;
  /** How long the ticket works. Default: 15 minutes for an upload, 1 hour for a download. */
  ttlSeconds?: number;
  /** Upload only: accepted media types. Default: `text/csv` and the types spreadsheets send for it. */
  contentTypes?: string[];
  /** Upload only: the largest file accepted, when lower than the gateway's `FILE_MAX_BYTES`. */
  maxBytes?: number;
}

export interface IssuedFileTicket {
  /** The opaque ticket, safe in a URL path segment. */
  ticket: string;
  claims: FileTicketClaims;
  expiresAt: Date;
}

export interface FileTickets {
  issueUpload(input: IssueFileTicketInput): IssuedFileTicket;
  issueDownload(input: Omit<IssueFileTicketInput, 'contentTypes' | 'maxBytes'>): IssuedFileTicket;
  /** The claims of an authentic, unexpired ticket; throws FileTicketError otherwise. */
  verify(ticket: string): FileTicketClaims;
  /**
   * The claims of an authentic ticket, expired or not (throws for a malformed or altered one), for
   * a check that must come before expiry: another tenant's expired ticket is refused as another
   * tenant's, not as expired.
   */
  inspect(ticket: string): FileTicketClaims;
}

export interface FileTicketsSettings {
  /**
   * `SECRETS_KEY` (one or more base64 32-byte keys, comma-separated). Tickets are signed with an
   * HMAC key derived from the first (libs/secrets `deriveKey('file-tickets')`) and verified against
   * keys derived from each, so a rotation does not break tickets issued just before it.
   */
  secretsKey: string;
  /** The clock, in milliseconds. Default: `Date.now`. */
  now?: () => number;
}

/** What browsers and spreadsheets send for a CSV file (Windows maps .csv to the Excel type). */
export const csvContentTypes = ['text/csv', 'application/csv', 'text/plain', 'application/vnd.ms-excel'];

export const defaultUploadTtlSeconds = 15 * 60;
export const defaultDownloadTtlSeconds = 60 * 60;

function sign(key: Buffer, payload: string): Buffer {
  return createHmac('sha256', key).update(`${version}.${payload}`).digest();
}

export function createFileTickets(settings: FileTicketsSettings): FileTickets {
  const now = settings.now ?? Date.now;
  const keys = settings.secretsKey
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
    .map((key) => createSecretBox({ keys: key }).deriveKey('file-tickets'));
  if (keys.length === 0) throw new Error('file tickets need SECRETS_KEY');

  const issue = (kind: 'upload' | 'download', input: IssueFileTicketInput, defaultTtl: number): IssuedFileTicket => {
    for (const [name, value] of [['service', input.service], ['purpose', input.purpose]] as const) {
      if (!namePattern.test(value)) throw new Error(`a file ticket's ${name} must be lower-case letters, digits and dashes, got "${value}"`);
    }
    const ttlSeconds = input.ttlSeconds ?? defaultTtl;
    const expiresAt = Math.floor(now() / 1000) + ttlSeconds;
    const wire: z.infer<typeof wireSchema> = {
      i: randomBytes(16).toString('base64url'),
      k: kind === 'upload' ? 'u' : 'd',
      s: input.service,
      p: input.purpose,
      r: input.resourceId,
      t: input.tenantId,
      e: expiresAt,
      ...(kind === 'upload' ? { c: (input.contentTypes ?? csvContentTypes).map((type) => type.toLowerCase()) } : {}),
      ...(kind === 'upload' && input.maxBytes ? { m: input.maxBytes } : {}),
    };
    const parsed = wireSchema.parse(wire);
    const payload = Buffer.from(JSON.stringify(parsed)).toString('base64url');
    const ticket = `${version}.${payload}.${sign(keys[0]!, payload).toString('base64url')}`;
    return { ticket, claims: claimsOf(parsed), expiresAt: new Date(expiresAt * 1000) };
  };

  return {
    issueUpload: (input) => issue('upload', input, defaultUploadTtlSeconds),
    issueDownload: (input) => issue('download', input, defaultDownloadTtlSeconds),
    verify(ticket) {
      const claims = inspect(ticket);
      if (claims.expiresAt * 1000 <= now()) {
        throw new FileTicketError('EXPIRED', `This file link expired at ${new Date(claims.expiresAt * 1000).toISOString()}; request a new one from the API.`);
      }
      return claims;
    },
    inspect,
  };

  function inspect(ticket: string): FileTicketClaims {
    const parts = ticket.split('.');
    if (parts.length !== 3 || parts[0] !== version || parts[1]!.length > 2048) {
      throw new FileTicketError('MALFORMED', 'This file link is not a valid GTM Graph file link; copy the whole URL from the API response.');
    }
    const [, payload, signatureText] = parts as [string, string, string];
    const signature = Buffer.from(signatureText, 'base64url');
    const authentic = keys.some((key) => {
      const expected = sign(key, payload);
      return signature.length === expected.length && timingSafeEqual(signature, expected);
    });
    if (!authentic) throw new FileTicketError('ALTERED', 'This file link was altered or was not issued by this deployment; request a new one from the API.');
    let wire: z.infer<typeof wireSchema>;
    try {
      wire = wireSchema.parse(JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')));
    } catch {
      throw new FileTicketError('MALFORMED', 'This file link is not a valid GTM Graph file link; copy the whole URL from the API response.');
    }
    return claimsOf(wire);
  }
}

function claimsOf(wire: z.infer<typeof wireSchema>): FileTicketClaims {
  return {
    id: wire.i,
    kind: wire.k === 'u' ? 'upload' : 'download',
    service: wire.s,
    purpose: wire.p,
    resourceId: wire.r,
    tenantId: wire.t,
    expiresAt: wire.e,
    contentTypes: wire.c ?? [],
    maxBytes: wire.m ?? null,
  };
}

/**
 * The gateway route a ticket is used at: `<publicUrl>/files/<service>/<ticket>`. Without a public
 * origin (a context built outside a client's request) the path alone, which a client resolves
 * against the gateway it called.
 */
export function fileUrl(publicUrl: string | undefined, issued: IssuedFileTicket): string {
  return `${(publicUrl ?? '').replace(/\/+$/, '')}/files/${issued.claims.service}/${issued.ticket}`;
}
