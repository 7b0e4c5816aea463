import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { captureLogs, createTestCaller, startMailSink, startSubgraphUnderTest, startTestImapServer, type MailSink, type SubgraphUnderTest, type TestImapServer } from '@gtm/testing';
import { createApp, type ConversationApp } from '../app.js';
import { loadConfig } from '../config.js';

const smtpPassword = 'smtp-pass-4f9c2a7e81';
const imapPassword = 'imap-pass-b3d8e6c4a2';
const webhookSecret = 'whsec-0123456789abcdef';
let subgraph: SubgraphUnderTest<ConversationApp>;
let sink: MailSink;
let imap: TestImapServer;
let databaseUrl: string;
const logs = captureLogs();
const caller = createTestCaller();

beforeAll(async () => {
  sink = await startMailSink({ users: { 'sam@sender.example': smtpPassword } });
  imap = await startTestImapServer({ user: 'sam@sender.example', password: imapPassword });
  subgraph = await startSubgraphUnderTest((environment, onQuery) => {
    databaseUrl = environment['DATABASE_URL']!;
    return createApp(loadConfig({ ...environment, MAIL_HOST_ALLOWLIST: '127.0.0.1', MAIL_CONNECT_TIMEOUT_MS: '3000', MAILBOX_WATCHER_ENABLED: 'false', PUBLIC_URL: 'https://gtm.example' }), { onQuery, logger: logs.logger });
  });
});

afterAll(async () => {
  await subgraph?.close();
  await Promise.all([sink?.close(), imap?.close()]);
});

const mailboxFields = `id address displayName dailyLimit status lastError webhookUrl webhookSecretHint
  smtp { host port security username passwordHint folder } imap { host port security username passwordHint folder }
  sendWindow { timeZone start end days } pacing { minimumSecondsBetweenSends jitterSeconds }`;
const connectMailbox = `mutation ($input: ConnectMailboxInput!) { connectMailbox(input: $input) { ${mailboxFields} } }`;

const validInput = () => ({
  address: 'Sam@Sender.example',
  displayName: 'Sam Carter',
  smtp: { host: '127.0.0.1', port: sink.port, security: 'NONE', username: 'sam@sender.example', password: smtpPassword },
  imap: { host: '127.0.0.1', port: imap.port, security: 'NONE', username: 'sam@sender.example', password: imapPassword },
  dailyLimit: 40,
  sendWindow: { timeZone: 'America/New_York', start: '08:30', end: '16:00', days: ['MONDAY', 'WEDNESDAY', 'FRIDAY'] },
  pacing: { minimumSecondsBetweenSends: 120, jitterSeconds: 30 },
  webhookSecret,
});

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function storedMailboxes(): Promise<Record<string, unknown>[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return (await client.query('select * from conversation.mailbox')).rows;
  } finally {
    await client.end();
  }
}

describe('connectMailbox', () => {
  it('logs in to SMTP and IMAP, stores the passwords sealed, and never shows or logs them', async () => {
    const result = await subgraph.call(caller, connectMailbox, { input: validInput() });
    expect(result.errors).toBeUndefined();
    const mailbox = result.data!['connectMailbox'];
    expect(mailbox).toMatchObject({
      address: 'sam@sender.example',
      displayName: 'Sam Carter',
      dailyLimit: 40,
      status: 'ACTIVE',
      lastError: null,
      webhookUrl: `https://gtm.example/webhooks/email/${mailbox.id}`,
      webhookSecretHint: '••••cdef',
      smtp: { host: '127.0.0.1', port: sink.port, security: 'NONE', username: 'sam@sender.example', passwordHint: '••••7e81', folder: null },
      imap: { host: '127.0.0.1', port: imap.port, security: 'NONE', username: 'sam@sender.example', passwordHint: '••••c4a2', folder: 'INBOX' },
      sendWindow: { timeZone: 'America/New_York', start: '08:30', end: '16:00', days: ['MONDAY', 'WEDNESDAY', 'FRIDAY'] },
      pacing: { minimumSecondsBetweenSends: 120, jitterSeconds: 30 },
    });
    const everything = JSON.stringify(result) + JSON.stringify(await subgraph.call(caller, `{ mailboxes { ${mailboxFields} } }`));
    const stored = JSON.stringify(await storedMailboxes());
    for (const secret of [smtpPassword, imapPassword, webhookSecret]) {
      expect(everything).not.toContain(secret);
      expect(stored).not.toContain(secret);
      expect(logs.lines.join('\n')).not.toContain(secret);
    }
    expect(sink.messages()).toEqual([]);
  });

  it('connecting the same address again replaces its settings, one mailbox per address', async () => {
    const input = { ...validInput(), dailyLimit: 25, imap: null, webhookSecret: null };
    const again = await subgraph.call(caller, connectMailbox, { input });
    expect(again.errors).toBeUndefined();
    expect(again.data!['connectMailbox']).toMatchObject({ dailyLimit: 25, imap: null, webhookSecretHint: null });
    const all = await subgraph.call(caller, `{ mailboxes { address dailyLimit } }`);
    expect(all.data!['mailboxes']).toEqual([{ address: 'sam@sender.example', dailyLimit: 25 }]);
  });

  it('says which server refused and why, and stores nothing', async () => {
    const fresh = createTestCaller();
    const expectRefusal = async (input: Record<string, unknown>, field: string, reason: string, words: RegExp) => {
      const result = await subgraph.call(fresh, connectMailbox, { input });
      expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field, reason });
      expect(result.errors?.[0]?.message).toMatch(words);
      expect(JSON.stringify(result)).not.toContain('wrong-password');
    };
    await expectRefusal({ ...validInput(), smtp: { ...validInput().smtp, password: 'wrong-password' } }, 'smtp', 'AUTHENTICATION_FAILED', /SMTP 127\.0\.0\.1:\d+ refused the login/);
    await expectRefusal({ ...validInput(), imap: { ...validInput().imap, password: 'wrong-password' } }, 'imap', 'AUTHENTICATION_FAILED', /IMAP 127\.0\.0\.1:\d+ refused the login/);
    await expectRefusal({ ...validInput(), smtp: { ...validInput().smtp, port: await closedPort() } }, 'smtp', 'UNREACHABLE', /could not be reached \(ECONNREFUSED\)/);
    await expectRefusal({ ...validInput(), imap: { ...validInput().imap, port: await closedPort() } }, 'imap', 'UNREACHABLE', /could not be reached/);
    // Loopback by another name is not on the allowlist: refused before any connection.
    await expectRefusal({ ...validInput(), smtp: { ...validInput().smtp, host: 'localhost' } }, 'smtp', 'REFUSED_ADDRESS', /loopback address/);
    await expectRefusal({ ...validInput(), smtp: { ...validInput().smtp, host: '169.254.169.254', port: 25 } }, 'smtp', 'REFUSED_ADDRESS', /link-local/);
    expect((await subgraph.call(fresh, `{ mailboxes { id } }`)).data!['mailboxes']).toEqual([]);
  });

  it('refuses settings that cannot work, naming the field', async () => {
    const fresh = createTestCaller();
    const cases: [Record<string, unknown>, string][] = [
      [{ ...validInput(), address: 'not-an-address' }, 'address'],
      [{ ...validInput(), smtp: { ...validInput().smtp, port: 70000 } }, 'smtp.port'],
      [{ ...validInput(), smtp: { ...validInput().smtp, host: 'bad host!' } }, 'smtp.host'],
      [{ ...validInput(), dailyLimit: 0 }, 'dailyLimit'],
      [{ ...validInput(), dailyLimit: 5000 }, 'dailyLimit'],
      [{ ...validInput(), sendWindow: { timeZone: 'Mars/Olympus', start: '09:00', end: '17:00', days: ['MONDAY'] } }, 'sendWindow.timeZone'],
      [{ ...validInput(), sendWindow: { timeZone: 'UTC', start: '17:00', end: '09:00', days: ['MONDAY'] } }, 'sendWindow.end'],
      [{ ...validInput(), sendWindow: { timeZone: 'UTC', start: '9am', end: '17:00', days: ['MONDAY'] } }, 'sendWindow.start'],
      [{ ...validInput(), sendWindow: { timeZone: 'UTC', start: '09:00', end: '17:00', days: [] } }, 'sendWindow.days'],
      [{ ...validInput(), webhookSecret: 'short' }, 'webhookSecret'],
    ];
    for (const [input, field] of cases) {
      const result = await subgraph.call(fresh, connectMailbox, { input });
      expect({ field, error: result.errors?.[0]?.extensions }).toEqual({ field, error: expect.objectContaining({ code: 'BAD_USER_INPUT', field }) });
    }
    expect((await subgraph.call(fresh, `{ mailboxes { id } }`)).data!['mailboxes']).toEqual([]);
  });

  it('keeps each tenant’s mailboxes to itself', async () => {
    const owner = createTestCaller();
    const other = createTestCaller();
    const created = (await subgraph.call(owner, connectMailbox, { input: validInput() })).data!['connectMailbox'];
    expect((await subgraph.call(other, `query ($id: ID!) { mailbox(id: $id) { id } }`, { id: created.id })).data!['mailbox']).toBeNull();
    expect((await subgraph.call(other, `{ mailboxes { id } }`)).data!['mailboxes']).toEqual([]);
    const update = await subgraph.call(other, `mutation ($id: ID!) { updateMailbox(id: $id, input: { status: PAUSED }) { id } }`, { id: created.id });
    expect(update.errors?.[0]?.extensions?.['code']).toBe('NOT_FOUND');
    const entities = await subgraph.call(other, `query ($r: [_Any!]!) { _entities(representations: $r) { ... on Mailbox { id address } } }`, { r: [{ __typename: 'Mailbox', id: created.id }] });
    expect(entities.data!['_entities']).toEqual([null]);
    // The same address in another tenant is another mailbox.
    const theirs = await subgraph.call(other, connectMailbox, { input: validInput() });
    expect(theirs.data!['connectMailbox'].id).not.toBe(created.id);
  });

  it('pauses and changes caps and window; a failing mailbox is repaired only by connecting it again', async () => {
    const owner = createTestCaller();
    const created = (await subgraph.call(owner, connectMailbox, { input: validInput() })).data!['connectMailbox'];
    const updated = await subgraph.call(owner, `mutation ($id: ID!, $input: UpdateMailboxInput!) { updateMailbox(id: $id, input: $input) { status dailyLimit sendWindow { timeZone start end days } } }`, {
      id: created.id,
      input: { status: 'PAUSED', dailyLimit: 10, sendWindow: { timeZone: 'Asia/Tokyo', start: '10:00', end: '12:00' } },
    });
    expect(updated.errors).toBeUndefined();
    expect(updated.data!['updateMailbox']).toEqual({ status: 'PAUSED', dailyLimit: 10, sendWindow: { timeZone: 'Asia/Tokyo', start: '10:00', end: '12:00', days: ['MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY'] } });
    const failing = await subgraph.call(owner, `mutation ($id: ID!) { updateMailbox(id: $id, input: { status: FAILING }) { status } }`, { id: created.id });
    expect(failing.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'status' });
  });
});
