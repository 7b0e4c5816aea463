import { describe, expect, it } from '@jest/globals';
import { Writable } from 'node:stream';
import { Kind } from 'graphql';
import { badUserInput, conflict, ErrorCode, forbidden, maskError, notFound, operationLimitExceeded, rateLimited, unauthenticated, upstreamUnavailable } from './errors.js';
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

describe('error constructors', () => {
  it('give every code raised on purpose its constructor, and masking keeps each one as raised', () => {
    const raised = [
      unauthenticated('No key.'),
      forbidden('No scope.', { requiredScope: 'write' }),
      notFound('Campaign', 'c-1'),
      badUserInput('No name.', 'input.name', { issues: ['too short'] }),
      rateLimited('Slow down.', { retryAfterSeconds: 3 }),
      upstreamUnavailable('Content is down.', { service: 'content' }),
      conflict('Changed meanwhile.'),
      operationLimitExceeded('Too deep.', { limit: 'depth' }, { kind: Kind.NAME, value: 'x' }),
    ];
    const codes = raised.map((error) => error.extensions['code']);
    expect(new Set(codes)).toEqual(new Set(Object.values(ErrorCode).filter((code) => code !== ErrorCode.Internal)));
    for (const error of raised) expect(maskError(error.toJSON(), 'req-1')).toEqual(error.toJSON());
    expect(raised[1]!.extensions).toEqual({ code: 'FORBIDDEN', requiredScope: 'write' });
    expect(raised[2]!.message).toBe('Campaign c-1 was not found.');
    expect(raised[3]!.extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'input.name', issues: ['too short'] });
    expect(raised[6]!.extensions).toEqual({ code: 'CONFLICT' });
    expect(raised[7]!.nodes).toHaveLength(1);
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
