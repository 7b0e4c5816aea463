import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ImapFlow } from 'imapflow';
import { startTestImapServer, type TestImapServer } from './imap-server.js';

let server: TestImapServer;

beforeAll(async () => {
  server = await startTestImapServer({ user: 'sales@example.test', password: 'imap secret' });
});

afterAll(() => server?.close());

const client = (password = 'imap secret') => new ImapFlow({ host: server.host, port: server.port, secure: false, auth: { user: server.user, pass: password }, logger: false });

describe('test IMAP server', () => {
  it('refuses a wrong password', async () => {
    const wrong = client('nope');
    await expect(wrong.connect()).rejects.toMatchObject({ authenticationFailed: true });
  });

  it('serves messages byte for byte to imapflow, and tells an IDLE client of a new one', async () => {
    const imap = client();
    await imap.connect();
    try {
      expect(imap.capabilities.has('IDLE')).toBe(true);
      const latin1 = Buffer.concat([Buffer.from('From: a@example.test\r\nSubject: =?iso-8859-1?q?caf=E9?=\r\nMessage-ID: <m1@example.test>\r\nContent-Type: text/plain; charset=iso-8859-1\r\n\r\nun caf'), Buffer.from([0xe9]), Buffer.from('\r\n')]);
      server.deliver(latin1);
      const lock = await imap.getMailboxLock('INBOX');
      let uidNext: number;
      try {
        const fetched = await imap.fetchOne('*', { uid: true, source: true, envelope: true });
        expect(fetched && fetched.source!.equals(latin1)).toBe(true);
        expect(fetched && fetched.envelope!.subject).toBe('café');
        uidNext = imap.mailbox ? Number(imap.mailbox.uidNext) : 0;
      } finally {
        lock.release();
      }
      const heard = new Promise<number>((resolve) => imap.once('exists', (event: { count: number }) => resolve(event.count)));
      const idling = imap.idle();
      await new Promise((resolve) => setTimeout(resolve, 200));
      const uid = server.deliver('From: b@example.test\r\nSubject: second\r\nMessage-ID: <m2@example.test>\r\n\r\nhello\r\n');
      expect(uid).toBe(uidNext);
      expect(await heard).toBe(2);
      const again = await imap.getMailboxLock('INBOX');
      try {
        expect(await imap.search({ uid: `${uid}:*` }, { uid: true })).toEqual([uid]);
      } finally {
        again.release();
      }
      await idling.catch(() => undefined);
    } finally {
      await imap.logout();
    }
    expect(server.messages().map((message) => message.uid)).toEqual([1, 2]);
  });
});
