// The summary `npm start` prints once the stack serves.
import { developmentTenant, type KeyInUse } from './keys.ts';
import { paint } from './output.ts';
import { dataDirectoryOf, type StartSettings } from './settings.ts';

export interface BannerFacts {
  settings: StartSettings;
  database: { url: string; description: string; embedded: boolean };
  redisDescription: string;
  subgraphPorts: Record<string, number>;
  parts: { name: string; pid: number | undefined }[];
  apiKey: KeyInUse<string> | undefined;
  callerKeySource: string;
  secretsKeySource: string;
  mailSink: { smtpPort: number; pageUrl: string };
}

export function printBanner(facts: BannerFacts): void {
  const { settings } = facts;
  const host = ['127.0.0.1', '0.0.0.0', '::', 'localhost'].includes(settings.gatewayHost) ? 'localhost' : settings.gatewayHost;
  const base = `http://${host}:${settings.gatewayPort}`;
  const rows: [string, string][] = [
    ['GraphiQL / API', paint('1', `${base}/graphql`)],
    ['Subscriptions', `${base.replace(/^http/, 'ws')}/graphql (graphql-ws)`],
    ['Health', `${base}/health`],
    ['PostgreSQL', facts.database.description],
    ['Redis', facts.redisDescription],
    ['Subgraphs', Object.entries(facts.subgraphPorts).map(([app, port]) => `${app.replace(/-service$/, '')} :${port}`).join('  ')],
    ['Supervised', `${facts.parts.map(({ name, pid }) => (pid ? `${name} (pid ${pid})` : `${name} (a thread of npm start)`)).join(', ')}; each restarted when it stops`],
    ...authenticationRows(base, facts),
    ['Mail sink', `SMTP 127.0.0.1:${facts.mailSink.smtpPort} (connectMailbox to it with any user and password); what it received: ${facts.mailSink.pageUrl}`],
    ['Caller keys', facts.callerKeySource],
    ['Secrets key', `${facts.secretsKeySource} (SECRETS_KEY)`],
    ['Logs', settings.logLevelWasSet ? `LOG_LEVEL=${settings.logLevel}` : 'warnings and errors only (LOG_LEVEL=info npm start for more)'],
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  const lines = ['', paint('32;1', '  GTM Graph is running'), '', ...rows.map(([label, value]) => `  ${label.padEnd(width)}  ${value}`), '', paint('1', '  Ctrl-C to stop'), ''];
  process.stdout.write(`${lines.join('\n')}\n`);
}

function authenticationRows(base: string, facts: BannerFacts): [string, string][] {
  const { apiKey } = facts;
  if (!apiKey) return [['Authentication', "development mode: every request runs as tenant 'dev' until API keys exist"]];
  // The embedded database is found by the key command itself; a DATABASE_URL's password is not ours to print.
  const dataDirectory = facts.settings.dataDirectory === dataDirectoryOf({}) ? '' : `DATA_DIR=${facts.settings.dataDirectory} `;
  const keyCommand = facts.database.embedded ? `${dataDirectory}npm run apikey` : "DATABASE_URL='<your DATABASE_URL>' npm run apikey";
  return [
    ['API key', `${paint('1', apiKey.key)}  (tenant "${developmentTenant}"; GraphiQL already sends it; kept in ${apiKey.source})`],
    ['', `curl -H 'Authorization: Bearer ${apiKey.key}' -H 'content-type: application/json' -d '{"query":"{ __typename }"}' ${base}/graphql`],
    ['', `more keys: ${keyCommand} -- create --tenant <slug> --tier <free|pro|enterprise>`],
  ];
}
