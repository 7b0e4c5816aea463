// The five subgraphs of the federation benchmark, in one process of their own (as the stack tests
// run them), so the gateways measured and the load generator each have theirs.
import { subscribe } from 'node:diagnostics_channel';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
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
import { createLogger } from '@gtm/runtime';

const environment = JSON.parse(process.env['BENCH_SUBGRAPH_ENVIRONMENT']!) as Record<string, string>;
const logger = (service: string) => ({ logger: createLogger({ service, level: 'silent' }) });
const content = await createContentApp(loadContentConfig(environment), logger('content'));
const campaign = await createCampaignApp(loadCampaignConfig({ ...environment, CONTENT_SERVICE_URL: content.url }), logger('campaign'));
const enrichment = await createEnrichmentApp(loadEnrichmentConfig({ ...environment, CONTENT_SERVICE_URL: content.url, CAMPAIGN_SERVICE_URL: campaign.url }), logger('enrichment'));
const crm = await createCrmApp(loadCrmConfig(environment), logger('crm'));
const conversation = await createConversationApp(
  loadConversationConfig({ ...environment, CRM_SERVICE_URL: crm.url, CAMPAIGN_SERVICE_URL: campaign.url, ENRICHMENT_SERVICE_URL: enrichment.url }),
  logger('conversation'),
);
const apps = { campaign, content, enrichment, crm, conversation };

// How long crm-service took over each request it served (from its arrival to its answer's last
// byte, wall clock), so the benchmark can tell a gateway's tail from the subgraph's.
const crmPort = Number(new URL(crm.url).port);
const started = new WeakMap<ServerResponse, number>();
const crmRequests: { at: number; ms: number }[] = [];
subscribe('http.server.request.start', (message) => {
  const { server, response } = message as { server: Server; request: IncomingMessage; response: ServerResponse };
  if ((server.address() as AddressInfo | null)?.port === crmPort) started.set(response, performance.now());
});
subscribe('http.server.response.finish', (message) => {
  const { response } = message as { response: ServerResponse };
  const startedAt = started.get(response);
  if (startedAt !== undefined) crmRequests.push({ at: performance.timeOrigin + startedAt, ms: performance.now() - startedAt });
});

process.on('message', async (message) => {
  if (message === 'cpu') {
    process.send!((process.cpuUsage().user + process.cpuUsage().system) / 1_000);
    return;
  }
  if (message === 'crm-requests') {
    process.send!(crmRequests);
    return;
  }
  if (message !== 'close') return;
  await Promise.all(Object.values(apps).map((app) => app.close()));
  process.exit(0);
});
process.send!({ urls: Object.fromEntries(Object.entries(apps).map(([name, app]) => [name, app.url])) });
