import { PassThrough, Transform, Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import EmailReplyParser from 'email-reply-parser';
import { MailParser, type AddressObject, type AttachmentStream, type MessageText } from 'mailparser';
import { autoReplyKindOf, type AutoReplyKind } from './auto-reply.js';
import { parseDeliveryStatus, type DeliveryStatusReport } from './delivery-status.js';
import { parseMessageIds } from './message-id.js';

/** An inbound message as the conversation engine needs it; never the whole raw message. */
export interface InboundMail {
  /** `<id@host>` as sent, or null when the message has none. */
  messageId: string | null;
  inReplyTo: string | null;
  references: string[];
  from: { address: string; name: string | null } | null;
  subject: string;
  date: Date | null;
  /** The whole text (plain, or made from the HTML), cut at `maxTextChars`. */
  text: string;
  /** The new words only: quoted history and signature removed. */
  replyText: string;
  autoReply: AutoReplyKind | null;
  /** Set for a delivery status notification (RFC 3464). */
  deliveryStatus: DeliveryStatusReport | null;
  /**
   * Every Message-ID found below the top-level headers: the returned original of a DSN, or the
   * quoted headers of a forwarded message. A bounce names the message it is about here.
   */
  embeddedMessageIds: string[];
  attachments: { filename: string | null; contentType: string; size: number }[];
  /** Size of the raw message in bytes. */
  size: number;
}

/** The message is not one we can read (no headers, broken MIME); nothing about it is kept. */
export class MalformedMailError extends Error {
  override readonly name = 'MalformedMailError';
  readonly isRetryable = false;
}

/** Bigger than the inbound limit. */
export class OversizedMailError extends Error {
  override readonly name = 'OversizedMailError';
  readonly isRetryable = false;
}

export interface ParseInboundOptions {
  /** Bytes read at most; more fails with OversizedMailError. */
  maxBytes: number;
  /** Characters of text kept. Default: 200 000. */
  maxTextChars?: number;
}

const smallPartLimit = 64 * 1024;
const replyParser = new EmailReplyParser();

/**
 * Reads a raw RFC 5322 message as it streams in (webhook body or IMAP download): headers, text in
 * its declared charset, a DSN's report, the Message-IDs of what it quotes or returns. Attachments
 * are counted and dropped as they pass, so a 30 MB attachment costs no memory.
 */
export async function parseInboundMail(source: Readable, options: ParseInboundOptions): Promise<InboundMail> {
  const maxTextChars = options.maxTextChars ?? 200_000;
  let size = 0;
  const limiter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      size += chunk.length;
      if (size > options.maxBytes) return done(new OversizedMailError(`the message is over the ${options.maxBytes}-byte limit`));
      done(null, chunk);
    },
  });
  const sniffer = createMessageIdSniffer();
  const toSniffer = new PassThrough();
  const parser = new MailParser({ keepDeliveryStatus: true, skipImageLinks: true, maxHtmlLengthToParse: 2 * 1024 * 1024 });
  let headers: Map<string, unknown> | null = null;
  let text = '';
  const attachments: InboundMail['attachments'] = [];
  let deliveryStatusBody: string | null = null;
  const pending: Promise<void>[] = [];

  parser.on('headers', (parsed: Map<string, unknown>) => (headers = parsed));
  parser.on('data', (data: AttachmentStream | MessageText) => {
    if (data.type === 'text') {
      text = (data.text ?? '').slice(0, maxTextChars);
      return;
    }
    const keep = data.contentType === 'message/delivery-status' || data.contentType === 'message/global-delivery-status';
    const chunks: Buffer[] = [];
    let partSize = 0;
    pending.push(
      new Promise<void>((resolve, reject) => {
        data.content.on('data', (chunk: Buffer) => {
          partSize += chunk.length;
          if (keep && partSize <= smallPartLimit) chunks.push(chunk);
        });
        data.content.on('error', reject);
        data.content.on('end', () => {
          attachments.push({ filename: data.filename ?? null, contentType: data.contentType, size: partSize });
          if (keep) deliveryStatusBody = Buffer.concat(chunks).toString('utf8');
          data.release?.();
          resolve();
        });
      }),
    );
  });

  const tee = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      toSniffer.write(chunk);
      done(null, chunk);
    },
    flush(done) {
      toSniffer.end();
      done();
    },
  });
  try {
    await Promise.all([
      pipeline(source, limiter, tee, parser, new Writable({ objectMode: true, write: (_chunk, _encoding, done) => done() })),
      pipeline(toSniffer, sniffer.stream),
    ]);
    await Promise.all(pending);
  } catch (error) {
    toSniffer.destroy();
    if (error instanceof OversizedMailError) throw error;
    throw new MalformedMailError(`the message could not be read as MIME: ${(error as Error).message}`, { cause: error });
  }
  const parsed = headers as Map<string, unknown> | null;
  if (!parsed || parsed.size === 0) throw new MalformedMailError('the message has no headers');
  const header = (name: string): string | null => {
    const value = parsed.get(name);
    if (value === undefined || value === null) return null;
    if (typeof value === 'string') return value;
    if (typeof value === 'object' && 'value' in (value as object)) return String((value as { value: unknown }).value);
    return String(value);
  };
  const fromHeader = parsed.get('from') as AddressObject | undefined;
  const fromAddress = fromHeader?.value?.[0];
  const subject = header('subject') ?? '';
  const messageId = parseMessageIds(header('message-id') ?? '')[0] ?? null;
  const inReplyTo = parseMessageIds(header('in-reply-to') ?? '')[0] ?? null;
  const references = parseMessageIds(rawReferences(parsed.get('references')));
  const date = parsed.get('date') instanceof Date ? (parsed.get('date') as Date) : null;
  const contentType = parsed.get('content-type') as { value?: string; params?: Record<string, string> } | undefined;
  const isReport = contentType?.value === 'multipart/report' && /delivery-status/i.test(contentType.params?.['report-type'] ?? '');
  const deliveryStatus = isReport || deliveryStatusBody !== null ? parseDeliveryStatus(deliveryStatusBody ?? '') : null;
  const autoReply = deliveryStatus
    ? null
    : autoReplyKindOf(
        {
          autoSubmitted: header('auto-submitted'),
          precedence: header('precedence'),
          xAutoreply: header('x-autoreply'),
          xAutorespond: header('x-autorespond'),
          xAutoResponseSuppress: header('x-auto-response-suppress'),
          subject,
        },
        text,
      );
  return {
    messageId,
    inReplyTo,
    references,
    from: fromAddress?.address ? { address: fromAddress.address.toLowerCase(), name: fromAddress.name || null } : null,
    subject,
    date,
    text,
    replyText: deliveryStatus ? '' : visibleReplyText(text),
    autoReply,
    deliveryStatus,
    embeddedMessageIds: sniffer.messageIds().filter((id) => id !== messageId),
    attachments,
    size,
  };
}

function rawReferences(value: unknown): string {
  if (Array.isArray(value)) return value.join(' ');
  return typeof value === 'string' ? value : '';
}

/** The words the person wrote in this message: quoted history and signature cut off. */
export function visibleReplyText(text: string): string {
  const normalised = text.replace(/\r\n/g, '\n');
  const visible = replyParser.read(normalised).getVisibleText().trim();
  // A message that is only a quote (a forward without comment) keeps its text rather than nothing.
  return visible || normalised.trim();
}

/**
 * Collects the values of every `Message-ID:` header line anywhere in the raw message (nested
 * messages and quoted header blocks included), a line at a time, so memory stays bounded.
 */
function createMessageIdSniffer(): { stream: Writable; messageIds(): string[] } {
  const found = new Set<string>();
  let carry = '';
  const scan = (line: string) => {
    const match = /^(?:Message-ID|Original-Message-ID|X-Original-Message-ID)\s*:\s*(.*)$/i.exec(line);
    if (match && found.size < 50) for (const id of parseMessageIds(match[1]!)) found.add(id);
  };
  return {
    stream: new Writable({
      write(chunk: Buffer, _encoding, done) {
        const lines = (carry + chunk.toString('latin1')).split('\n');
        carry = (lines.pop() ?? '').slice(-2_000);
        for (const line of lines) scan(line.replace(/\r$/, ''));
        done();
      },
      final(done) {
        scan(carry);
        done();
      },
    }),
    messageIds: () => [...found],
  };
}
