// What the conversation stack tests share: a stack whose conversation service reaches a local SMTP
// sink and IMAP server, a campaign with a generated email sequence, leads in crm-service, a mailbox.
import { createServer } from 'node:net';
import { headerOf, startMailSink, startTestImapServer, type FixtureSite, type MailSink, type SinkMessage, type TestImapServer } from '@gtm/testing';
import { createCampaign, startNorthwindSite } from './campaign-fixtures.js';
import { startStack, type Stack } from './stack.js';

export const mailboxAddress = 'sam@northwind.example';
export const smtpPassword = 'smtp-secret-7c1e9a2b';
export const imapPassword = 'imap-secret-5d3f8b0a';
export const webhookSecret = 'webhook-secret-0123456789';

export interface ConversationStack {
  stack: Stack;
  site: FixtureSite;
  sink: MailSink;
  imap: TestImapServer;
  gql: Stack['gql'];
  close(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * The stack with a mail sink and an IMAP server on loopback (allowed by MAIL_HOST_ALLOWLIST) and
 * the gateway on a port chosen first, so unsubscribe links and webhook URLs point at it.
 */
export async function startConversationStack(options: { conversationEnvironment?: Record<string, string> } = {}): Promise<ConversationStack> {
  const [site, sink, imap, gatewayPort] = await Promise.all([
    startNorthwindSite(),
    startMailSink({ users: { [mailboxAddress]: smtpPassword }, recipientVerdict: (address) => (address.startsWith('nobody@') ? { code: 550, message: '5.1.1 <nobody>: Recipient address rejected: User unknown' } : 'accept') }),
    startTestImapServer({ user: mailboxAddress, password: imapPassword }),
    freePort(),
  ]);
  const stack = await startStack({
    gatewayEnvironment: { GATEWAY_PORT: String(gatewayPort) },
    subgraphEnvironment: {
      content: { CONTENT_FETCH_ALLOWLIST: site.host },
      conversation: {
        MAIL_HOST_ALLOWLIST: '127.0.0.1',
        PUBLIC_URL: `http://127.0.0.1:${gatewayPort}`,
        MAILBOX_POLL_INTERVAL_MS: '500',
        MAIL_CONNECT_TIMEOUT_MS: '5000',
        ...options.conversationEnvironment,
      },
    },
  });
  return {
    stack,
    site,
    sink,
    imap,
    gql: stack.gql,
    async close() {
      await stack.close();
      await Promise.all([site.close(), sink.close(), imap.close()]);
    },
  };
}

const generateAsset = `mutation ($id: ID!) { generateAsset(campaignId: $id, kind: EMAIL_SEQUENCE) { emailSequence { emails { step delayDays subject body } } } }`;
const correctAsset = `mutation ($input: CorrectAssetInput!) { correctAsset(input: $input) { id } }`;

/**
 * A campaign for the Northwind site with its email sequence generated (offline provider), and the
 * delays corrected as a user would: step 2 at once after step 1, the rest a day apart, so a test
 * sees a follow-up go out and the later ones wait.
 */
export async function createCampaignWithSequence(environment: ConversationStack, headers?: Record<string, string>): Promise<{ id: string; emails: { step: number; subject: string; body: string }[] }> {
  const created = await environment.gql(createCampaign, { input: { websiteUrl: environment.site.origin, name: 'Northwind outbound' } }, headers);
  if (created.errors) throw new Error(JSON.stringify(created.errors));
  const id = created.data!['createCampaign'].id as string;
  const generated = await environment.gql(generateAsset, { id }, headers);
  if (generated.errors) throw new Error(JSON.stringify(generated.errors));
  const emails = generated.data!['generateAsset'].emailSequence.emails as { step: number; delayDays: number; subject: string; body: string }[];
  for (const [index] of emails.entries()) {
    if (index === 0) continue;
    const corrected = await environment.gql(correctAsset, { input: { campaignId: id, kind: 'EMAIL_SEQUENCE', scope: 'FIELD', fieldPath: `emails[${index}].delayDays`, value: index === 1 ? 0 : 1 } }, headers);
    if (corrected.errors) throw new Error(JSON.stringify(corrected.errors));
  }
  return { id, emails };
}

export async function createLead(environment: ConversationStack, input: Record<string, unknown>, headers?: Record<string, string>): Promise<string> {
  const company = input['company'] as string | undefined;
  let companyId: string | undefined;
  if (company) {
    const createdCompany = await environment.gql(`mutation ($input: CreateCompanyInput!) { createCompany(input: $input) { id } }`, { input: { name: company } }, headers);
    companyId = createdCompany.data!['createCompany'].id;
  }
  const { company: _company, ...fields } = input;
  const result = await environment.gql(`mutation ($input: CreateLeadInput!) { createLead(input: $input) { id } }`, { input: { ...fields, companyId } }, headers);
  if (result.errors) throw new Error(JSON.stringify(result.errors));
  return result.data!['createLead'].id;
}

/** A mailbox on the sink and the IMAP server that sends at any hour, without pacing. */
export function mailboxInput(environment: ConversationStack, overrides: Record<string, unknown> = {}) {
  return {
    address: mailboxAddress,
    displayName: 'Sam Carter',
    smtp: { host: '127.0.0.1', port: environment.sink.port, security: 'NONE', username: mailboxAddress, password: smtpPassword },
    imap: { host: '127.0.0.1', port: environment.imap.port, security: 'NONE', username: mailboxAddress, password: imapPassword },
    dailyLimit: 500,
    sendWindow: { timeZone: 'UTC', start: '00:00', end: '23:59', days: ['MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY', 'SUNDAY'] },
    pacing: { minimumSecondsBetweenSends: 0, jitterSeconds: 0 },
    webhookSecret,
    ...overrides,
  };
}

export const connectMailbox = `mutation ($input: ConnectMailboxInput!) { connectMailbox(input: $input) { id address webhookUrl } }`;

export const conversationFields = `id state status subject intent intentConfidence leadEmail nextSendAt followUpAt closeReason requireApproval
  bant { budget { value quote } authority { value quote } need { value quote } timeline { value quote } }
  lead { id email status } campaign { id } mailbox { id address }
  enrollment { id enrolled requested skipped { lead { id } email reason detail } }
  pendingReply { id status subject text intent confidence author inReplyTo }
  messages(first: 20) { id direction kind status step subject text messageId inReplyTo from to scheduledAt sentAt receivedAt intent confidence author error rejectionReason }`;

// Lighter than a whole conversation: a list of them, each with its messages, is costed per item.
export const enrollLeads = `mutation ($input: EnrollLeadsInput!) { enrollLeads(input: $input) {
  id state requireApproval nextSendAt lead { id } campaign { id } mailbox { id }
  enrollment { enrolled requested skipped { lead { id } email reason detail } }
  messages(first: 8) { id status step scheduledAt } } }`;

/** The unsubscribe URL of a sent message's List-Unsubscribe header. */
export function unsubscribeUrlOf(message: SinkMessage): string {
  const header = headerOf(message, 'list-unsubscribe') ?? '';
  const url = /<(https?:\/\/[^>]+)>/.exec(header)?.[1];
  if (!url) throw new Error(`no unsubscribe URL in "${header}"`);
  return url;
}

/** Polls a conversation until `check` accepts it (or fails after `timeoutMs`). */
export async function waitForConversation(environment: ConversationStack, id: string, check: (conversation: Record<string, any>) => boolean, timeoutMs = 30_000, headers?: Record<string, string>): Promise<Record<string, any>> {
  const deadline = Date.now() + timeoutMs;
  let last: Record<string, any> | null = null;
  while (Date.now() < deadline) {
    const result = await environment.gql(`query ($id: ID!) { conversation(id: $id) { ${conversationFields} } }`, { id }, headers);
    last = result.data?.['conversation'] ?? null;
    if (last && check(last)) return last;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`conversation ${id} did not reach the expected state; last seen: ${JSON.stringify(last)}`);
}
