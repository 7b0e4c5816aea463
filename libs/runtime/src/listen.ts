import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Starts listening (port 0 picks a free one) and resolves with the GraphQL endpoint's URL. */
export function listenForGraphQL(httpServer: Server, port: number, host: string): Promise<string> {
  return new Promise((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(port, host, () => {
      const address = httpServer.address() as AddressInfo;
      const printableHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
      resolve(`http://${printableHost}:${address.port}/graphql`);
    });
  });
}
