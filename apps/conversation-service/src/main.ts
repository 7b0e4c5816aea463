import { runMain } from '@gtm/runtime';
import { createApp } from './app.js';
import { loadConfig } from './config.js';

await runMain('conversation-service', () => createApp(loadConfig()));
