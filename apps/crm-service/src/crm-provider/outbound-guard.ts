import { lookup as systemLookup, type LookupAddress } from 'node:dns';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { FetchAllowlist, refusalReasonOf } from '@gtm/runtime';
import { Agent as UndiciAgent } from 'undici';
import type { CrmProvider } from './crm-provider.js';
import { CrmProviderError } from './crm-provider.error.js';

/** Where an adapter may connect, and how (SSRF protection for a base URL a tenant can choose). */
export interface OutboundPolicy {
  /**
   * `host` / `host:port` entries that may resolve to private or loopback addresses
   * (`CRM_FETCH_ALLOWLIST`: fakes in tests, an on-premises CRM). Default: none.
   */
  allowlist?: readonly string[];
}

/** Strips the brackets of an IPv6 literal host. */
const bareHost = (hostname: string) => (hostname.startsWith('[') ? hostname.slice(1, -1) : hostname);

/**
 * Checks a provider base URL before anything is sent to it: http(s) only, no credentials in it,
 * and a literal IP (which no lookup will see) on a public address unless allowlisted.
 */
export function checkBaseUrl(provider: CrmProvider, baseUrl: string, policy: OutboundPolicy): URL {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new CrmProviderError(provider, 'refused-address', `The base URL "${baseUrl.slice(0, 200)}" is not a URL; give one such as https://api.example.com.`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new CrmProviderError(provider, 'refused-address', `The base URL must be http(s), not ${url.protocol.replace(':', '')}.`);
  if (url.username || url.password) throw new CrmProviderError(provider, 'refused-address', 'The base URL must not hold a user name or password; give credentials separately.');
  const allowlist = new FetchAllowlist(policy.allowlist ?? []);
  const host = bareHost(url.hostname);
  if (isIP(host) && !allowlist.admits(url)) {
    const reason = refusalReasonOf(host);
    if (reason) throw new CrmProviderError(provider, 'refused-address', `The base URL points at a ${reason}, which is never called.`);
  }
  return url;
}

/**
 * An HTTP agent for one base URL whose connections learn their address from a lookup that refuses
 * private ones (unless the URL is allowlisted): the address checked is the address connected to,
 * so a second DNS answer cannot swap in an internal host. Keep-alive: a sync makes many calls.
 */
/** A `lookup` that refuses private addresses (unless the URL is allowlisted): the address checked is the one connected to. */
function guardedLookup(provider: CrmProvider, url: URL, policy: OutboundPolicy): LookupFunction {
  const checked = !new FetchAllowlist(policy.allowlist ?? []).admits(url);
  return ((hostname: string, options: { all?: boolean }, callback: (error: Error | null, address: string | LookupAddress[], family?: number) => void) => {
    systemLookup(hostname, { all: true, verbatim: true }, (error, addresses) => {
      if (error) return callback(error, '', 0);
      if (addresses.length === 0) return callback(new CrmProviderError(provider, 'unavailable', `${hostname} has no address.`), '', 0);
      if (checked) {
        for (const { address } of addresses) {
          const reason = refusalReasonOf(address);
          if (reason) return callback(new CrmProviderError(provider, 'refused-address', `${hostname} resolves to a ${reason}, which is never called.`), '', 0);
        }
      }
      if (options.all) callback(null, addresses);
      else callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  }) as unknown as LookupFunction;
}

/**
 * An HTTP agent for one base URL whose connections learn their address from a lookup that refuses
 * private ones (unless the URL is allowlisted), so a second DNS answer cannot swap in an internal
 * host. Keep-alive: a sync makes many calls. For SDKs on Node's http (HubSpot's, axios-based ones).
 */
export function createOutboundAgent(provider: CrmProvider, url: URL, policy: OutboundPolicy): HttpAgent | HttpsAgent {
  const options = { keepAlive: true, maxSockets: 8, lookup: guardedLookup(provider, url, policy), timeout: 30_000 };
  return url.protocol === 'https:' ? new HttpsAgent(options) : new HttpAgent(options);
}

/** The same guard as an undici dispatcher, for the clients written here on undici (Close's). */
export function createOutboundDispatcher(provider: CrmProvider, url: URL, policy: OutboundPolicy): UndiciAgent {
  return new UndiciAgent({ keepAliveTimeout: 30_000, connections: 8, connect: { timeout: 10_000, lookup: guardedLookup(provider, url, policy) } });
}
