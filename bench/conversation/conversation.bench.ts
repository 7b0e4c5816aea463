// Two measures of the conversation engine, on the real services (crm, content, campaign,
// conversation) called as the gateway calls them, PostgreSQL, Redis and the local SMTP sink:
//
// 1. Sending: 1,000 leads enrolled in one enrollLeads call, from the call to the 1,000th first
//    step accepted by the SMTP sink (the window open, no pacing, a daily limit above 1,000), beside
//    the sink's own accept rate for the same messages sent straight from nodemailer over one pooled
//    connection, as the service's sender uses. Messages per second, and the ratio.
// 2. Replies: one signed webhook reply at a time, from the POST to the events the conversation
//    publishes on Redis (received, intent classified, draft ready), with a model that answers every
//    call in exactly 300 ms (a local OpenAI-protocol server on its own thread). p50 and p99.
//
//   npm run bench:conversations              (builds first; needs PostgreSQL and Redis like the tests)
//   BENCH_LEADS=300 BENCH_REPLIES=20 npm run bench:conversations
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { callerTokenHeader } from '@gtm/caller';
import { createApp as createCampaignApp } from '@gtm/campaign-service/app';
import { loadConfig as loadCampaignConfig } from '@gtm/campaign-service/config';
import { createApp as createContentApp } from '@gtm/content-service/app';
import { loadConfig as loadContentConfig } from '@gtm/content-service/config';
import { createApp as createConversationApp } from '@gtm/conversation-service/app';
import { loadConfig as loadConversationConfig } from '@gtm/conversation-service/config';
import { signWebhook } from '@gtm/conversation-service/webhook-signature';
import { createApp as createCrmApp } from '@gtm/crm-service/app';
import { loadConfig as loadCrmConfig } from '@gtm/crm-service/config';
import { createLogger } from '@gtm/runtime';
import { createSubgraphClient, createSubgraphTestSetup, createTestCaller, startFixtureSite, startMailSink } from '@gtm/testing';
import { createTransport } from 'nodemailer';

const leadCount = Number(process.env['BENCH_LEADS'] ?? 1_000);
const replyCount = Number(process.env['BENCH_REPLIES'] ?? 40);
const modelMs = 300;
const address = 'sam@bench.example';
const password = 'bench-password';
const webhookSecret = 'bench-webhook-secret-0001';

const site = await startFixtureSite(fileURLToPath(new URL('../../apps/content-service/fixtures/northwind-site', import.meta.url)), {
  '/robots.txt': (_request, response) => void response.writeHead(200, { 'content-type': 'text/plain' }).end(`User-agent: *\nSitemap: ${site.origin}/sitemap.xml\n`),
});
const model = new Worker(new URL('../campaign/model-server.worker.ts', import.meta.url), { workerData: { delayMs: modelMs } });
const { baseURL } = await new Promise<{ baseURL: string }>((resolve) => model.once('message', resolve));
const sink = await startMailSink({ users: { [address]: password }, keep: leadCount + 10 });
const setup = await createSubgraphTestSetup();
const logger = createLogger({ service: 'bench', level: (process.env['BENCH_LOG_LEVEL'] as 'silent' | undefined) ?? 'silent' });
const environment = { ...setup.environment, DATABASE_POOL_MAX: '10' };
const content = await createContentApp(loadContentConfig({ ...environment, CONTENT_FETCH_ALLOWLIST: site.host }), { logger });
const campaign = await createCampaignApp(loadCampaignConfig({ ...environment, CONTENT_SERVICE_URL: content.url, CONTENT_FETCH_ALLOWLIST: site.host }), { logger });
const crm = await createCrmApp(loadCrmConfig(environment), { logger });
const conversation = await createConversationApp(
  loadConversationConfig({
    ...environment,
    CRM_SERVICE_URL: crm.url,
    CAMPAIGN_SERVICE_URL: campaign.url,
    // No enrichment service here: enrolment goes on without ice-breakers, as it does when that service is away.
    ENRICHMENT_SERVICE_URL: crm.url,
    MAIL_HOST_ALLOWLIST: '127.0.0.1',
    MAILBOX_WATCHER_ENABLED: 'false',
    JOB_WORKER_CONCURRENCY: '4',
    LLM_PROVIDERS: 'openai',
    OPENAI_API_KEY: 'sk-bench',
    OPENAI_BASE_URL: baseURL,
    LLM_CACHE_TTL_SECONDS: '0',
    LLM_MAX_RETRIES: '0',
  }),
  { logger },
);
const caller = createTestCaller();
const progress = (step: string) => process.stderr.write(`${new Date().toISOString()} ${step}\n`);
progress('services started');
const call = (url: string) => createSubgraphClient(url, setup.callerKeys.signer);
const expectData = (result: { data?: Record<string, any> | null; errors?: unknown }) => {
  if (result.errors) throw new Error(JSON.stringify(result.errors));
  return result.data!;
};

const campaignId = expectData(await call(campaign.url)(caller, `mutation ($input: CreateCampaignInput!) { createCampaign(input: $input) { id } }`, { input: { websiteUrl: site.origin } }))['createCampaign'].id;
expectData(await call(campaign.url)(caller, `mutation ($id: ID!) { generateAsset(campaignId: $id, kind: EMAIL_SEQUENCE) { id } }`, { id: campaignId }));
const leadIds: string[] = [];
for (let start = 0; start < leadCount; start += 25) {
  const batch = await Promise.all(
    Array.from({ length: Math.min(25, leadCount - start) }, (_unused, offset) =>
      call(crm.url)(caller, `mutation ($input: CreateLeadInput!) { createLead(input: $input) { id } }`, { input: { firstName: `Lead${start + offset}`, email: `lead${start + offset}@bench-leads.example` } }),
    ),
  );
  leadIds.push(...batch.map((result) => expectData(result)['createLead'].id as string));
}
const mailboxId = expectData(
  await call(conversation.url)(caller, `mutation ($input: ConnectMailboxInput!) { connectMailbox(input: $input) { id } }`, {
    input: {
      address,
      displayName: 'Sam Bench',
      smtp: { host: '127.0.0.1', port: sink.port, security: 'NONE', username: address, password },
      dailyLimit: 2_000,
      sendWindow: { timeZone: 'UTC', start: '00:00', end: '23:59', days: ['MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY', 'SUNDAY'] },
      pacing: { minimumSecondsBetweenSends: 0, jitterSeconds: 0 },
      webhookSecret,
    },
  }),
)['connectMailbox'].id as string;

progress(`campaign, ${leadCount} leads and the mailbox ready`);
// --- 1. The sink's own accept rate: the same number of messages of the same size, one pooled connection.
const sampleBody = 'Hi Lead,\n\n' + 'Northwind Ledger closes the books in days instead of weeks. '.repeat(8) + '\n\nSam Bench';
const transport = createTransport({ host: '127.0.0.1', port: sink.port, secure: false, ignoreTLS: true, auth: { user: address, pass: password }, pool: true, maxConnections: 1, maxMessages: Infinity });
const baselineStart = performance.now();
await Promise.all(Array.from({ length: leadCount }, (_unused, index) => transport.sendMail({ from: address, to: `baseline${index}@bench-leads.example`, subject: 'Baseline', text: sampleBody })));
const baselineSeconds = (performance.now() - baselineStart) / 1000;
transport.close();
sink.clear();
const acceptedBefore = sink.acceptedCount;

progress('baseline sent');
// --- 1. The engine: enrol, then wait for every first step.
const enrolStart = performance.now();
const enrolled = expectData(await call(conversation.url)(caller, `mutation ($input: EnrollLeadsInput!) { enrollLeads(input: $input) { id } }`, { input: { campaignId, mailboxId, leadIds } }))['enrollLeads'] as { id: string }[];
const enrolSeconds = (performance.now() - enrolStart) / 1000;
await sink.waitForCount(acceptedBefore + leadCount, 600_000);
const sendSeconds = (performance.now() - enrolStart) / 1000;
const received = sink.messages();
const firstArrival = Math.min(...received.map((message) => message.receivedAt.getTime()));
const lastArrival = Math.max(...received.map((message) => message.receivedAt.getTime()));

progress('first steps sent');
// --- 2. Replies: webhook POST → events on Redis, one at a time.
const subscriber = conversation.redis.duplicate();
await subscriber.connect().catch(() => undefined);
const channel = `${conversation.redis.options.keyPrefix ?? ''}conversation-events:${caller.tenantId}`;
const waiters = new Map<string, (type: string) => void>();
subscriber.on('message', (_channel: string, text: string) => {
  const event = JSON.parse(text) as { conversationId: string; type: string };
  waiters.get(event.conversationId)?.(event.type);
});
await subscriber.subscribe(channel);
const webhookUrl = conversation.url.replace(/\/graphql$/, `/webhooks/email/${mailboxId}`);
const samples: { received: number; classified: number; drafted: number }[] = [];
const em = conversation.database.forkForTenant(caller.tenantId);
for (const [index, { id }] of enrolled.slice(0, replyCount).entries()) {
  const [first] = await em.getConnection().execute<{ message_id_header: string; to_address: string }[]>(
    'select message_id_header, to_address from conversation.message where conversation_id = ? and step = 1',
    [id],
  );
  const body = Buffer.from(
    `From: Lead <${first!.to_address}>\r\nTo: ${address}\r\nSubject: Re: hello\r\nMessage-ID: <bench-reply-${index}@bench-leads.example>\r\nIn-Reply-To: ${first!.message_id_header}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nInteresting. What does it cost for a team of twelve, and does it work with NetSuite?\r\n`,
  );
  const times: Record<string, number> = {};
  const done = new Promise<void>((resolve) => {
    waiters.set(id, (type) => {
      times[type] ??= performance.now();
      if (type === 'DRAFT_READY') resolve();
    });
  });
  const started = performance.now();
  const answer = await fetch(webhookUrl, {
    method: 'POST',
    headers: { 'content-type': 'message/rfc822', [callerTokenHeader]: await setup.callerKeys.signer.sign(caller), ...signWebhook(webhookSecret, body) },
    body: new Uint8Array(body),
  });
  if (answer.status !== 202) throw new Error(`webhook answered ${answer.status}: ${await answer.text()}`);
  await done;
  waiters.delete(id);
  progress(`reply ${index + 1} drafted`);
  samples.push({ received: times['REPLY_RECEIVED']! - started, classified: times['INTENT_CLASSIFIED']! - started, drafted: times['DRAFT_READY']! - started });
}

const percentile = (values: number[], share: number) => {
  const sorted = values.toSorted((left, right) => left - right);
  return sorted[Math.min(sorted.length - 1, Math.ceil(share * sorted.length) - 1)]!;
};
const row = (name: string, values: number[]) => `| ${name} | ${percentile(values, 0.5).toFixed(0)} | ${percentile(values, 0.99).toFixed(0)} |`;

const engineRate = leadCount / sendSeconds;
const baselineRate = leadCount / baselineSeconds;
process.stdout.write(
  [
    `Sending ${leadCount} first steps (Node ${process.version}):`,
    '',
    '| measure | seconds | messages/s |',
    '|---|---:|---:|',
    `| SMTP sink accept rate (nodemailer, one pooled connection) | ${baselineSeconds.toFixed(1)} | ${baselineRate.toFixed(0)} |`,
    `| enrollLeads call (read ${leadCount} leads and the campaign, render, book, enqueue) | ${enrolSeconds.toFixed(1)} | |`,
    `| enrollLeads call → last first step accepted | ${sendSeconds.toFixed(1)} | ${engineRate.toFixed(0)} |`,
    `| first → last message accepted | ${((lastArrival - firstArrival) / 1000).toFixed(1)} | ${(leadCount / ((lastArrival - firstArrival) / 1000)).toFixed(0)} |`,
    '',
    `Engine / sink accept rate: ${(engineRate / baselineRate).toFixed(3)}`,
    '',
    `Replies by webhook, one at a time, model answering in ${modelMs} ms (two model calls each: understanding, then the draft), ${samples.length} replies, ms:`,
    '',
    '| from the webhook POST to | p50 | p99 |',
    '|---|---:|---:|',
    row('REPLY_RECEIVED published', samples.map((sample) => sample.received)),
    row('INTENT_CLASSIFIED published', samples.map((sample) => sample.classified)),
    row('DRAFT_READY published', samples.map((sample) => sample.drafted)),
    '',
  ].join('\n'),
);

await subscriber.quit();
await conversation.close();
await crm.close();
await campaign.close();
await content.close();
await sink.close();
await site.close();
model.postMessage('close', []);
await setup.dispose();
process.exit(0);
