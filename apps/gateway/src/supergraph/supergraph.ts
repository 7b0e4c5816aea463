import { readFile } from 'node:fs/promises';

/**
 * Reads the committed supergraph. It is composed ahead of time (npm run schema:write) so that a
 * composition error fails CI, never a starting gateway.
 */
export async function loadSupergraph(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new Error(`cannot read the supergraph at ${path}: run \`npm run schema:write\` to compose it`, { cause: error });
  }
}
