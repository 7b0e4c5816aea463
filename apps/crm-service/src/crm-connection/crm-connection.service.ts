import { UniqueConstraintViolationException } from '@mikro-orm/core';
import { badUserInput, notFound, upstreamUnavailable, type SubgraphContext } from '@gtm/runtime';
import { maskSecret, type SecretBox } from '@gtm/secrets';
import type { GraphQLError } from 'graphql';
import { z } from 'zod';
import { createCrmAdapter, credentialFormats } from '../crm-provider/crm-adapters.js';
import type { CrmAdapter, CrmProvider } from '../crm-provider/crm-provider.js';
import { isCrmProviderError, type CrmProviderError } from '../crm-provider/crm-provider.error.js';
import { providerLabel, resolveFieldMapping } from '../crm-provider/field-mapping.js';
import type { OutboundPolicy } from '../crm-provider/outbound-guard.js';
import type { ProviderRetrySettings } from '../crm-provider/provider-retry.js';
import { CrmDeadLetter } from '../crm-dead-letter/crm-dead-letter.entity.js';
import { pendingPushTables } from '../crm-push/pending-push.js';
import { CrmRecordLink } from '../crm-record-link/crm-record-link.entity.js';
import type { CrmLoaders } from '../loaders.js';
import { CrmConnection, CrmConnectionStatus, sealingContextOf } from './crm-connection.entity.js';
import type { ConnectCrmInput } from './crm-connection.input.js';

type CrmContext = SubgraphContext<CrmLoaders>;

export interface CrmConnectionServiceSettings {
  secrets: SecretBox;
  /** The gateway's public origin: webhook URLs are built on it. */
  publicUrl: string;
  outbound: OutboundPolicy;
  retry: ProviderRetrySettings;
}

const connectSchema = z.object({
  baseUrl: z.string().trim().max(2_000).nullish().transform((value) => value || null),
  webhookSecret: z.string().trim().max(10_000).nullish().transform((value) => value || null),
});

/** A provider's refusal as the API's error: wrong credentials are the caller's to fix, an outage is not. */
export function connectionError(error: CrmProviderError, field: string): GraphQLError {
  const label = providerLabel(error.provider);
  switch (error.kind) {
    case 'unauthorized':
    case 'forbidden':
      return badUserInput(`${label} refused the credentials: ${error.message.replace(/^[A-Za-z]+ (refused the credentials|answered \d+): /, '')}`, field);
    case 'refused-address':
      return badUserInput(error.message, 'baseUrl');
    case 'malformed-response':
      return upstreamUnavailable(`${label} answered with something that is not its API (an HTML page or garbage); check baseUrl or try again later.`, { provider: error.provider });
    case 'daily-limit':
      return upstreamUnavailable(`${label}'s daily API limit is spent; try again after ${error.resumeAt?.toISOString() ?? 'it resets'}.`, { provider: error.provider });
    default:
      return upstreamUnavailable(`${label} could not be reached or is rate limiting (${error.message}); try again later.`, { provider: error.provider });
  }
}

/** Connects and disconnects CRM accounts, and opens a connection's adapter for the sync. */
export class CrmConnectionService {
  constructor(private readonly settings: CrmConnectionServiceSettings) {}

  async get(context: CrmContext, id: string): Promise<CrmConnection | null> {
    return context.loaders.crmConnectionById.load(id);
  }

  async list(context: CrmContext): Promise<CrmConnection[]> {
    return context.em.find(CrmConnection, { status: { $ne: CrmConnectionStatus.DISCONNECTED } }, { orderBy: { createdAt: 'desc', id: 'desc' } });
  }

  /** The absolute URL to register with the provider (`POST /webhooks/crm/<id>` on the gateway). */
  webhookUrl(connection: CrmConnection): string {
    return `${this.settings.publicUrl}/webhooks/crm/${connection.id}`;
  }

  /**
   * Checks the credentials with the provider and the field mapping against its real fields, then
   * saves the connection with its credentials and webhook secret sealed. Nothing is saved when a
   * check fails.
   */
  async connect(context: CrmContext, input: ConnectCrmInput): Promise<CrmConnection> {
    const provider = input.provider;
    const { baseUrl, webhookSecret } = connectSchema.parse({ baseUrl: input.baseUrl, webhookSecret: input.webhookSecret });
    const format = credentialFormats[provider];
    const parsed = format.schema.safeParse(input.credentials);
    if (!parsed.success) throw badUserInput(`credentials for ${providerLabel(provider)} must be ${format.example}.`, 'credentials');
    const credentials = parsed.data;
    let adapter: CrmAdapter;
    try {
      adapter = createCrmAdapter(provider, { credentials, baseUrl, webhookSecret, outbound: this.settings.outbound, retry: this.settings.retry });
      const account = await adapter.verifyCredentials();
      const fieldMapping = resolveFieldMapping(provider, input.fieldMapping, await adapter.listFields());
      const connection = context.em.create(CrmConnection, {
        tenantId: context.caller.tenantId,
        provider,
        accountId: account.id,
        accountName: account.name,
        baseUrl,
        sealedCredentials: '',
        credentialsHint: maskSecret(format.hintOf(credentials)),
        webhookSecretHint: webhookSecret ? maskSecret(webhookSecret) : null,
        fieldMapping,
      });
      const sealingContext = sealingContextOf(connection);
      connection.sealedCredentials = this.settings.secrets.sealJson(credentials, sealingContext);
      connection.sealedWebhookSecret = webhookSecret ? this.settings.secrets.seal(webhookSecret, sealingContext) : null;
      try {
        await context.em.persist(connection).flush();
      } catch (error) {
        if (!(error instanceof UniqueConstraintViolationException)) throw error;
        context.em.clear();
        const existing = await context.em.findOne(CrmConnection, { provider, accountId: account.id, status: { $ne: CrmConnectionStatus.DISCONNECTED } });
        throw badUserInput(`${account.name} is already connected${existing ? ` (connection ${existing.id})` : ''}; disconnect it first or sync that one.`, 'credentials');
      }
      return connection;
    } catch (error) {
      if (isCrmProviderError(error)) throw connectionError(error, 'credentials');
      throw error;
    }
  }

  /**
   * Stops syncing: the sealed credentials and webhook secret are erased, the record links and dead
   * letters removed (the leads stay). A webhook to the connection is refused from then on.
   */
  async disconnect(context: CrmContext, id: string): Promise<CrmConnection> {
    const connection = await this.get(context, id);
    if (!connection) throw notFound('CrmConnection', id);
    if (connection.status === CrmConnectionStatus.DISCONNECTED) return connection;
    await context.em.transactional(async (transaction) => {
      await transaction.nativeDelete(CrmRecordLink, { connectionId: connection.id });
      await transaction.nativeDelete(CrmDeadLetter, { connectionId: connection.id });
      // Nothing waits to be pushed to a CRM no longer connected.
      const { pending } = pendingPushTables(transaction);
      await transaction.execute(`delete from ${pending} where connection_id = ?`, [connection.id]);
      const now = new Date();
      await transaction.nativeUpdate(
        CrmConnection,
        { id: connection.id },
        { status: CrmConnectionStatus.DISCONNECTED, sealedCredentials: '', sealedWebhookSecret: null, disconnectedAt: now, updatedAt: now, statusMessage: 'Disconnected.' },
      );
    });
    await context.em.refresh(connection);
    return connection;
  }

  /** The adapter of a connection, its credentials opened for this use only. */
  openAdapter(connection: CrmConnection, overrides: { retry?: ProviderRetrySettings } = {}): CrmAdapter {
    const sealingContext = sealingContextOf(connection);
    const credentials = this.settings.secrets.openJson(connection.sealedCredentials, sealingContext);
    const webhookSecret = connection.sealedWebhookSecret ? this.settings.secrets.open(connection.sealedWebhookSecret, sealingContext) : null;
    return createCrmAdapter(connection.provider as CrmProvider, {
      credentials,
      baseUrl: connection.baseUrl,
      webhookSecret,
      outbound: this.settings.outbound,
      retry: overrides.retry ?? this.settings.retry,
    });
  }
}
