import { jobWorkerEnvironmentSchema, parseEnvironment, portSchema, subgraphEnvironmentSchema } from '@gtm/runtime';
import { z } from 'zod';

const allowlistEntry = z
  .string()
  .regex(/^(?:[a-z0-9.-]+|\[[0-9a-f:.]+\])(?::\d{1,5})?$/i, 'entries must be `host` or `host:port`, such as localhost:8080 or crm.internal');

const crmEnvironmentSchema = subgraphEnvironmentSchema.extend({
  ...jobWorkerEnvironmentSchema.shape,
  PORT: portSchema.default(4004),
  /**
   * The gateway's public origin, as providers reach it: webhook URLs are built on it (and HubSpot
   * signs the URL it called). Default: `http://localhost:4000`.
   */
  PUBLIC_URL: z
    .string()
    .refine((value) => /^https?:\/\/[^/]+\/?$/.test(value) && URL.canParse(value), 'must be an origin such as https://api.example.com (scheme and host, no path)')
    .default('http://localhost:4000')
    .transform((value) => value.replace(/\/$/, '')),
  /**
   * Comma-separated `host` or `host:port` entries a CRM base URL may point at even though they
   * resolve to private or loopback addresses (an on-premises CRM, the fakes in tests). Everything
   * else private stays refused. Default: none.
   */
  CRM_FETCH_ALLOWLIST: z
    .string()
    .default('')
    .transform((value) => value.split(',').map((entry) => entry.trim()).filter(Boolean))
    .pipe(z.array(allowlistEntry)),
  /** How far before the stored cursor an incremental import starts, for clock skew and late writes. Default: 300 s. */
  CRM_SYNC_OVERLAP_SECONDS: z.coerce.number().int().min(0).max(86_400).default(300),
  /** Records asked for per provider page. Default: 100. */
  CRM_SYNC_PAGE_SIZE: z.coerce.number().int().min(1).max(200).default(100),
  /** Calls to a provider per request, the first included, before a rate limit or outage fails it. Default: 6. */
  CRM_PROVIDER_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(6),
  /** First wait before a retry when the provider says nothing (then doubling). Default: 500 ms. */
  CRM_PROVIDER_RETRY_BASE_MS: z.coerce.number().int().min(1).max(60_000).default(500),
  /** The largest CSV file a lead import takes, in bytes (the gateway's FILE_MAX_BYTES also applies). Default: 1 GiB. */
  LEAD_IMPORT_MAX_BYTES: z.coerce.number().int().min(1_024).default(1_073_741_824),
  /**
   * Whether a lead created, changed or deleted here is pushed to the tenant's connected CRMs on its
   * own (else only by `syncCrm`). Default: true.
   */
  CRM_PUSH_ON_LEAD_CHANGE: z
    .enum(['true', 'false', '1', '0'])
    .default('true')
    .transform((value) => value === 'true' || value === '1'),
  /** How long a push waits for more changes to join its batch. Default: 2000 ms. */
  CRM_PUSH_DELAY_MS: z.coerce.number().int().min(0).max(600_000).default(2_000),
});

export type CrmConfig = z.infer<typeof crmEnvironmentSchema>;

/** The only place the CRM service reads the environment. */
export function loadConfig(environment: Record<string, string | undefined> = process.env): CrmConfig {
  return parseEnvironment(crmEnvironmentSchema, environment);
}
