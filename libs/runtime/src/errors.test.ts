import { describe, expect, it } from '@jest/globals';
import { Writable } from 'node:stream';
import { maskError } from './errors.js';
import { createLogger } from './logger.js';

describe('maskError', () => {
  it('keeps errors raised on purpose, without stack traces', () => {
    const masked = maskError({ message: 'Lead x was not found.', extensions: { code: 'NOT_FOUND', stacktrace: ['at secret.ts:1'] } }, 'req-1');
    expect(masked).toEqual({ message: 'Lead x was not found.', extensions: { code: 'NOT_FOUND' } });
  });

  it('turns anything else into INTERNAL_SERVER_ERROR with the request id and nothing more', () => {
    const masked = maskError({ message: 'select * from "crm"."lead" - relation does not exist', path: ['leads'], extensions: { code: 'INTERNAL_SERVER_ERROR', exception: { stacktrace: ['x'] } } }, 'req-42');
    expect(masked).toEqual({ message: 'Internal server error. Quote request id req-42 when reporting it.', path: ['leads'], extensions: { code: 'INTERNAL_SERVER_ERROR', requestId: 'req-42' } });
    expect(maskError({ message: 'boom' }, 'req-43').extensions?.['code']).toBe('INTERNAL_SERVER_ERROR');
  });
});

describe('createLogger', () => {
  it('redacts keys, tokens and passwords from every line', () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const logger = createLogger({ service: 'test', destination });
    logger.info({ headers: { authorization: 'Bearer gtm_live_secret', 'x-gtm-caller': 'eyJsecret' }, password: 'hunter2', nested: { apiKey: 'k-secret' } }, 'request');
    const output = lines.join('');
    expect(output).toContain('"service":"test"');
    expect(output).not.toMatch(/gtm_live_secret|eyJsecret|hunter2|k-secret/);
    expect(output).toContain('[redacted]');
  });
});
