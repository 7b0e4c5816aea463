import { describe, expect, it } from '@jest/globals';
import { SignJWT, importPKCS8 } from 'jose';
import { createCallerTokenSigner, createCallerTokenVerifier, generateCallerKeyPair, CallerTokenError } from './caller-token.js';
import type { CallerContext } from './caller-context.js';

const caller: CallerContext = {
  tenantId: '7d0f1e8e-9a53-4c1e-8d43-0a3f4b1f6a10',
  tenantSlug: 'acme',
  keyId: 'key_1',
  tier: 'pro',
  scopes: ['read', 'write'],
  requestId: 'req-1',
};

describe('caller token', () => {
  it('round-trips the caller between the gateway and a subgraph', async () => {
    const keys = await generateCallerKeyPair();
    const signer = await createCallerTokenSigner({ privateKeyPem: keys.privateKeyPem });
    const verifier = await createCallerTokenVerifier({ publicKeyPem: keys.publicKeyPem });
    await expect(verifier.verify(await signer.sign(caller))).resolves.toEqual(caller);
  });

  it('refuses a token minted with another key, a missing token and garbage', async () => {
    const trusted = await generateCallerKeyPair();
    const attacker = await generateCallerKeyPair();
    const verifier = await createCallerTokenVerifier({ publicKeyPem: trusted.publicKeyPem });
    const forged = await (await createCallerTokenSigner({ privateKeyPem: attacker.privateKeyPem })).sign(caller);
    await expect(verifier.verify(forged)).rejects.toBeInstanceOf(CallerTokenError);
    await expect(verifier.verify(undefined)).rejects.toBeInstanceOf(CallerTokenError);
    await expect(verifier.verify('not-a-token')).rejects.toBeInstanceOf(CallerTokenError);
  });

  it('refuses an expired token', async () => {
    const keys = await generateCallerKeyPair();
    const verifier = await createCallerTokenVerifier({ publicKeyPem: keys.publicKeyPem });
    const key = await importPKCS8(keys.privateKeyPem, 'EdDSA');
    const expired = await new SignJWT({ caller })
      .setProtectedHeader({ alg: 'EdDSA' })
      .setIssuer('gtm-graph-gateway')
      .setAudience('gtm-graph-subgraph')
      .setIssuedAt(Math.floor(Date.now() / 1000) - 600)
      .setExpirationTime(Math.floor(Date.now() / 1000) - 300)
      .sign(key);
    await expect(verifier.verify(expired)).rejects.toThrow(/ERR_JWT_EXPIRED/);
  });

  it('refuses a validly signed token whose caller is malformed', async () => {
    const keys = await generateCallerKeyPair();
    const signer = await createCallerTokenSigner({ privateKeyPem: keys.privateKeyPem });
    const verifier = await createCallerTokenVerifier({ publicKeyPem: keys.publicKeyPem });
    const token = await signer.sign({ ...caller, tenantId: 'not-a-uuid' });
    await expect(verifier.verify(token)).rejects.toThrow(/invalid caller/);
  });
});
