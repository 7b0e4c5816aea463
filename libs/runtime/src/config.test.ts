import { describe, expect, it } from '@jest/globals';
import { ConfigurationError, parseEnvironment, subgraphEnvironmentSchema } from './config.js';

const publicKey = '-----BEGIN PUBLIC KEY-----\\nMCowBQYDK2VwAyEAb0bTRB5bYVYnxyQ0P5Vd3kK7hJ0uVl5+2W7m7mR0q1M=\\n-----END PUBLIC KEY-----';

describe('parseEnvironment', () => {
  it('names every missing or invalid variable', () => {
    let thrown: unknown;
    try {
      parseEnvironment(subgraphEnvironmentSchema, { REDIS_URL: 'http://not-redis', LOG_LEVEL: 'loud', SECRETS_KEY: 'too-short' });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigurationError);
    const message = (thrown as Error).message;
    expect(message).toMatch(/DATABASE_URL is required but not set/);
    expect(message).toMatch(/REDIS_URL must be a redis:\/\/ URL/);
    expect(message).toMatch(/CALLER_TOKEN_PUBLIC_KEY is required/);
    expect(message).toMatch(/LOG_LEVEL/);
    expect(message).toMatch(/SECRETS_KEY must be base64 of 32 random bytes/);
    expect(message).not.toContain('too-short');
  });

  it('applies defaults, treats empty values as unset and unescapes PEM newlines', () => {
    const config = parseEnvironment(subgraphEnvironmentSchema, {
      DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/gtm',
      REDIS_URL: 'redis://127.0.0.1:6379',
      CALLER_TOKEN_PUBLIC_KEY: publicKey,
      SECRETS_KEY: Buffer.alloc(32, 7).toString('base64'),
      LOG_LEVEL: '',
    });
    expect(config.LOG_LEVEL).toBe('info');
    expect(config.HOST).toBe('127.0.0.1');
    expect(config.CALLER_TOKEN_PUBLIC_KEY.split('\n')).toHaveLength(3);
  });

  it('never echoes a secret value back in its message', () => {
    expect(() =>
      parseEnvironment(subgraphEnvironmentSchema, { DATABASE_URL: 'mysql://root:hunter2@db/gtm', REDIS_URL: 'redis://x:6379', CALLER_TOKEN_PUBLIC_KEY: publicKey }),
    ).toThrow(expect.objectContaining({ message: expect.not.stringContaining('hunter2') }));
  });
});
