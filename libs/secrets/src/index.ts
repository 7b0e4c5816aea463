export { createSecretBox, maskSecret, SecretOpenError, SecretsKeyError } from './secret-box.js';
export type { SecretBox, SecretBoxSettings } from './secret-box.js';
