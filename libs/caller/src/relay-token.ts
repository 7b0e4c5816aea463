import { createHash } from 'node:crypto';
import { SignJWT, errors, importPKCS8, importSPKI, jwtVerify } from 'jose';
import { CallerTokenError } from './caller-token.js';

// Same key pair and algorithm as the caller token, another audience: a relay token never passes
// for a caller token, nor the other way round.
const algorithm = 'EdDSA';
const issuer = 'gtm-graph-gateway';
const audience = 'gtm-graph-relay';

/** The request header that carries the relay token from the gateway to a service. */
export const relayTokenHeader = 'x-gtm-relay';

/**
 * What the gateway vouches for when it relays a request no API key signs (a provider's webhook):
 * that it came through the gateway's public route, to this path, with this body. Whoever sent it
 * is the receiving service's to check (the provider's own signature).
 */
export interface RelayClaims {
  /** The path and query the gateway received. */
  path: string;
  /** Hex SHA-256 of the body, so the body cannot be swapped under the token. */
  bodySha256: string;
  requestId: string;
}

export function sha256Hex(body: Buffer): string {
  return createHash('sha256').update(body).digest('hex');
}

export async function createRelayTokenSigner(options: { privateKeyPem: string; ttlSeconds?: number }) {
  const key = await importPKCS8(options.privateKeyPem, algorithm);
  const ttlSeconds = options.ttlSeconds ?? 60;
  return {
    sign: (claims: RelayClaims) => new SignJWT({ relay: claims }).setProtectedHeader({ alg: algorithm }).setIssuer(issuer).setAudience(audience).setIssuedAt().setExpirationTime(`${ttlSeconds}s`).sign(key),
  };
}

export type RelayTokenSigner = Awaited<ReturnType<typeof createRelayTokenSigner>>;

export async function createRelayTokenVerifier(options: { publicKeyPem: string }) {
  const key = await importSPKI(options.publicKeyPem, algorithm);
  return {
    /** The claims, once the token is valid and matches this path and body; CallerTokenError otherwise. */
    async verify(token: string | undefined, path: string, body: Buffer): Promise<RelayClaims> {
      if (!token) throw new CallerTokenError('missing relay token');
      let claims: RelayClaims;
      try {
        const { payload } = await jwtVerify(token, key, { issuer, audience, algorithms: [algorithm], clockTolerance: 5 });
        claims = payload['relay'] as RelayClaims;
      } catch (error) {
        if (error instanceof errors.JOSEError) throw new CallerTokenError(`relay token rejected: ${error.code}`);
        throw error;
      }
      if (claims?.path !== path) throw new CallerTokenError('relay token is for another path');
      if (claims.bodySha256 !== sha256Hex(body)) throw new CallerTokenError('relay token is for another body');
      return claims;
    },
  };
}

export type RelayTokenVerifier = Awaited<ReturnType<typeof createRelayTokenVerifier>>;
