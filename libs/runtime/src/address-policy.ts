import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

/**
 * Address ranges a fetch made for a user may never reach: they are this machine, our own network,
 * or the cloud's (metadata at 169.254.169.254). From the IANA special-purpose registries; anything
 * not globally reachable is refused, not only the famous ones.
 */
const refusedRanges: Array<{ network: string; prefix: number; type: 'ipv4' | 'ipv6'; why: string }> = [
  { network: '0.0.0.0', prefix: 8, type: 'ipv4', why: 'this network' },
  { network: '10.0.0.0', prefix: 8, type: 'ipv4', why: 'private' },
  { network: '100.64.0.0', prefix: 10, type: 'ipv4', why: 'carrier-grade NAT' },
  { network: '127.0.0.0', prefix: 8, type: 'ipv4', why: 'loopback' },
  { network: '169.254.0.0', prefix: 16, type: 'ipv4', why: 'link-local (cloud metadata)' },
  { network: '172.16.0.0', prefix: 12, type: 'ipv4', why: 'private' },
  { network: '192.0.0.0', prefix: 24, type: 'ipv4', why: 'IETF protocol assignments' },
  { network: '192.0.2.0', prefix: 24, type: 'ipv4', why: 'documentation' },
  { network: '192.88.99.0', prefix: 24, type: 'ipv4', why: '6to4 relay' },
  { network: '192.168.0.0', prefix: 16, type: 'ipv4', why: 'private' },
  { network: '198.18.0.0', prefix: 15, type: 'ipv4', why: 'benchmarking' },
  { network: '198.51.100.0', prefix: 24, type: 'ipv4', why: 'documentation' },
  { network: '203.0.113.0', prefix: 24, type: 'ipv4', why: 'documentation' },
  { network: '224.0.0.0', prefix: 4, type: 'ipv4', why: 'multicast' },
  { network: '240.0.0.0', prefix: 4, type: 'ipv4', why: 'reserved' },
  { network: '::', prefix: 128, type: 'ipv6', why: 'unspecified' },
  { network: '::1', prefix: 128, type: 'ipv6', why: 'loopback' },
  // Mapped and translated forms reach IPv4 hosts through an IPv6 literal: refused whatever they embed.
  { network: '::ffff:0:0', prefix: 96, type: 'ipv6', why: 'IPv4-mapped' },
  { network: '::', prefix: 96, type: 'ipv6', why: 'IPv4-compatible' },
  { network: '64:ff9b::', prefix: 96, type: 'ipv6', why: 'IPv4/IPv6 translation' },
  { network: '64:ff9b:1::', prefix: 48, type: 'ipv6', why: 'IPv4/IPv6 translation' },
  { network: '100::', prefix: 64, type: 'ipv6', why: 'discard' },
  { network: '2001::', prefix: 23, type: 'ipv6', why: 'IETF protocol assignments' },
  { network: '2001:db8::', prefix: 32, type: 'ipv6', why: 'documentation' },
  { network: '2002::', prefix: 16, type: 'ipv6', why: '6to4' },
  { network: 'fc00::', prefix: 7, type: 'ipv6', why: 'unique local (ULA)' },
  { network: 'fe80::', prefix: 10, type: 'ipv6', why: 'link-local' },
  { network: 'fec0::', prefix: 10, type: 'ipv6', why: 'site-local' },
  { network: 'ff00::', prefix: 8, type: 'ipv6', why: 'multicast' },
];

const blockLists = refusedRanges.map((range) => {
  const list = new BlockList();
  list.addSubnet(range.network, range.prefix, range.type);
  return { list, range };
});

/** Why an address may not be fetched, or null when it is a public address. */
export function refusalReasonOf(address: string): string | null {
  const family = isIP(address);
  if (family === 0) return 'not an IP address';
  const type = family === 4 ? 'ipv4' : 'ipv6';
  for (const { list, range } of blockLists) {
    if (range.type === type && list.check(address, type)) return `${range.why} address ${address}`;
  }
  return null;
}

/**
 * An allowlist (`CONTENT_FETCH_ALLOWLIST`, `CRM_FETCH_ALLOWLIST`): `host` admits every port of that
 * host, `host:port` only that port.
 * These, and nothing else, may resolve to refused addresses (local fixture sites, an internal
 * staging site).
 */
export class FetchAllowlist {
  private readonly hosts = new Set<string>();
  private readonly hostPorts = new Set<string>();

  constructor(entries: readonly string[]) {
    for (const entry of entries) {
      const { hostname, port } = new URL(`http://${entry.trim().toLowerCase()}`);
      if (port) this.hostPorts.add(`${hostname}:${port}`);
      else this.hosts.add(hostname);
    }
  }

  admits(url: URL): boolean {
    const port = url.port || (url.protocol === 'https:' ? '443' : '80');
    const hostname = url.hostname.toLowerCase();
    return this.hosts.has(hostname) || this.hostPorts.has(`${hostname}:${port}`);
  }
}

/** Host names that lead inside a network by their spelling alone, whatever a lookup would say. */
export const internalHostNames = /(^|\.)(localhost|local|internal|intranet|lan|home\.arpa|corp)$/i;

/**
 * Why a URL that is an IP literal may never be fetched, as the fetcher says it, or null (a public
 * address, an allowlisted host, or a name, which only a lookup can judge).
 */
export function literalAddressRefusal(url: URL, allowlist: FetchAllowlist): string | null {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (!isIP(host) || allowlist.admits(url)) return null;
  const reason = refusalReasonOf(host);
  return reason ? `${url.host} is a ${reason}, which is never fetched.` : null;
}

/**
 * Why a website would always be refused by the fetcher, judged by its spelling (no lookup): an IP
 * literal in a refused range (loopback, private, link-local and cloud metadata …), or an internal
 * name (`localhost`, `*.internal` …). Null when it may be fetched as far as its spelling tells, or
 * when the allowlist admits it.
 */
export function websiteAddressRefusal(url: URL, allowlist: FetchAllowlist): string | null {
  const literal = literalAddressRefusal(url, allowlist);
  if (literal) return literal;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host) || allowlist.admits(url) || !internalHostNames.test(host)) return null;
  return `${url.host} is an internal name, which is never fetched.`;
}

const loopback = new BlockList();
loopback.addSubnet('127.0.0.0', 8, 'ipv4');
loopback.addAddress('::1', 'ipv6');
loopback.addSubnet('::ffff:127.0.0.0', 104, 'ipv6');

/** Whether a socket's remote address is this machine's loopback (IPv4, IPv6 or IPv4-mapped). */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (!address) return false;
  const family = isIP(address);
  if (family === 0) return false;
  return loopback.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/** A host:port a service was asked to connect to that it may not reach; the message is safe to show. */
export class RefusedAddressError extends Error {
  override readonly name = 'RefusedAddressError';
  readonly isRetryable = false;
}

/** A host that does not resolve (or not now): retryable, since DNS answers change. */
export class UnresolvableHostError extends Error {
  override readonly name = 'UnresolvableHostError';
  readonly isRetryable = true;
}

export type HostLookup = (host: string) => Promise<string[]>;

const systemLookup: HostLookup = async (host) => (await lookup(host, { all: true, verbatim: true })).map((entry) => entry.address);

/**
 * Resolves a host a user gave (an SMTP or IMAP server …) to the one address to connect to, refusing
 * it when any of its addresses is refused and it is not on the allowlist. The caller connects to the
 * returned address (never the name again), so a DNS answer cannot change between check and connect.
 */
export async function resolvePermittedAddress(host: string, port: number, allowlist: FetchAllowlist, resolve: HostLookup = systemLookup): Promise<string> {
  const bare = host.replace(/^\[|\]$/g, '');
  const asUrl = new URL(`http://${isIP(bare) === 6 ? `[${bare}]` : bare}:${port}`);
  let addresses: string[];
  if (isIP(bare)) addresses = [bare];
  else {
    try {
      addresses = await resolve(bare);
    } catch (error) {
      throw new UnresolvableHostError(`${host} does not resolve (${(error as NodeJS.ErrnoException).code ?? 'lookup failed'})`, { cause: error });
    }
  }
  if (addresses.length === 0) throw new UnresolvableHostError(`${host} does not resolve`);
  if (!allowlist.admits(asUrl)) {
    for (const address of addresses) {
      const reason = refusalReasonOf(address);
      if (reason) throw new RefusedAddressError(`${host}:${port} is refused: it resolves to a ${reason}`);
    }
  }
  return addresses[0]!;
}
