import { randomUUID } from 'node:crypto';
import {
  createCallerTokenSigner,
  createCallerTokenVerifier,
  generateCallerKeyPair,
  type CallerContext,
  type CallerKeyPair,
  type CallerTokenSigner,
  type CallerTokenVerifier,
} from '@gtm/caller';

export interface TestCallerKeys {
  keys: CallerKeyPair;
  signer: CallerTokenSigner;
  verifier: CallerTokenVerifier;
}

/** A key pair standing in for the gateway's, with a signer and verifier over it. */
export async function createTestCallerKeys(): Promise<TestCallerKeys> {
  const keys = await generateCallerKeyPair();
  return {
    keys,
    signer: await createCallerTokenSigner({ privateKeyPem: keys.privateKeyPem }),
    verifier: await createCallerTokenVerifier({ publicKeyPem: keys.publicKeyPem }),
  };
}

/** A caller of a fresh tenant, unless one is given. */
export function createTestCaller(overrides: Partial<CallerContext> = {}): CallerContext {
  const tenantId = overrides.tenantId ?? randomUUID();
  return {
    tenantId,
    tenantSlug: `tenant-${tenantId.slice(0, 8)}`,
    keyId: 'test-key',
    tier: 'pro',
    scopes: ['read', 'write', 'admin'],
    requestId: randomUUID(),
    ...overrides,
  };
}
