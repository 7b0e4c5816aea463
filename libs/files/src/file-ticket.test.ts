import { randomBytes, randomUUID } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { downloadLink, uploadLink } from './file-links.js';
import { createFileTickets, FileTicketError, fileUrl } from './file-ticket.js';

const key = () => randomBytes(32).toString('base64');

describe('file tickets', () => {
  const secretsKey = key();
  const tenantId = randomUUID();
  const input = { tenantId, service: 'crm', purpose: 'lead-import', resourceId: 'import-1' };

  it('round-trips what an upload ticket grants, with a 15-minute default life and CSV types', () => {
    let now = Date.UTC(2026, 11, 3, 12, 0, 0);
    const tickets = createFileTickets({ secretsKey, now: () => now });
    const issued = tickets.issueUpload({ ...input, maxBytes: 1000 });
    expect(issued.ticket).toMatch(/^f1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    expect(issued.expiresAt.toISOString()).toBe('2026-12-03T12:15:00.000Z');
    expect(tickets.verify(issued.ticket)).toEqual({
      ...issued.claims,
      kind: 'upload',
      tenantId,
      service: 'crm',
      purpose: 'lead-import',
      resourceId: 'import-1',
      maxBytes: 1000,
      contentTypes: ['text/csv', 'application/csv', 'text/plain', 'application/vnd.ms-excel'],
    });
    now += 15 * 60 * 1000;
    expect(() => tickets.verify(issued.ticket)).toThrow(expect.objectContaining({ reason: 'EXPIRED' }));
    expect(tickets.inspect(issued.ticket).tenantId).toBe(tenantId);
  });

  it('gives every ticket its own id, even for the same resource', () => {
    const tickets = createFileTickets({ secretsKey });
    expect(tickets.issueDownload(input).claims.id).not.toBe(tickets.issueDownload(input).claims.id);
  });

  it('refuses a ticket with any character changed as altered', () => {
    const tickets = createFileTickets({ secretsKey });
    const { ticket } = tickets.issueUpload(input);
    const [prefix, payload, signature] = ticket.split('.') as [string, string, string];
    // Another tenant's id in the payload, signature kept.
    const forged = Buffer.from(Buffer.from(payload, 'base64url').toString('utf8').replace(tenantId, randomUUID())).toString('base64url');
    for (const altered of [`${prefix}.${forged}.${signature}`, `${prefix}.${payload}.${signature.slice(0, -2)}AA`, `${prefix}.${payload.slice(1)}.${signature}`]) {
      expect(() => tickets.verify(altered)).toThrow(FileTicketError);
      expect(() => tickets.verify(altered)).toThrow(expect.objectContaining({ reason: 'ALTERED' }));
    }
  });

  it('refuses a ticket of another deployment (another key) and garbage', () => {
    const ours = createFileTickets({ secretsKey });
    const theirs = createFileTickets({ secretsKey: key() });
    expect(() => ours.verify(theirs.issueUpload(input).ticket)).toThrow(expect.objectContaining({ reason: 'ALTERED' }));
    for (const garbage of ['', 'abc', 'f1..', 'f2.a.b', 'f1.a.b.c']) expect(() => ours.verify(garbage)).toThrow(expect.objectContaining({ reason: expect.stringMatching(/MALFORMED|ALTERED/) }));
  });

  it('keeps tickets issued just before a key rotation valid', () => {
    const oldKey = key();
    const before = createFileTickets({ secretsKey: oldKey }).issueUpload(input);
    const afterRotation = createFileTickets({ secretsKey: `${key()},${oldKey}` });
    expect(afterRotation.verify(before.ticket).resourceId).toBe('import-1');
  });

  it('builds the gateway URL of a ticket', () => {
    const issued = createFileTickets({ secretsKey }).issueUpload(input);
    expect(fileUrl('https://api.example.com/', issued)).toBe(`https://api.example.com/files/crm/${issued.ticket}`);
    expect(fileUrl(undefined, issued)).toBe(`/files/crm/${issued.ticket}`);
  });

  it('refuses names that would not be safe in a path', () => {
    const tickets = createFileTickets({ secretsKey });
    expect(() => tickets.issueUpload({ ...input, service: '../crm' })).toThrow(/service must be lower-case/);
  });

  it('makes links for a resolver bound to the caller\'s tenant', () => {
    const tickets = createFileTickets({ secretsKey });
    const context = { caller: { tenantId }, publicUrl: 'https://api.example.com' };
    const upload = uploadLink(tickets, context, { service: 'crm', purpose: 'lead-import', resourceId: 'import-9' });
    expect(upload.url).toMatch(/^https:\/\/api\.example\.com\/files\/crm\/f1\./);
    const claims = tickets.verify(upload.url.split('/').at(-1)!);
    expect(claims).toMatchObject({ id: upload.ticketId, tenantId, kind: 'upload', resourceId: 'import-9' });
    const download = downloadLink(tickets, context, { service: 'crm', purpose: 'lead-list-export', resourceId: 'list-1' });
    expect(tickets.verify(download.url.split('/').at(-1)!)).toMatchObject({ tenantId, kind: 'download' });
    expect(download.expiresAt.getTime() - Date.now()).toBeGreaterThan(59 * 60 * 1000);
  });
});
