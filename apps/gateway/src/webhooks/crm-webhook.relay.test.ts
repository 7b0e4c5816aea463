import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createRelayTokenSigner, createRelayTokenVerifier, generateCallerKeyPair, relayTokenHeader } from '@gtm/caller';
import { captureLogs } from '@gtm/testing';
import express from 'express';
import { Agent } from 'undici';
import { createCrmWebhookRelay } from './crm-webhook.relay.js';

const listen = (server: Server) => new Promise<string>((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));

let upstream: Server;
let gateway: Server;
let gatewayUrl: string;
const agent = new Agent();
const received: Array<{ url: string; headers: IncomingHttpHeaders; body: Buffer; verified: string }> = [];

beforeAll(async () => {
  const keys = await generateCallerKeyPair();
  const verifier = await createRelayTokenVerifier({ publicKeyPem: keys.publicKeyPem });
  upstream = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', async () => {
      const body = Buffer.concat(chunks);
      const verified = await verifier.verify(request.headers[relayTokenHeader] as string, request.url!, body).then(
        () => 'ok',
        (error: Error) => error.message,
      );
      received.push({ url: request.url!, headers: request.headers, body, verified });
      response.writeHead(202, { 'content-type': 'application/json' }).end(JSON.stringify({ accepted: 1 }));
    });
  });
  const upstreamUrl = await listen(upstream);
  const app = express();
  app.use(createCrmWebhookRelay({ crmServiceUrl: `${upstreamUrl}/graphql`, agent, signer: await createRelayTokenSigner({ privateKeyPem: keys.privateKeyPem }), logger: captureLogs().logger, timeoutMs: 5_000 }));
  gateway = createServer(app);
  gatewayUrl = await listen(gateway);
});

afterAll(async () => {
  await new Promise((resolve) => gateway?.close(resolve));
  await new Promise((resolve) => upstream?.close(resolve));
  await agent.close();
});

describe('the CRM webhook relay', () => {
  it('relays the body byte for byte with the provider’s headers and a relay token for that path and body', async () => {
    const body = '[ {"eventId":1, "note":"caf\u00e9 \u2014 spacing  kept"} ]\n';
    const response = await fetch(`${gatewayUrl}/webhooks/crm/abc?source=hubspot`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json', 'x-hubspot-signature-v3': 'sig==', authorization: 'Basic dXNlcjpwYXNz', 'x-gtm-caller': 'forged', 'x-gtm-relay': 'forged' },
    });
    expect(response.status).toBe(202);
    expect(await response.json()).toEqual({ accepted: 1 });
    const relayed = received.at(-1)!;
    expect(relayed.url).toBe('/webhooks/crm/abc?source=hubspot');
    expect(relayed.body.equals(Buffer.from(body, 'utf8'))).toBe(true);
    expect(relayed.verified).toBe('ok');
    expect(relayed.headers).toMatchObject({ 'x-hubspot-signature-v3': 'sig==', authorization: 'Basic dXNlcjpwYXNz', 'content-type': 'application/json' });
    expect(relayed.headers['x-gtm-caller']).toBeUndefined();
  });

  it('answers 502 when the CRM service cannot be reached', async () => {
    const app = express();
    app.use(createCrmWebhookRelay({ crmServiceUrl: 'http://127.0.0.1:9/graphql', agent, signer: await createRelayTokenSigner({ privateKeyPem: (await generateCallerKeyPair()).privateKeyPem }), logger: captureLogs().logger, timeoutMs: 2_000 }));
    const server = createServer(app);
    const url = await listen(server);
    try {
      const response = await fetch(`${url}/webhooks/crm/abc`, { method: 'POST', body: '{}' });
      expect(response.status).toBe(502);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
