import { describe, expect, it } from '@jest/globals';
import { SignJWT, decodeJwt, importPKCS8 } from 'jose';
import { callerTokenMaxLifetimeSeconds, createCallerIdentityTokens, createCallerTokenSigner, createCallerTokenVerifier, generateCallerKeyPair, CallerTokenError } from './caller-token.js';
import type { CallerContext, CallerIdentity } from './caller-context.js';

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

  it('refuses a validly signed token meant to live longer than the gateway ever issues, or without an issue time', async () => {
    const keys = await generateCallerKeyPair();
    const verifier = await createCallerTokenVerifier({ publicKeyPem: keys.publicKeyPem });
    const key = await importPKCS8(keys.privateKeyPem, 'EdDSA');
    const now = Math.floor(Date.now() / 1000);
    const token = (claims: { iat?: number; exp: number }) => {
      const jwt = new SignJWT({ caller }).setProtectedHeader({ alg: 'EdDSA' }).setIssuer('gtm-graph-gateway').setAudience('gtm-graph-subgraph').setExpirationTime(claims.exp);
      return (claims.iat === undefined ? jwt : jwt.setIssuedAt(claims.iat)).sign(key);
    };
    const tenYears = 10 * 365 * 24 * 60 * 60;
    await expect(verifier.verify(await token({ iat: now, exp: now + tenYears }))).rejects.toThrow(/longer than the 60 s/);
    await expect(verifier.verify(await token({ iat: now, exp: now + callerTokenMaxLifetimeSeconds + 60 }))).rejects.toBeInstanceOf(CallerTokenError);
    await expect(verifier.verify(await token({ exp: now + 30 }))).rejects.toBeInstanceOf(CallerTokenError);
    // Issued in the future, so its lifetime would start later than it says.
    await expect(verifier.verify(await token({ iat: now + 3_600, exp: now + 3_630 }))).rejects.toBeInstanceOf(CallerTokenError);
    // What the gateway issues: a minute, with a little clock skew either way.
    await expect(verifier.verify(await token({ iat: now - 2, exp: now + callerTokenMaxLifetimeSeconds - 2 }))).resolves.toEqual(caller);
  });

  it('will not sign a token for longer than subgraphs accept', async () => {
    const keys = await generateCallerKeyPair();
    await expect(createCallerTokenSigner({ privateKeyPem: keys.privateKeyPem, ttlSeconds: 3_600 })).rejects.toThrow(RangeError);
    await expect(createCallerTokenSigner({ privateKeyPem: keys.privateKeyPem, ttlSeconds: callerTokenMaxLifetimeSeconds })).resolves.toBeDefined();
    await expect(createCallerTokenSigner({ privateKeyPem: keys.privateKeyPem, ttlSeconds: 10 * 365 * 86_400, delegated: true })).rejects.toThrow(RangeError);
  });

  it('lets only a token marked as delegated live longer than a minute, and never longer than a week', async () => {
    const keys = await generateCallerKeyPair();
    const verifier = await createCallerTokenVerifier({ publicKeyPem: keys.publicKeyPem });
    const delegated = await createCallerTokenSigner({ privateKeyPem: keys.privateKeyPem, ttlSeconds: 86_400, delegated: true });
    await expect(verifier.verify(await delegated.sign(caller))).resolves.toEqual(caller);
    const key = await importPKCS8(keys.privateKeyPem, 'EdDSA');
    const now = Math.floor(Date.now() / 1000);
    const token = (claims: Record<string, unknown>, iat: number, exp: number) =>
      new SignJWT({ caller, ...claims }).setProtectedHeader({ alg: 'EdDSA' }).setIssuer('gtm-graph-gateway').setAudience('gtm-graph-subgraph').setIssuedAt(iat).setExpirationTime(exp).sign(key);
    await expect(verifier.verify(await token({}, now, now + 86_400))).rejects.toThrow(/longer than the 60 s/);
    await expect(verifier.verify(await token({ delegated: true }, now, now + 10 * 365 * 86_400))).rejects.toThrow(/longer than the 604800 s/);
    // A short token issued two minutes ago is stale even if its expiry says otherwise.
    await expect(verifier.verify(await token({}, now - 120, now + 30))).rejects.toBeInstanceOf(CallerTokenError);
  });
});

/** A signer that counts the identity tokens it signs. */
async function countingSigner() {
  const keys = await generateCallerKeyPair();
  const signer = await createCallerTokenSigner({ privateKeyPem: keys.privateKeyPem });
  const counter = { signed: 0, keys, signer: { ...signer, signIdentity: (who: CallerIdentity) => ((counter.signed += 1), signer.signIdentity(who)) } };
  return counter;
}

describe('reusable caller identity tokens', () => {
  const { requestId: _requestId, ...identity } = caller;

  it('name the caller without a request; the request id comes beside the token and only labels the request', async () => {
    const keys = await generateCallerKeyPair();
    const signer = await createCallerTokenSigner({ privateKeyPem: keys.privateKeyPem });
    const verifier = await createCallerTokenVerifier({ publicKeyPem: keys.publicKeyPem });
    const token = await signer.signIdentity(caller);
    expect(decodeJwt(token)['caller']).toEqual(identity);
    await expect(verifier.verify(token, 'req-2')).resolves.toEqual({ ...identity, requestId: 'req-2' });
    // A request id that is not safe to log is replaced, never trusted.
    const replaced = await verifier.verify(token, 'bad id\nwith a newline');
    expect(replaced.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(replaced.tenantId).toBe(caller.tenantId);
    // A token signed for one request keeps its own signed id whatever comes beside it.
    await expect(verifier.verify(await signer.sign(caller), 'req-other')).resolves.toEqual(caller);
  });

  it('hand out one token per identity until it is due for renewal, and never one identity’s token to another', async () => {
    const counting = await countingSigner();
    const verifier = await createCallerTokenVerifier({ publicKeyPem: counting.keys.publicKeyPem });
    const tokens = createCallerIdentityTokens({ signer: counting.signer, reuseMs: 60_000 });
    const first = await tokens.tokenFor(caller);
    const nextRequest: CallerContext = { ...caller, requestId: 'req-2' };
    expect(await tokens.tokenFor(nextRequest)).toBe(first);
    expect(counting.signed).toBe(1);
    const otherTenant = await tokens.tokenFor({ ...caller, tenantId: '0b6f7c2a-51c5-4f43-9b3e-2f4a8f1d9c77', tenantSlug: 'globex' });
    const otherKey = await tokens.tokenFor({ ...caller, keyId: 'key_2' });
    const fewerScopes = await tokens.tokenFor({ ...caller, scopes: ['read'] });
    expect(new Set([first, otherTenant, otherKey, fewerScopes]).size).toBe(4);
    expect((await verifier.verify(otherTenant, 'req-3')).tenantSlug).toBe('globex');
    expect((await verifier.verify(fewerScopes, 'req-3')).scopes).toEqual(['read']);
    expect(counting.signed).toBe(4);
  });

  it('sign again once a token is due for renewal, and every time when reuse is off', async () => {
    const counting = await countingSigner();
    const renewing = createCallerIdentityTokens({ signer: counting.signer, reuseMs: 1 });
    await renewing.tokenFor(caller);
    await new Promise((resolve) => setTimeout(resolve, 5));
    await renewing.tokenFor(caller);
    expect(counting.signed).toBe(2);
    const never = createCallerIdentityTokens({ signer: counting.signer, reuseMs: 0 });
    await never.tokenFor(caller);
    await never.tokenFor(caller);
    expect(counting.signed).toBe(4);
  });

  it('keep at most the identities they are allowed, dropping the oldest', async () => {
    const counting = await countingSigner();
    const tokens = createCallerIdentityTokens({ signer: counting.signer, reuseMs: 60_000, maximumIdentities: 2 });
    await tokens.tokenFor({ ...caller, keyId: 'a' });
    await tokens.tokenFor({ ...caller, keyId: 'b' });
    await tokens.tokenFor({ ...caller, keyId: 'c' });
    await tokens.tokenFor({ ...caller, keyId: 'c' });
    await tokens.tokenFor({ ...caller, keyId: 'b' });
    expect(counting.signed).toBe(3);
    await tokens.tokenFor({ ...caller, keyId: 'a' });
    expect(counting.signed).toBe(4);
  });
});

describe('verifying a reusable token again', () => {
  it('trusts the exact same token until it expires, and nothing else: an altered or expired one is refused', async () => {
    const keys = await generateCallerKeyPair();
    const signer = await createCallerTokenSigner({ privateKeyPem: keys.privateKeyPem, ttlSeconds: 1 });
    const verifier = await createCallerTokenVerifier({ publicKeyPem: keys.publicKeyPem });
    const token = await signer.signIdentity(caller);
    await expect(verifier.verify(token, 'req-a')).resolves.toEqual({ ...caller, requestId: 'req-a' });
    await expect(verifier.verify(token, 'req-b')).resolves.toEqual({ ...caller, requestId: 'req-b' });
    const [header, , signature] = token.split('.') as [string, string, string];
    const claims = decodeJwt(token);
    const otherTenant = Buffer.from(JSON.stringify({ ...claims, caller: { ...(claims['caller'] as object), tenantId: '0b6f7c2a-51c5-4f43-9b3e-2f4a8f1d9c77' } })).toString('base64url');
    await expect(verifier.verify(`${header}.${otherTenant}.${signature}`, 'req-c')).rejects.toBeInstanceOf(CallerTokenError);
    // One second of life plus the five seconds of clock tolerance, then it is refused again.
    await new Promise((resolve) => setTimeout(resolve, 7_000));
    await expect(verifier.verify(token, 'req-d')).rejects.toBeInstanceOf(CallerTokenError);
  }, 15_000);
});
