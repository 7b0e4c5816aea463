import { randomBytes, randomUUID } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { UnsubscribeTokens } from './unsubscribe-token.js';

const flip = (text: string, at: number) => `${text.slice(0, at)}${text[at] === 'A' ? 'B' : 'A'}${text.slice(at + 1)}`;

describe('unsubscribe tokens', () => {
  const tokens = new UnsubscribeTokens(randomBytes(32));
  const subject = { tenantId: randomUUID(), conversationId: randomUUID() };

  it('names the conversation it was signed for', () => {
    const token = tokens.sign(subject);
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{22}$/);
    expect(tokens.verify(token)).toEqual(subject);
  });

  it('refuses an altered, cut, swapped or foreign token', () => {
    const token = tokens.sign(subject);
    expect(tokens.verify(flip(token, 5))).toBeNull();
    expect(tokens.verify(flip(token, 50))).toBeNull();
    expect(tokens.verify(token.slice(0, -1))).toBeNull();
    const other = tokens.sign({ tenantId: randomUUID(), conversationId: randomUUID() });
    expect(tokens.verify(`${token.split('.')[0]}.${other.split('.')[1]}`)).toBeNull();
    expect(new UnsubscribeTokens(randomBytes(32)).verify(token)).toBeNull();
    expect(tokens.verify('')).toBeNull();
    expect(tokens.verify('../../etc/passwd')).toBeNull();
  });
});
