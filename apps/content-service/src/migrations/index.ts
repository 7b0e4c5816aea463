import type { MigrationObject } from '@mikro-orm/core';
import { CreateWebsites } from './20261123000000-create-websites.js';
import { CreatePagesAndChunks } from './20261124000000-create-pages-and-chunks.js';

/** Every migration of the content schema, oldest first. Append; never edit one that has shipped. */
export const migrations: MigrationObject[] = [
  { name: '20261123000000-create-websites', class: CreateWebsites },
  { name: '20261124000000-create-pages-and-chunks', class: CreatePagesAndChunks },
];
