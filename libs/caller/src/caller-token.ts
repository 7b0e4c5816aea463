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

export interface CallerTokenSignerOptions {
  privateKeyPem: string;
  /** How long a token stays valid. Default: 60 seconds, enough for one federated request. */
  ttlSeconds?: number;
}

export interface CallerTokenSigner {
  sign(caller: CallerContext): Promise<string>;
}

export async function createCallerTokenSigner(options: CallerTokenSignerOptions): Promise<CallerTokenSigner> {
  const key = await importPKCS8(options.privateKeyPem, algorithm);
  const ttlSeconds = options.ttlSeconds ?? 60;
  return {
    sign: (caller) =>
      new SignJWT({ caller })
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
        const { payload } = await jwtVerify(token, key, { issuer, audience, algorithms: [algorithm], clockTolerance: 5 });
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
