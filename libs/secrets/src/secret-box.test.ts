import { describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { createSecretBox, maskSecret, SecretOpenError, SecretsKeyError } from './index.js';

const newKey = () => randomBytes(32).toString('base64');

describe('SecretBox', () => {
  it('seals so the plaintext is not in the sealed value, and opens it again', () => {
    const box = createSecretBox({ keys: newKey() });
    const sealed = box.seal('pat-na1-secret-token');
    expect(sealed).not.toContain('pat-na1');
    expect(sealed.startsWith(`v1.${box.currentKeyId}.`)).toBe(true);
    expect(box.open(sealed)).toBe('pat-na1-secret-token');
    expect(box.seal('same')).not.toBe(box.seal('same'));
  });

  it('refuses a value sealed for another owner or altered by one byte', () => {
    const box = createSecretBox({ keys: newKey() });
    const sealed = box.seal('password', 'tenant-a');
    expect(box.open(sealed, 'tenant-a')).toBe('password');
    expect(() => box.open(sealed, 'tenant-b')).toThrow(SecretOpenError);
    const parts = sealed.split('.');
    const ciphertext = Buffer.from(parts[3]!, 'base64url');
    ciphertext[0] = ciphertext[0]! ^ 1;
    parts[3] = ciphertext.toString('base64url');
    expect(() => box.open(parts.join('.'), 'tenant-a')).toThrow(SecretOpenError);
    expect(() => box.open('plain text')).toThrow(SecretOpenError);
  });

  it('rotates: a new current key still opens what the old key sealed, and seals with the new one', () => {
    const oldKey = newKey();
    const sealedBefore = createSecretBox({ keys: oldKey }).sealJson({ apiKey: 'k1' });
    const rotated = createSecretBox({ keys: `${newKey()},${oldKey}` });
    expect(rotated.openJson(sealedBefore)).toEqual({ apiKey: 'k1' });
    expect(rotated.seal('x').split('.')[1]).toBe(rotated.currentKeyId);
    expect(() => createSecretBox({ keys: newKey() }).open(sealedBefore)).toThrow(/no longer holds/);
  });

  it('refuses key material that is not 32 bytes of base64', () => {
    expect(() => createSecretBox({ keys: 'short' })).toThrow(SecretsKeyError);
    expect(() => createSecretBox({ keys: '' })).toThrow(SecretsKeyError);
  });

  it('derives distinct keys per purpose, stable for the same key', () => {
    const key = newKey();
    const box = createSecretBox({ keys: key });
    expect(box.deriveKey('file-tickets')).toEqual(createSecretBox({ keys: key }).deriveKey('file-tickets'));
    expect(box.deriveKey('file-tickets')).not.toEqual(box.deriveKey('unsubscribe'));
    expect(box.deriveKey('x')).toHaveLength(32);
  });

  it('masks a secret to its last four characters, never its length', () => {
    expect(maskSecret('pat-na1-0123456789abcd')).toBe('••••abcd');
    expect(maskSecret('short')).toBe('••••');
  });
});
