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

/** The request header that carries the signed caller token from the gateway to a subgraph. */
export const callerTokenHeader = 'x-gtm-caller';

/**
 * The request header that carries a longer-lived caller token on a mutation sent to a subgraph
 * that starts background work on the caller's behalf (an enrichment job calling content-service
 * minutes later, when the request's own token has expired). Same caller, same signature, only a
 * longer life; the gateway alone mints it, and only for the subgraphs it is configured to trust.
 */
export const callerDelegationHeader = 'x-gtm-caller-delegation';
