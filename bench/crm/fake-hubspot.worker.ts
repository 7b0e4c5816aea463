// The fake HubSpot of bench:crm-sync on its own thread, so that its work (searching 10,000
// contacts per page) never competes with the sync being measured for the main thread.
import { parentPort, workerData } from 'node:worker_threads';
import { startFakeHubSpot } from '@gtm/testing';

const { contacts, latencyMs } = workerData as { contacts: number; latencyMs: number };
const hubspot = await startFakeHubSpot({ latencyMs });
hubspot.seedContacts(contacts, (index) => ({
  email: `buyer${index}@company${index % 500}.example.com`,
  firstname: `First${index}`,
  lastname: `Last${index}`,
  jobtitle: index % 3 === 0 ? 'Head of Sales' : 'Account Executive',
  company: `Company ${index % 500}`,
  website: `https://company${index % 500}.example.com`,
  phone: `+1 555 ${String(index).padStart(7, '0')}`,
}));
const reply = (message: unknown) => parentPort!.postMessage(message, []);
reply({ baseUrl: hubspot.baseUrl, accessToken: hubspot.accessToken, portalId: hubspot.portalId });
parentPort!.on('message', async (message: string) => {
  if (message === 'reset') {
    hubspot.server.resetCounts();
    reply('ok');
  } else if (message === 'counts') {
    const pages = hubspot.server.requests.slice(-hubspot.server.counts().requests);
    reply({ ...hubspot.server.counts(), searches: pages.filter((request) => request.url.includes('/search')).length });
  } else if (message === 'close') {
    await hubspot.close();
    reply('closed');
  }
});
