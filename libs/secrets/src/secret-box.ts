import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';

/** Raised when a sealed value cannot be opened: unknown key id, altered bytes or a malformed string. */
export class SecretOpenError extends Error {
  override readonly name = 'SecretOpenError';
  readonly isRetryable = false;
}

/** Raised when the configured key material is not usable (wrong length, not base64). */
export class SecretsKeyError extends Error {
  override readonly name = 'SecretsKeyError';
}

/**
 * Encrypts secrets at rest (CRM credentials, mailbox passwords, webhook secrets) with AES-256-GCM.
 * A sealed value names the key it was sealed with, so keys rotate without a migration: seal always
 * uses the current key, open finds the one the value names.
 */
export interface SecretBox {
  /** Seals a UTF-8 string; the same plaintext seals differently every time (random IV). */
  seal(plaintext: string, associatedData?: string): string;
  /** Opens a sealed value; `associatedData` must match what it was sealed with (e.g. the tenant id). */
  open(sealed: string, associatedData?: string): string;
  /** Seals a JSON value. */
  sealJson(value: unknown, associatedData?: string): string;
  openJson<Value = unknown>(sealed: string, associatedData?: string): Value;
  /** The current key's id, stored beside each sealed value by its format. */
  readonly currentKeyId: string;
  /**
   * A 32-byte key for another purpose (signing file tickets, unsubscribe links), derived with HKDF
   * from the current key so one configured secret serves them all without reuse across purposes.
   */
  deriveKey(purpose: string): Buffer;
}

export interface SecretBoxSettings {
  /**
   * The key material: one or more base64-encoded 32-byte keys separated by commas, the first one
   * current (`SECRETS_KEY`; `npm start` generates one in `.data/secrets-key`). Older keys after the
   * first stay able to open what they sealed.
   */
  keys: string;
}

const formatVersion = 'v1';
const ivLength = 12;
const tagLength = 16;

function keyIdOf(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 8);
}

function parseKeys(material: string): Buffer[] {
  const parts = material.split(',').map((part) => part.trim()).filter(Boolean);
  if (parts.length === 0) throw new SecretsKeyError('SECRETS_KEY is empty: it must be a base64-encoded 32-byte key');
  return parts.map((part, index) => {
    const key = Buffer.from(part, 'base64');
    if (key.length !== 32 || key.toString('base64').replace(/=+$/, '') !== part.replace(/=+$/, '')) {
      throw new SecretsKeyError(`SECRETS_KEY entry ${index + 1} must be 32 random bytes in base64 (openssl rand -base64 32)`);
    }
    return key;
  });
}

export function createSecretBox(settings: SecretBoxSettings): SecretBox {
  const keys = parseKeys(settings.keys);
  const current = keys[0]!;
  const currentKeyId = keyIdOf(current);
  const byId = new Map(keys.map((key) => [keyIdOf(key), key]));

  const seal = (plaintext: string, associatedData = ''): string => {
    const iv = randomBytes(ivLength);
    const cipher = createCipheriv('aes-256-gcm', current, iv, { authTagLength: tagLength });
    cipher.setAAD(Buffer.from(associatedData, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const tag = cipher.getAuthTag();
    return [formatVersion, currentKeyId, iv.toString('base64url'), ciphertext.toString('base64url'), tag.toString('base64url')].join('.');
  };

  const open = (sealed: string, associatedData = ''): string => {
    const parts = sealed.split('.');
    if (parts.length !== 5 || parts[0] !== formatVersion) throw new SecretOpenError('not a sealed secret');
    const [, keyId, ivText, ciphertextText, tagText] = parts as [string, string, string, string, string];
    const key = byId.get(keyId);
    if (!key) throw new SecretOpenError(`sealed with key ${keyId}, which SECRETS_KEY no longer holds`);
    const iv = Buffer.from(ivText, 'base64url');
    const tag = Buffer.from(tagText, 'base64url');
    if (iv.length !== ivLength || tag.length !== tagLength) throw new SecretOpenError('not a sealed secret');
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: tagLength });
      decipher.setAAD(Buffer.from(associatedData, 'utf8'));
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(Buffer.from(ciphertextText, 'base64url')), decipher.final()]).toString('utf8');
    } catch {
      throw new SecretOpenError('the sealed secret was altered or belongs to another owner');
    }
  };

  return {
    currentKeyId,
    seal,
    open,
    sealJson: (value, associatedData) => seal(JSON.stringify(value), associatedData),
    openJson: <Value>(sealed: string, associatedData?: string) => JSON.parse(open(sealed, associatedData)) as Value,
    deriveKey: (purpose) => Buffer.from(hkdfSync('sha256', current, Buffer.alloc(0), `gtm:${purpose}`, 32)),
  };
}

/**
 * What the API may show of a secret: its last four characters behind a fixed mask (never its
 * length), or only the mask when the secret is too short for four characters to be safe.
 */
export function maskSecret(secret: string): string {
  return secret.length >= 12 ? `••••${secret.slice(-4)}` : '••••';
}
