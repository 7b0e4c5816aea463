// The refused address ranges are shared with every service that connects where a user says (libs/runtime).
export { refusalReasonOf } from '@gtm/runtime';

/**
 * `CONTENT_FETCH_ALLOWLIST`: `host` admits every port of that host, `host:port` only that port.
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
