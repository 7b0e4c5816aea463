import { z } from 'zod';

export const tiers = ['free', 'pro', 'enterprise'] as const;
export type Tier = (typeof tiers)[number];

export const scopes = ['read', 'write', 'admin'] as const;
export type Scope = (typeof scopes)[number];

/**
 * Who is calling, as established by the gateway. Subgraphs never see an API key: they see this,
 * carried in a short-lived token that only the gateway can mint.
 */
export const callerContextSchema = z.object({
  tenantId: z.uuid(),
  tenantSlug: z.string().min(1).max(64),
  /** The API key's id, or null for the development tenant used before API keys exist. */
  keyId: z.string().min(1).max(64).nullable(),
  tier: z.enum(tiers),
  scopes: z.array(z.enum(scopes)),
  requestId: z.string().min(1).max(128),
});

export type CallerContext = z.infer<typeof callerContextSchema>;

/**
 * Who is calling, without which request: what a reusable caller token signs. Two requests of the
 * same identity may share one token and one in-flight subgraph fetch; two identities never do.
 */
export const callerIdentitySchema = callerContextSchema.omit({ requestId: true });

export type CallerIdentity = z.infer<typeof callerIdentitySchema>;

/**
 * One string per identity: the tenant, the key, its tier and its scopes (in a fixed order), so a
 * key whose tier or scopes change is a new identity the moment the gateway sees the change.
 */
export function callerIdentityKey(caller: CallerIdentity): string {
  return `${caller.tenantId}|${caller.keyId ?? ''}|${caller.tier}|${caller.scopes.toSorted().join(',')}`;
}

/**
 * The request header that carries the request id beside a reusable caller token, for logs and
 * tracing only: it names the request, it never decides who is calling or what they may see.
 */
export const requestIdHeader = 'x-request-id';

/** A request id safe to log and echo. */
export const requestIdPattern = /^[A-Za-z0-9._-]{1,128}$/;

/** The request header that carries the signed caller token from the gateway to a subgraph. */
export const callerTokenHeader = 'x-gtm-caller';

/**
 * The request header that carries a longer-lived caller token on a mutation sent to a subgraph
 * that starts background work on the caller's behalf (an enrichment job calling content-service
 * minutes later, when the request's own token has expired). Same caller, same signature, only a
 * longer life; the gateway alone mints it, and only for the subgraphs it is configured to trust.
 */
export const callerDelegationHeader = 'x-gtm-caller-delegation';
