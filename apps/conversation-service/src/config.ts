import { llmEnvironmentSchema } from '@gtm/llm';
import { jobWorkerEnvironmentSchema, parseEnvironment, portSchema, subgraphEnvironmentSchema } from '@gtm/runtime';
import { z } from 'zod';

const httpUrl = z.string().refine((value) => /^https?:\/\//.test(value) && URL.canParse(value), 'must be an http(s):// URL');
const integer = (minimum: number, maximum: number, fallback: number) => z.coerce.number().int().min(minimum).max(maximum).default(fallback);

const allowlistEntry = z
  .string()
  .refine((entry) => /^[a-z0-9.-]+(:\d{1,5})?$/i.test(entry) || /^\[[0-9a-f:]+\](:\d{1,5})?$/i.test(entry), 'entries must be host or host:port');

const conversationEnvironmentSchema = z.object({
  ...subgraphEnvironmentSchema.shape,
  ...llmEnvironmentSchema.shape,
  ...jobWorkerEnvironmentSchema.shape,
  PORT: portSchema.default(4005),
  /** crm-service's GraphQL URL: leads are read there with the caller's token. Default: its `npm start` port. */
  CRM_SERVICE_URL: httpUrl.default('http://127.0.0.1:4004/graphql'),
  /** campaign-service's GraphQL URL: the email sequence and the positioning replies are grounded in. */
  CAMPAIGN_SERVICE_URL: httpUrl.default('http://127.0.0.1:4001/graphql'),
  /** enrichment-service's GraphQL URL: a lead's ice-breaker, when it has been enriched. */
  ENRICHMENT_SERVICE_URL: httpUrl.default('http://127.0.0.1:4003/graphql'),
  /** Longest one call to another service may take. Default: 15 000 ms. */
  UPSTREAM_TIMEOUT_MS: integer(100, 120_000, 15_000),
  /**
   * The gateway's public origin (as crm-service reads it): every message's unsubscribe link and
   * each mailbox's webhook URL start with it. Default: `http://localhost:4000` (npm start).
   */
  PUBLIC_URL: z
    .string()
    .refine((value) => /^https?:\/\/[^/]+\/?$/.test(value) && URL.canParse(value), 'must be an origin such as https://api.example.com (scheme and host, no path)')
    .default('http://localhost:4000')
    .transform((value) => value.replace(/\/$/, '')),
  /**
   * Mail servers a mailbox may use although they resolve to private or loopback addresses
   * (`host` or `host:port`, comma-separated): a local mail sink, an internal relay. Every other
   * private address is refused. Default: none (`npm start` adds its mail sink).
   */
  MAIL_HOST_ALLOWLIST: z
    .string()
    .default('')
    .transform((value) => value.split(',').map((entry) => entry.trim()).filter(Boolean))
    .pipe(z.array(allowlistEntry)),
  /** Longest an SMTP or IMAP connection may take to open, log in or answer. Default: 15 000 ms. */
  MAIL_CONNECT_TIMEOUT_MS: integer(500, 120_000, 15_000),
  /**
   * How often each mailbox's inbox is read when its server offers no IDLE, and how long an IDLE
   * lasts before it is renewed. Default: 60 000 ms.
   */
  MAILBOX_POLL_INTERVAL_MS: integer(200, 3_600_000, 60_000),
  /** Read inboxes at all in this process (another process of the service may do it). Default: true. */
  MAILBOX_WATCHER_ENABLED: z
    .enum(['true', 'false', '1', '0'])
    .default('true')
    .transform((value) => value === 'true' || value === '1'),
  /** Largest inbound message accepted (webhook or IMAP), attachments included; bigger is refused. Default: 50 MiB. */
  INBOUND_MESSAGE_MAX_BYTES: integer(10_000, 200 * 1024 * 1024, 50 * 1024 * 1024),
  /** How far a signed webhook's timestamp may be from now, against replays. Default: 300 s. */
  WEBHOOK_TOLERANCE_SECONDS: integer(10, 86_400, 300),
  /** Reply understanding below this confidence always waits for a person, even without requireApproval. Default: 0.7. */
  AUTO_SEND_MIN_CONFIDENCE: z.coerce.number().min(0).max(1).default(0.7),
});

export type ConversationConfig = z.infer<typeof conversationEnvironmentSchema>;

/** The only place the conversation service reads the environment. */
export function loadConfig(environment: Record<string, string | undefined> = process.env): ConversationConfig {
  return parseEnvironment(conversationEnvironmentSchema, environment);
}
