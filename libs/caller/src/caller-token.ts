import { SignJWT, jwtVerify, exportPKCS8, exportSPKI, generateKeyPair, importPKCS8, importSPKI, errors } from 'jose';
import { callerContextSchema, type CallerContext } from './caller-context.js';

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
  sign(caller: CallerContext): Promise<string>;
}

export async function createCallerTokenSigner(options: CallerTokenSignerOptions): Promise<CallerTokenSigner> {
  const key = await importPKCS8(options.privateKeyPem, algorithm);
  const ttlSeconds = options.ttlSeconds ?? callerTokenMaxLifetimeSeconds;
  const maximum = options.delegated ? delegatedCallerTokenMaxLifetimeSeconds : callerTokenMaxLifetimeSeconds;
  if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1 || ttlSeconds > maximum) {
    throw new RangeError(`a ${options.delegated ? 'delegated ' : ''}caller token lives 1 to ${maximum} seconds, not ${ttlSeconds}: subgraphs refuse longer ones`);
  }
  const claims = options.delegated ? { delegated: true } : {};
  return {
    sign: (caller) =>
      new SignJWT({ caller, ...claims })
        .setProtectedHeader({ alg: algorithm })
        .setIssuer(issuer)
        .setAudience(audience)
        .setIssuedAt()
        .setExpirationTime(`${ttlSeconds}s`)
        .sign(key),
  };
}

/** Raised for any token that must not be trusted; the message is safe to log, never to return. */
export class CallerTokenError extends Error {
  override readonly name = 'CallerTokenError';
}

export interface CallerTokenVerifier {
  verify(token: string | undefined): Promise<CallerContext>;
}

export async function createCallerTokenVerifier(options: { publicKeyPem: string }): Promise<CallerTokenVerifier> {
  const key = await importSPKI(options.publicKeyPem, algorithm);
  return {
    async verify(token) {
      if (!token) throw new CallerTokenError('missing caller token');
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
        const parsed = callerContextSchema.safeParse(payload['caller']);
        if (!parsed.success) throw new CallerTokenError('caller token carries an invalid caller');
        return parsed.data;
      } catch (error) {
        if (error instanceof CallerTokenError) throw error;
        if (error instanceof errors.JOSEError) throw new CallerTokenError(`caller token rejected: ${error.code}`);
        throw error;
      }
    },
  };
}
