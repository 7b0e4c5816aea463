// The browser entry of the gateway's GraphiQL page. tools/bundle-graphiql.ts bundles it into
// graphiql.js and its stylesheet, graphiql-page.css (which brings GraphiQL's CSS), into
// graphiql.css; graphiql.route.ts serves both from the gateway's own origin, so the page loads
// nothing from a CDN. The CSS is a bundle entry of its own rather than an import here because
// TypeScript cannot type-check a side-effect import of a .css file.
import { createGraphiQLFetcher, type Fetcher, type FetcherOpts } from '@graphiql/toolkit';
import { GraphiQL } from 'graphiql';
import { createClient } from 'graphql-ws';
import { createRoot } from 'react-dom/client';

/** What the gateway embeds in the page as `<script id="graphiql-config" type="application/json">`. */
export interface GraphiqlPageConfig {
  /** JSON text shown in the header editor of a new tab, e.g. `{"authorization": "Bearer ..."}`. */
  defaultHeaders: string;
  defaultQuery: string;
  title: string;
}

const fallbackConfig: GraphiqlPageConfig = { defaultHeaders: '', defaultQuery: '', title: 'GTM Graph' };

function stringOr(value: unknown, fallback: string): string {
  return typeof value === 'string' ? value : fallback;
}

function readConfig(): GraphiqlPageConfig {
  const text = document.getElementById('graphiql-config')?.textContent;
  if (!text) return fallbackConfig;
  try {
    const parsed = JSON.parse(text) as Partial<Record<keyof GraphiqlPageConfig, unknown>>;
    return {
      defaultHeaders: stringOr(parsed.defaultHeaders, fallbackConfig.defaultHeaders),
      defaultQuery: stringOr(parsed.defaultQuery, fallbackConfig.defaultQuery),
      title: stringOr(parsed.title, fallbackConfig.title),
    };
  } catch {
    // A broken config must not leave the user with a blank page; GraphiQL still works without it.
    return fallbackConfig;
  }
}

/**
 * The headers typed in the editor, as the graphql-ws `connection_init` payload the gateway reads:
 * lower-case names (`authorization`, not `Authorization`) and string values, like HTTP headers.
 * `x-api-key` is also given as `apiKey`, the payload's own name for an API key.
 */
function connectionParamsFrom(headers: FetcherOpts['headers']): Record<string, string> {
  const params: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value === undefined || value === null) continue;
    params[name.toLowerCase()] = String(value);
  }
  const apiKey = params['x-api-key'];
  if (apiKey !== undefined && params.apiKey === undefined) params.apiKey = apiKey;
  return params;
}

/**
 * @graphiql/toolkit sends the editor's headers on HTTP requests, but with only `subscriptionUrl`
 * it opens a new graphql-ws client for every subscription and passes the headers as typed
 * (`Authorization`), which the gateway would not read. So each distinct set of headers gets its
 * own lazy graphql-ws client with those headers as `connection_init` payload, handed to the
 * toolkit as `wsClient`; the toolkit still decides what goes over HTTP and what over the socket.
 * A lazy client closes its socket once its last subscription ends, so an earlier client whose
 * headers were edited away needs no disposing, and a subscription still running on it is not cut.
 */
function createGatewayFetcher(location: Location, defaultHeaders: string): Fetcher {
  const url = new URL('/graphql', location.href).toString();
  const subscriptionUrl = `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/graphql`;
  let current: { key: string; fetcher: Fetcher } | undefined;
  let fallbackHeaders: Record<string, unknown> | undefined;
  try {
    fallbackHeaders = defaultHeaders ? (JSON.parse(defaultHeaders) as Record<string, unknown>) : undefined;
  } catch {
    fallbackHeaders = undefined;
  }
  return (params, givenOptions) => {
    // GraphiQL 4 introspects before its header editor exists (graphql/graphiql#3969) and then sends
    // no headers at all; use the configured defaults so the first introspection is authenticated.
    const options = givenOptions?.headers || !fallbackHeaders ? givenOptions : { ...givenOptions, headers: fallbackHeaders };
    const connectionParams = connectionParamsFrom(options?.headers);
    const key = JSON.stringify(connectionParams);
    if (current?.key !== key) {
      const wsClient = createClient({ url: subscriptionUrl, connectionParams, lazy: true });
      current = { key, fetcher: createGraphiQLFetcher({ url, subscriptionUrl, wsClient }) };
    }
    return current.fetcher(params, options);
  };
}

const config = readConfig();
document.title = config.title;
const container = document.getElementById('graphiql');
if (!container) throw new Error('the GraphiQL page has no #graphiql element');
createRoot(container).render(
  <GraphiQL
    fetcher={createGatewayFetcher(window.location, config.defaultHeaders)}
    defaultQuery={config.defaultQuery}
    defaultHeaders={config.defaultHeaders}
    isHeadersEditorEnabled
    defaultEditorToolsVisibility="headers"
    // Headers carry API keys; keeping them out of localStorage is GraphiQL's default, kept on purpose.
    shouldPersistHeaders={false}
  />,
);
