import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { SignJWT, jwtVerify, exportPKCS8, exportSPKI, generateKeyPair, importPKCS8, importSPKI, errors } from 'jose';
import { callerIdentityKey, callerIdentitySchema, requestIdPattern, type CallerContext, type CallerIdentity } from './caller-context.js';

// EdDSA (Ed25519): asymmetric, so a compromised subgraph can verify callers but never mint them,
// and signing costs tens of microseconds, cheap enough to do for every gateway request.
const algorithm = 'EdDSA';
const issuer = 'gtm-graph-gateway';
const audience = 'gtm-graph-subgraph';

export interface CallerKeyPair {
  privateKeyPem: string;
  publicKeyPem: string;
}

export async function generateCallerKeyPair(): Promise<CallerKeyPair> {
  const { privateKey, publicKey } = await generateKeyPair(algorithm, { crv: 'Ed25519', extractable: true });
  return { privateKeyPem: await exportPKCS8(privateKey), publicKeyPem: await exportSPKI(publicKey) };
}

/**
 * The longest a caller token ever lives (expiry minus issue time): one federated request, or one
 * subscription event's executions. Subgraphs refuse any token meant to live longer, so a token
 * that leaked, or one minted with a stolen key for years, is worth a minute at most.
 */
export const callerTokenMaxLifetimeSeconds = 60;

/**
 * The longest a delegated token ever lives: the gateway gives one, beside the short token, to a
 * subgraph that starts background work for the caller (an enrichment job calling content-service
 * hours later). It is marked as delegated, so only such tokens may live this long.
 */
export const delegatedCallerTokenMaxLifetimeSeconds = 7 * 86_400;

/** Clocks of the gateway and a subgraph may disagree by this much. */
const clockToleranceSeconds = 5;

export interface CallerTokenSignerOptions {
  privateKeyPem: string;
  /**
   * How long a token stays valid, at most `callerTokenMaxLifetimeSeconds` (or
   * `delegatedCallerTokenMaxLifetimeSeconds` for a delegated one). Default: the short maximum.
   */
  ttlSeconds?: number;
  /** Signs delegated tokens for background work, marked so verifiers allow their longer life. Default: false. */
  delegated?: boolean;
}

export interface CallerTokenSigner {
  /** A token naming the caller and the request (its id signed inside). */
  sign(caller: CallerContext): Promise<string>;
  /**
   * A token naming the caller only, without a request id: the reusable kind, which the request id
   * travels beside (`requestIdHeader`).
   */
  signIdentity(caller: CallerIdentity): Promise<string>;
}

export async function createCallerTokenSigner(options: CallerTokenSignerOptions): Promise<CallerTokenSigner> {
  const key = await importPKCS8(options.privateKeyPem, algorithm);
  const ttlSeconds = options.ttlSeconds ?? callerTokenMaxLifetimeSeconds;
  const maximum = options.delegated ? delegatedCallerTokenMaxLifetimeSeconds : callerTokenMaxLifetimeSeconds;
  if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1 || ttlSeconds > maximum) {
    throw new RangeError(`a ${options.delegated ? 'delegated ' : ''}caller token lives 1 to ${maximum} seconds, not ${ttlSeconds}: subgraphs refuse longer ones`);
  }
  const claims = options.delegated ? { delegated: true } : {};
  const signed = (caller: CallerIdentity | CallerContext) =>
    new SignJWT({ caller, ...claims }).setProtectedHeader({ alg: algorithm }).setIssuer(issuer).setAudience(audience).setIssuedAt().setExpirationTime(`${ttlSeconds}s`).sign(key);
  return {
    sign: signed,
    signIdentity: (caller) => signed({ tenantId: caller.tenantId, tenantSlug: caller.tenantSlug, keyId: caller.keyId, tier: caller.tier, scopes: caller.scopes }),
  };
}

export interface CallerIdentityTokensOptions {
  signer: CallerTokenSigner;
  /**
   * How long one token is handed out after it is signed. A token lives
   * `callerTokenMaxLifetimeSeconds`; handing it out for at most that minus the longest operation
   * means every fetch of every operation that got it still carries a live token. 0 signs one per
   * request.
   */
  reuseMs: number;
  /** Identities kept at most; expired ones are dropped first. Default: 10 000. */
  maximumIdentities?: number;
}

export interface CallerIdentityTokens {
  /** The identity's current token: the cached one while it may be handed out, else a new one. */
  tokenFor(caller: CallerIdentity): string | Promise<string>;
}

/**
 * One signed token per caller identity, reused for its lifetime and signed again before it runs
 * out. Requests of the same identity then carry the same token, which is what lets the gateway
 * merge their identical subgraph fetches, and signing drops out of the per-request cost.
 */
export function createCallerIdentityTokens(options: CallerIdentityTokensOptions): CallerIdentityTokens {
  const maximumIdentities = options.maximumIdentities ?? 10_000;
  const tokens = new Map<string, { token: string | Promise<string>; handOutUntil: number }>();

  function makeRoom(now: number): void {
    for (const [key, entry] of tokens) if (entry.handOutUntil <= now) tokens.delete(key);
    // Still full of live identities: the oldest go first (a Map iterates in insertion order).
    for (const key of tokens.keys()) {
      if (tokens.size < maximumIdentities) break;
      tokens.delete(key);
    }
  }

  return {
    tokenFor(caller) {
      if (options.reuseMs <= 0) return options.signer.signIdentity(caller);
      const key = callerIdentityKey(caller);
      const now = performance.now();
      const cached = tokens.get(key);
      if (cached && cached.handOutUntil > now) return cached.token;
      if (!cached && tokens.size >= maximumIdentities) makeRoom(now);
      const signing = options.signer.signIdentity(caller);
      const entry: { token: string | Promise<string>; handOutUntil: number } = { token: signing, handOutUntil: now + options.reuseMs };
      tokens.delete(key);
      tokens.set(key, entry);
      // Later requests get the string itself, without awaiting; a failed signing is not kept.
      signing.then(
        (token) => {
          if (tokens.get(key) === entry) entry.token = token;
        },
        () => {
          if (tokens.get(key) === entry) tokens.delete(key);
        },
      );
      return signing;
    },
  };
}

/** Raised for any token that must not be trusted; the message is safe to log, never to return. */
export class CallerTokenError extends Error {
  override readonly name = 'CallerTokenError';
}

export interface CallerTokenVerifier {
  /**
   * The caller a valid token names. A token signed with a request id keeps it; a reusable identity
   * token takes the request id that came beside it (`requestIdHeader`) when it is well formed, or a
   * new one. The request id only labels logs: the tenant, key, tier and scopes come from the token.
   */
  verify(token: string | undefined, requestId?: string): Promise<CallerContext>;
}

const signedCallerSchema = callerIdentitySchema.extend({ requestId: z.string().min(1).max(128).optional() });

const requestIdOr = (requestId: string | undefined) => (requestId && requestIdPattern.test(requestId) ? requestId : randomUUID());

export async function createCallerTokenVerifier(options: { publicKeyPem: string; maximumRememberedTokens?: number }): Promise<CallerTokenVerifier> {
  const key = await importSPKI(options.publicKeyPem, algorithm);
  // A reusable identity token arrives with request after request: its signature is checked once,
  // and the exact same string is trusted until it expires (every check that depends on the time is
  // folded into `validUntil`); so is a delegated token, which a background job sends with each of
  // its calls. Tokens signed for one request are checked every time.
  const maximumRemembered = options.maximumRememberedTokens ?? 10_000;
  const remembered = new Map<string, { identity: CallerIdentity; requestId?: string; validUntil: number }>();
  const remember = (token: string, identity: CallerIdentity, validUntil: number, requestId?: string) => {
    if (remembered.size >= maximumRemembered) {
      const now = Date.now() / 1000;
      for (const [known, entry] of remembered) if (entry.validUntil <= now) remembered.delete(known);
      for (const known of remembered.keys()) {
        if (remembered.size < maximumRemembered) break;
        remembered.delete(known);
      }
    }
    remembered.set(token, { identity, validUntil, ...(requestId === undefined ? {} : { requestId }) });
  };
  return {
    async verify(token, requestId) {
      if (!token) throw new CallerTokenError('missing caller token');
      const known = remembered.get(token);
      if (known) {
        if (Date.now() / 1000 < known.validUntil) return { ...known.identity, requestId: known.requestId ?? requestIdOr(requestId) };
        remembered.delete(token);
      }
      try {
        // maxTokenAge makes `iat` required and refuses one in the future or older than a lifetime.
        const { payload } = await jwtVerify(token, key, {
          issuer,
          audience,
          algorithms: [algorithm],
          clockTolerance: clockToleranceSeconds,
          maxTokenAge: delegatedCallerTokenMaxLifetimeSeconds,
          requiredClaims: ['exp', 'iat'],
        });
        const maximum = payload['delegated'] === true ? delegatedCallerTokenMaxLifetimeSeconds : callerTokenMaxLifetimeSeconds;
        if (payload.exp! - payload.iat! > maximum + clockToleranceSeconds) {
          throw new CallerTokenError(`caller token lives ${payload.exp! - payload.iat!} s, longer than the ${maximum} s the gateway ever issues`);
        }
        if (Date.now() / 1000 - payload.iat! > maximum + clockToleranceSeconds) throw new CallerTokenError('caller token rejected: ERR_JWT_EXPIRED');
        const parsed = signedCallerSchema.safeParse(payload['caller']);
        if (!parsed.success) throw new CallerTokenError('caller token carries an invalid caller');
        const { requestId: signedRequestId, ...identity } = parsed.data;
        const validUntil = Math.min(payload.exp! + clockToleranceSeconds, payload.iat! + maximum + clockToleranceSeconds);
        if (signedRequestId !== undefined) {
          // A delegated token is one job's, sent with every call the job makes (an enrichment job:
          // one per record, thousands): remembered like an identity token, with its request id.
          if (payload['delegated'] === true) remember(token, identity, validUntil, signedRequestId);
          return { ...identity, requestId: signedRequestId };
        }
        remember(token, identity, validUntil);
        return { ...identity, requestId: requestIdOr(requestId) };
      } catch (error) {
        if (error instanceof CallerTokenError) throw error;
        if (error instanceof errors.JOSEError) throw new CallerTokenError(`caller token rejected: ${error.code}`);
        throw error;
      }
    },
  };
}
