import { z } from 'zod';
import { CrmProvider, type CrmAdapter } from './crm-provider.js';
import { CrmProviderError } from './crm-provider.error.js';
import { providerLabel } from './field-mapping.js';
import { createCloseAdapter } from './close/close.adapter.js';
import { createGoHighLevelAdapter } from './gohighlevel/gohighlevel.adapter.js';
import { createHubSpotAdapter } from './hubspot/hubspot.adapter.js';
import { createPipedriveAdapter } from './pipedrive/pipedrive.adapter.js';
import { createSalesforceAdapter } from './salesforce/salesforce.adapter.js';
import type { OutboundPolicy } from './outbound-guard.js';
import type { ProviderRetrySettings } from './provider-retry.js';

const text = z.string().trim().min(1, 'must not be empty').max(4_000);

/** What `credentials` holds for each provider, and which value the masked hint shows. */
export const credentialFormats: Record<CrmProvider, { schema: z.ZodType; example: string; hintOf: (credentials: any) => string }> = {
  [CrmProvider.HUBSPOT]: {
    schema: z.union([
      z.object({ accessToken: text, portalId: z.union([z.string(), z.number()]).nullish() }).strict(),
      z.object({ clientId: text, clientSecret: text, refreshToken: text }).strict(),
    ]),
    example: '{ "accessToken": "pat-…" } (a private app) or { "clientId", "clientSecret", "refreshToken" } (an OAuth app)',
    hintOf: (credentials) => credentials.accessToken ?? credentials.refreshToken,
  },
  [CrmProvider.SALESFORCE]: {
    schema: z.union([
      z.object({ instanceUrl: text, accessToken: text }).strict(),
      z.object({ instanceUrl: text.nullish(), clientId: text, clientSecret: text, refreshToken: text }).strict(),
    ]),
    example: '{ "instanceUrl", "accessToken" } or { "clientId", "clientSecret", "refreshToken" } (a connected app)',
    hintOf: (credentials) => credentials.refreshToken ?? credentials.accessToken,
  },
  [CrmProvider.PIPEDRIVE]: {
    schema: z.object({ apiToken: text }).strict(),
    example: '{ "apiToken": "…" }',
    hintOf: (credentials) => credentials.apiToken,
  },
  [CrmProvider.CLOSE]: {
    schema: z.object({ apiKey: text }).strict(),
    example: '{ "apiKey": "api_…" }',
    hintOf: (credentials) => credentials.apiKey,
  },
  [CrmProvider.GOHIGHLEVEL]: {
    schema: z.object({ accessToken: text, locationId: text }).strict(),
    example: '{ "accessToken": "pit-…", "locationId": "…" } (a private integration token of the sub-account)',
    hintOf: (credentials) => credentials.accessToken,
  },
};

export interface CrmAdapterSettings {
  /** Already checked against `credentialFormats[provider].schema`. */
  credentials: unknown;
  baseUrl: string | null;
  webhookSecret: string | null;
  outbound: OutboundPolicy;
  retry?: ProviderRetrySettings;
}

/** Makes the adapter of a provider. */
export function createCrmAdapter(provider: CrmProvider, settings: CrmAdapterSettings): CrmAdapter {
  switch (provider) {
    case CrmProvider.HUBSPOT:
      return createHubSpotAdapter({ credentials: settings.credentials as never, baseUrl: settings.baseUrl, webhookSecret: settings.webhookSecret, outbound: settings.outbound, retry: settings.retry });
    case CrmProvider.CLOSE:
      return createCloseAdapter({ credentials: settings.credentials as never, baseUrl: settings.baseUrl, webhookSecret: settings.webhookSecret, outbound: settings.outbound, retry: settings.retry });
    case CrmProvider.PIPEDRIVE:
      return createPipedriveAdapter({ credentials: settings.credentials as never, baseUrl: settings.baseUrl, webhookSecret: settings.webhookSecret, outbound: settings.outbound, retry: settings.retry });
    case CrmProvider.GOHIGHLEVEL:
      return createGoHighLevelAdapter({ credentials: settings.credentials as never, baseUrl: settings.baseUrl, webhookSecret: settings.webhookSecret, outbound: settings.outbound, retry: settings.retry });
    case CrmProvider.SALESFORCE:
      return createSalesforceAdapter({ credentials: settings.credentials as never, baseUrl: settings.baseUrl, outbound: settings.outbound, retry: settings.retry });
    default:
      throw new CrmProviderError(provider, 'forbidden', `${providerLabel(provider)} connections are not available yet.`);
  }
}
