import { readFileSync } from 'node:fs';
const keys = JSON.parse(readFileSync('.data/caller-keys.json', 'utf8'));
const base = { DATABASE_URL: 'postgres://postgres:postgres@127.0.0.1:54329/gtm', REDIS_URL: process.env.R, LOG_LEVEL: 'warn', HOST: '127.0.0.1', CALLER_TOKEN_PUBLIC_KEY: keys.publicKeyPem };
const ports = { 'campaign-service': 4711, 'content-service': 4712, 'enrichment-service': 4713, 'crm-service': 4714, 'conversation-service': 4715 };
const urls = { CAMPAIGN_SERVICE_URL: 'http://127.0.0.1:4711/graphql', CONTENT_SERVICE_URL: 'http://127.0.0.1:4712/graphql', ENRICHMENT_SERVICE_URL: 'http://127.0.0.1:4713/graphql', CRM_SERVICE_URL: 'http://127.0.0.1:4714/graphql', CONVERSATION_SERVICE_URL: 'http://127.0.0.1:4715/graphql' };
const only = process.env.ONLY;
for (const [app, port] of Object.entries(ports)) {
  if (only && only !== app) continue;
  const { createApp } = await import(`./apps/${app}/dist/app.js`);
  const { loadConfig } = await import(`./apps/${app}/dist/config.js`);
  await createApp(loadConfig({ ...base, ...urls, PORT: String(port) }));
}
if (!only || only === 'gateway') {
const { createApp } = await import(`./apps/gateway/dist/app.js`);
const { loadConfig } = await import(`./apps/gateway/dist/config.js`);
await createApp(loadConfig({ ...base, ...urls, GATEWAY_PORT: '4716', CALLER_TOKEN_PRIVATE_KEY: keys.privateKeyPem }));
}
setTimeout(() => { console.log(process.execArgv.join(' '), only, JSON.stringify(Object.fromEntries(Object.entries(process.memoryUsage()).map(([k, v]) => [k, Math.round(v / 1e6)])))); process.exit(0) }, 25000);
