// The enrichment service as a process of its own, for the kill-and-resume test: started from the
// sources with the environment the test gives it, killed outright by the test. Host names under
// `.test` (the test's fixture sites) resolve to 127.0.0.1; every other name fails as DNS would.
import { createApp } from '../../app.js';
import { loadConfig } from '../../config.js';

const app = await createApp(loadConfig(), {
  resolveHost: async (hostname) => {
    if (hostname.endsWith('.test')) return [{ address: '127.0.0.1', family: 4 }];
    throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
  },
});
process.stdout.write(`ready ${app.url}\n`);
process.once('SIGTERM', () => {
  void app.close().then(() => process.exit(0));
});
