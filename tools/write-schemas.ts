// Prints each subgraph's SDL from its code and composes the supergraph the gateway serves.
//   node tools/write-schemas.ts          writes apps/<app>/schema.graphql and apps/gateway/supergraph.graphql
//   node tools/write-schemas.ts --check  fails when a committed file differs from the code or the
//                                        subgraphs stop composing (CI runs this)
// Reads the built apps (apps/<app>/dist), so run the build first.
import { readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { composeServices } from '@apollo/composition';
import { printSubgraphSchema } from '@apollo/subgraph';
import { parse, type GraphQLSchema } from 'graphql';

const workspaceRoot = new URL('../', import.meta.url);

/** Subgraph name in the supergraph, its app, and the URL it listens on by default. */
const subgraphs = [
  { name: 'campaign', app: 'campaign-service', url: 'http://127.0.0.1:4001/graphql' },
  { name: 'content', app: 'content-service', url: 'http://127.0.0.1:4002/graphql' },
  { name: 'enrichment', app: 'enrichment-service', url: 'http://127.0.0.1:4003/graphql' },
  { name: 'crm', app: 'crm-service', url: 'http://127.0.0.1:4004/graphql' },
  { name: 'conversation', app: 'conversation-service', url: 'http://127.0.0.1:4005/graphql' },
  // Served inside the gateway's process (usage, job progress); the URL is never fetched.
  { name: 'gateway', app: 'gateway', url: 'http://gateway.local/graphql' },
];

type SchemaBuilder = (container: { get: (resolverClass: Function) => unknown }) => Promise<GraphQLSchema>;

async function subgraphSdl(app: string): Promise<string> {
  const modulePath = new URL(`apps/${app}/dist/schema.js`, workspaceRoot);
  if (!existsSync(modulePath)) throw new Error(`apps/${app}/dist/schema.js is missing: run \`npm run build\` first`);
  const schemaModule = (await import(modulePath.href)) as Record<string, unknown>;
  const builder = Object.entries(schemaModule).find(([name, value]) => /^build\w*Schema$/.test(name) && typeof value === 'function')?.[1] as SchemaBuilder | undefined;
  if (!builder) throw new Error(`apps/${app}/src/schema.ts exports no build…Schema function`);
  // Printing needs no resolver instances: the container is only asked when an operation runs.
  const schema = await builder({ get: () => undefined });
  return `${printSubgraphSchema(schema).trim()}\n`;
}

async function main(): Promise<void> {
  const check = process.argv.includes('--check');
  const files = new Map<string, string>();
  const services = [];
  for (const subgraph of subgraphs) {
    const sdl = await subgraphSdl(subgraph.app);
    files.set(`apps/${subgraph.app}/schema.graphql`, sdl);
    services.push({ name: subgraph.name, url: subgraph.url, typeDefs: parse(sdl) });
  }
  const composition = composeServices(services);
  if (composition.errors) {
    process.stderr.write(`The subgraphs do not compose:\n${composition.errors.map((error) => `  - ${error.message}`).join('\n')}\n`);
    process.exit(1);
  }
  files.set('apps/gateway/supergraph.graphql', `${composition.supergraphSdl.trim()}\n`);

  const drifted: string[] = [];
  for (const [path, content] of files) {
    const url = new URL(path, workspaceRoot);
    const committed = existsSync(url) ? await readFile(url, 'utf8') : null;
    if (committed === content) continue;
    if (check) drifted.push(path);
    else await writeFile(url, content);
  }
  if (drifted.length > 0) {
    process.stderr.write(`These files no longer match the code: ${drifted.join(', ')}\nRun \`npm run build && npm run schema:write\` and commit the result.\n`);
    process.exit(1);
  }
  for (const hint of composition.hints ?? []) process.stdout.write(`hint: ${hint.message}\n`);
  process.stdout.write(check ? `Schemas match the code and compose (${subgraphs.length} subgraphs).\n` : `Wrote ${files.size} schema files.\n`);
}

await main();
