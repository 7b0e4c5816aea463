import { getSystemErrorName } from 'node:util';

/** Why talking to a mail server failed, in terms a user can act on. */
export type MailFailureReason =
  /** No connection: refused, no route, DNS. Retried. */
  | 'UNREACHABLE'
  /** The server did not answer in time. Retried. */
  | 'TIMEOUT'
  /** The server refused the username or password. Not retried: the mailbox needs new credentials. */
  | 'AUTHENTICATION_FAILED'
  /** TLS could not be set up (no STARTTLS, a bad certificate …). Not retried. */
  | 'TLS'
  /** The host resolves to an address this service may not connect to. Not retried. */
  | 'REFUSED_ADDRESS'
  /** The server refused this recipient for good (5xx). Not retried: the address bounces. */
  | 'RECIPIENT_REJECTED'
  /** The server refused the message for good (5xx on DATA). Not retried. */
  | 'MESSAGE_REJECTED'
  /** The server deferred (4xx): try again later. Retried. */
  | 'DEFERRED'
  /** Something else went wrong in the conversation with the server. Retried. */
  | 'PROTOCOL';

const retryable = new Set<MailFailureReason>(['UNREACHABLE', 'TIMEOUT', 'DEFERRED', 'PROTOCOL']);

/**
 * A failure of an SMTP or IMAP server. The message names the server and what happened, never a
 * password; `isRetryable` says whether trying again later can help.
 */
export class MailServerError extends Error {
  override readonly name = 'MailServerError';
  readonly isRetryable: boolean;

  constructor(
    message: string,
    readonly reason: MailFailureReason,
    readonly responseCode?: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.isRetryable = retryable.has(reason);
  }
}

const unreachableCodes = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNRESET', 'EPIPE', 'NoConnection', 'ClosedAfterConnectTLS', 'ClosedAfterConnectText']);
const timeoutCodes = new Set(['ETIMEDOUT', 'ETIMEOUT', 'CONNECT_TIMEOUT', 'GREETING_TIMEOUT', 'ProxyTimeout']);

function systemErrorName(errno: number): string {
  try {
    return getSystemErrorName(errno);
  } catch {
    return String(errno);
  }
}

interface LibraryError {
  code?: string;
  errno?: string | number;
  responseCode?: number;
  response?: string;
  authenticationFailed?: boolean;
  responseText?: string;
  message?: string;
  cause?: unknown;
}

/** The server's own words, without anything that could carry a credential. */
function serverWords(error: LibraryError): string {
  const words = (error.response ?? error.responseText ?? '').replace(/\s+/g, ' ').trim();
  return words ? `: ${words.slice(0, 200)}` : '';
}

/**
 * Turns what nodemailer or imapflow threw into a MailServerError. `where` names the server
 * (`SMTP smtp.example.com:587`), `during` the step (`login`, `sending to x@y`).
 */
export function classifyMailError(error: unknown, where: string, during: string): MailServerError {
  if (error instanceof MailServerError) return error;
  const failure = (error ?? {}) as LibraryError;
  const cause = (failure.cause ?? {}) as LibraryError;
  const code = failure.code ?? cause.code ?? '';
  const rawErrno: unknown = failure.errno ?? cause.errno ?? '';
  // Node gives the errno as a negative number (-111); its name (ECONNREFUSED) is what people search for.
  const errno = typeof rawErrno === 'number' ? systemErrorName(rawErrno) : String(rawErrno);
  const responseCode = typeof failure.responseCode === 'number' ? failure.responseCode : undefined;
  const options = { cause: error };
  if (code === 'EAUTH' || failure.authenticationFailed) {
    return new MailServerError(`${where} refused the login${serverWords(failure)}. Check the username and password.`, 'AUTHENTICATION_FAILED', responseCode, options);
  }
  if (code === 'ETLS' || /certificate|self[- ]signed|SSL|TLS/i.test(failure.message ?? '')) {
    return new MailServerError(`${where}: TLS could not be set up (${(failure.message ?? code).slice(0, 160)}). Check the port and the security setting.`, 'TLS', responseCode, options);
  }
  if (responseCode !== undefined && responseCode >= 500) {
    const reason = code === 'EENVELOPE' ? 'RECIPIENT_REJECTED' : 'MESSAGE_REJECTED';
    return new MailServerError(`${where} refused ${during} (${responseCode})${serverWords(failure)}`, reason, responseCode, options);
  }
  if (responseCode !== undefined && responseCode >= 400) {
    return new MailServerError(`${where} deferred ${during} (${responseCode})${serverWords(failure)}`, 'DEFERRED', responseCode, options);
  }
  if (timeoutCodes.has(code) || timeoutCodes.has(errno)) {
    return new MailServerError(`${where} did not answer in time during ${during}.`, 'TIMEOUT', responseCode, options);
  }
  if (unreachableCodes.has(code) || unreachableCodes.has(errno) || code === 'ECONNECTION' || code === 'ESOCKET' || code === 'EDNS') {
    return new MailServerError(`${where} could not be reached (${errno || code}). Check the host and port, and that the server is up.`, 'UNREACHABLE', responseCode, options);
  }
  return new MailServerError(`${where} failed during ${during} (${code || 'protocol error'})${serverWords(failure)}`, 'PROTOCOL', responseCode, options);
}
