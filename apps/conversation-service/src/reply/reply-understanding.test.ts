import { Readable } from 'node:stream';
import { describe, expect, it } from '@jest/globals';
import { parseInboundMail } from '../mail/inbound-mail.js';
import { mailFixture } from '../mail/mail-fixtures.fixture.js';
import { ReplyIntent } from './reply-intent.js';
import { followUpDateFrom, understandOffline } from './reply-understanding.task.js';

const values = { lead: 'lead@lead.example', mailbox: 'sam@sender.example', outboundMessageId: '<x@sender.example>' };
const understand = async (fixture: string, subject?: string) => {
  const mail = await parseInboundMail(Readable.from([mailFixture(fixture, { ...values, subject })]), { maxBytes: 1_000_000 });
  return understandOffline({ replyText: mail.replyText, subject: mail.subject, previousMessage: null, leadFirstName: null, today: '2026-12-08' });
};
const read = (replyText: string) => understandOffline({ replyText, subject: 'Re: hello', previousMessage: null, leadFirstName: null, today: '2026-12-08' });

describe('reply understanding offline', () => {
  it('reads the real clients’ replies: a meeting proposal with budget and timeline, an objection, an unsubscribe, a German call request', async () => {
    const gmail = await understand('gmail-reply-interested.eml');
    expect(gmail.intent).toBe(ReplyIntent.MEETING_REQUEST);
    expect(gmail.question).toBe('What does pricing look like for a team of 12 accountants?');
    expect(gmail.bant.budget?.quote).toContain('our budget for it is approved for Q1');
    expect(gmail.bant.timeline).toMatchObject({ value: 'Q1' });
    expect(gmail.bant.need).toMatchObject({ value: expect.stringMatching(/^We're evaluating|^evaluating/i) });
    expect((await understand('outlook-reply-objection.eml')).intent).toBe(ReplyIntent.OBJECTION);
    expect((await understand('apple-mail-reply-unsubscribe.eml')).intent).toBe(ReplyIntent.UNSUBSCRIBE);
    expect((await understand('thunderbird-reply-latin1.eml', 'Monatsabschluss')).intent).toBe(ReplyIntent.MEETING_REQUEST);
  });

  it('catches clear answers, and calls everything else OTHER with low confidence', () => {
    expect(read('Please take me off this list.')).toMatchObject({ intent: ReplyIntent.UNSUBSCRIBE });
    expect(read('No thanks, not interested.')).toMatchObject({ intent: ReplyIntent.NOT_INTERESTED });
    expect(read("I'm not the right person, talk to Maria Lopez in finance.")).toMatchObject({ intent: ReplyIntent.WRONG_PERSON, referral: 'Maria Lopez in finance' });
    expect(read('Not right now. Reach out again in 3 months.')).toMatchObject({ intent: ReplyIntent.NOT_NOW, followUpDate: '2027-03-08' });
    expect(read('Yes, tell me more.')).toMatchObject({ intent: ReplyIntent.INTERESTED });
    expect(read('Does it integrate with NetSuite?')).toMatchObject({ intent: ReplyIntent.INFORMATION_REQUEST, question: 'Does it integrate with NetSuite?' });
    const unclear = read('Hmm. Interesting timing, my cat just walked over the keyboard');
    expect(unclear).toMatchObject({ intent: ReplyIntent.OTHER, confidence: 0.3, bant: { budget: null, authority: null, need: null, timeline: null } });
  });

  it('reads a follow-up date against today', () => {
    expect(followUpDateFrom('try me next quarter', '2026-12-08')).toBe('2027-01-01');
    expect(followUpDateFrom('check back in two weeks', '2026-12-08')).toBe('2026-12-22');
    expect(followUpDateFrom('after March is better', '2026-12-08')).toBe('2027-03-01');
    expect(followUpDateFrom('some day', '2026-12-08')).toBeNull();
  });
});
