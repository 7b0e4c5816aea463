import { createApp as createCampaignApp } from '@gtm/campaign-service/app';
import { loadConfig as loadCampaignConfig } from '@gtm/campaign-service/config';
import { createApp as createContentApp } from '@gtm/content-service/app';
import { loadConfig as loadContentConfig } from '@gtm/content-service/config';
import { createApp as createConversationApp } from '@gtm/conversation-service/app';
import { loadConfig as loadConversationConfig } from '@gtm/conversation-service/config';
import { createApp as createCrmApp } from '@gtm/crm-service/app';
import { loadConfig as loadCrmConfig } from '@gtm/crm-service/config';
import { createApp as createEnrichmentApp } from '@gtm/enrichment-service/app';
import { loadConfig as loadEnrichmentConfig } from '@gtm/enrichment-service/config';
import { createApp as createGatewayApp } from '@gtm/gateway/app';
import { loadConfig as loadGatewayConfig } from '@gtm/gateway/config';
import { createSubgraphTestSetup, type SubgraphTestSetup } from '@gtm/testing';

export type SubgraphName = 'campaign' | 'content' | 'enrichment' | 'crm' | 'conversation';

interface RunningApp {
  url: string;
  close(): Promise<void>;
}

export interface Stack extends AsyncDisposable {
  gatewayUrl: string;
  subgraphUrls: Record<SubgraphName, string>;
  setup: SubgraphTestSetup;
  /** Stops one subgraph, as a crash or deploy would, leaving the rest running. */
  stopSubgraph(name: SubgraphName): Promise<void>;
  close(): Promise<void>;
}

/**
 * Boots the five subgraphs and the gateway in this process on free ports, against one fresh
 * database (one schema per service) and the machine's Redis, as the stack tests' client sees them.
 */
export async function startStack(): Promise<Stack> {
  const setup = await createSubgraphTestSetup();
  const environment = setup.environment;
  const subgraphs: Record<SubgraphName, RunningApp> = {
    campaign: await createCampaignApp(loadCampaignConfig(environment)),
    content: await createContentApp(loadContentConfig(environment)),
    enrichment: await createEnrichmentApp(loadEnrichmentConfig(environment)),
    crm: await createCrmApp(loadCrmConfig(environment)),
    conversation: await createConversationApp(loadConversationConfig(environment)),
  };
  const gateway = await createGatewayApp(
    loadGatewayConfig({
      NODE_ENV: 'test',
      GATEWAY_PORT: '0',
      LOG_LEVEL: 'silent',
      CALLER_TOKEN_PRIVATE_KEY: setup.callerKeys.keys.privateKeyPem,
      CAMPAIGN_SERVICE_URL: subgraphs.campaign.url,
      CONTENT_SERVICE_URL: subgraphs.content.url,
      ENRICHMENT_SERVICE_URL: subgraphs.enrichment.url,
      CRM_SERVICE_URL: subgraphs.crm.url,
      CONVERSATION_SERVICE_URL: subgraphs.conversation.url,
      SUBGRAPH_TIMEOUT_MS: '5000',
    }),
  );
  const stopped = new Set<SubgraphName>();
  const close = async () => {
    await gateway.close();
    await Promise.all(
      (Object.entries(subgraphs) as [SubgraphName, RunningApp][]).filter(([name]) => !stopped.has(name)).map(([, app]) => app.close()),
    );
    await setup.dispose();
  };
  return {
    gatewayUrl: gateway.url,
    subgraphUrls: Object.fromEntries(Object.entries(subgraphs).map(([name, app]) => [name, app.url])) as Record<SubgraphName, string>,
    setup,
    async stopSubgraph(name) {
      stopped.add(name);
      await subgraphs[name].close();
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
