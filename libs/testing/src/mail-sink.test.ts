import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createTransport } from 'nodemailer';
import { headerOf, startMailSink, type MailSink } from './mail-sink.js';

let sink: MailSink;

beforeAll(async () => {
  sink = await startMailSink({
    httpPort: 0,
    maxMessageBytes: 2 * 1024 * 1024,
    users: { 'sender@example.test': 'right password' },
    recipientVerdict: (address) => (address.startsWith('gone@') ? { code: 550, message: '5.1.1 No such user' } : address.startsWith('busy@') ? { code: 451, message: '4.7.1 Try again later' } : 'accept'),
  });
});

afterAll(() => sink?.close());

const transport = (password = 'right password') =>
  createTransport({ host: sink.host, port: sink.port, secure: false, ignoreTLS: true, auth: { user: 'sender@example.test', pass: password } });

describe('mail sink', () => {
  it('keeps what a real SMTP client sends: envelope, headers, text, attachments, raw bytes', async () => {
    const before = sink.acceptedCount;
    const info = await transport().sendMail({
      from: 'Sender <sender@example.test>',
      to: 'Lead <lead@example.test>',
      subject: 'Grüße aus Köln',
      text: 'Hello there, this is the body.',
      messageId: '<one@example.test>',
      headers: { 'List-Unsubscribe': '<https://example.test/unsubscribe/abc>', 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' },
      attachments: [{ filename: 'notes.txt', content: 'x'.repeat(5000) }],
    });
    expect(info.accepted).toEqual(['lead@example.test']);
    const [message] = await sink.waitForCount(before + 1).then((all) => all.slice(-1));
    expect(message!.envelope).toEqual({ mailFrom: 'sender@example.test', rcptTo: ['lead@example.test'] });
    expect(message!.authenticatedUser).toBe('sender@example.test');
    expect(message!.subject).toBe('Grüße aus Köln');
    expect(message!.text.trim()).toBe('Hello there, this is the body.');
    expect(headerOf(message!, 'message-id')).toBe('<one@example.test>');
    expect(headerOf(message!, 'List-Unsubscribe-Post')).toBe('List-Unsubscribe=One-Click');
    expect(message!.attachments).toEqual([{ filename: 'notes.txt', contentType: 'text/plain', size: 5000 }]);
    const raw = (await sink.raw(message!.id)).toString('utf8');
    expect(raw).toContain('Message-ID: <one@example.test>');
    expect(raw.length).toBe(message!.size);
    expect(sink.messagesTo('lead@example.test').map((found) => found.id)).toContain(message!.id);
  });

  it('refuses a wrong password, a hard-bounced and a deferred recipient, and a message over its size', async () => {
    await expect(transport('wrong').sendMail({ from: 'sender@example.test', to: 'lead@example.test', text: 'x' })).rejects.toMatchObject({ responseCode: 535 });
    await expect(transport().sendMail({ from: 'sender@example.test', to: 'gone@example.test', text: 'x' })).rejects.toMatchObject({ responseCode: 550 });
    await expect(transport().sendMail({ from: 'sender@example.test', to: 'busy@example.test', text: 'x' })).rejects.toMatchObject({ responseCode: 451 });
    const count = sink.acceptedCount;
    await expect(transport().sendMail({ from: 'sender@example.test', to: 'lead@example.test', text: 'y'.repeat(3 * 1024 * 1024) })).rejects.toMatchObject({ responseCode: 552 });
    expect(sink.acceptedCount).toBe(count);
  });

  it('plays a server that is away', async () => {
    sink.setUnavailable(true);
    try {
      await expect(transport().sendMail({ from: 'sender@example.test', to: 'lead@example.test', text: 'x' })).rejects.toMatchObject({ responseCode: 421 });
    } finally {
      sink.setUnavailable(false);
    }
  });

  it('shows its messages on a page and as JSON', async () => {
    await transport().sendMail({ from: 'sender@example.test', to: 'page@example.test', subject: 'On the <page>', text: 'visible' });
    await sink.waitFor((message) => message.subject === 'On the <page>');
    const list = (await (await fetch(`${sink.httpUrl}/api/messages`)).json()) as { messages: { id: string; subject: string }[] };
    expect(list.messages[0]!.subject).toBe('On the <page>');
    const one = (await (await fetch(`${sink.httpUrl}/api/messages/${list.messages[0]!.id}`)).json()) as { text: string };
    expect(one.text.trim()).toBe('visible');
    const page = await (await fetch(`${sink.httpUrl}/`)).text();
    expect(page).toContain('On the &#60;page&#62;');
    const raw = await fetch(`${sink.httpUrl}/api/messages/${list.messages[0]!.id}/raw`);
    expect(raw.headers.get('content-type')).toBe('message/rfc822');
    expect(await raw.text()).toContain('Subject: On the <page>');
  });
});
