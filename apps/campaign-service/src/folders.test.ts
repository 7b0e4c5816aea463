// The campaign service's folders import one way, so that a reader follows a request downwards and
// never back up: what an asset is, the website it is built from, the campaign, its assets (stored,
// generated, corrected), then what drives their generation (the job, the legacy ICP). The files at
// the root (composition, schema, loaders) may import every folder; tests may import the root too.
import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const layers = [['assets'], ['website'], ['campaign'], ['campaign-asset'], ['campaign-job', 'icp']];
const root = fileURLToPath(new URL('.', import.meta.url));
const layerOf = (folder: string) => layers.findIndex((layer) => layer.includes(folder));

describe('the campaign service folders', () => {
  it('each have their place in the order', () => {
    const folders = readdirSync(root, { withFileTypes: true }).filter((entry) => entry.isDirectory() && entry.name !== 'migrations');
    expect(folders.map((entry) => entry.name).toSorted()).toEqual(layers.flat().toSorted());
  });

  it('import only folders below their own', () => {
    const upward: string[] = [];
    for (const folder of layers.flat()) {
      for (const file of readdirSync(`${root}${folder}`).filter((name) => name.endsWith('.ts'))) {
        const test = file.endsWith('.test.ts');
        const text = readFileSync(`${root}${folder}/${file}`, 'utf8');
        for (const [, target] of text.matchAll(/from '\.\.\/([^'/]+)(\/[^']*)?'/g)) {
          const targetFolder = target!.endsWith('.js') ? null : target!;
          // A root file (app.ts, config.ts): only tests start the app.
          if (targetFolder === null) {
            if (!test) upward.push(`${folder}/${file} imports ../${target}`);
            continue;
          }
          if (targetFolder !== 'migrations' && layerOf(targetFolder) >= layerOf(folder)) upward.push(`${folder}/${file} imports ${targetFolder}/`);
        }
      }
    }
    expect(upward).toEqual([]);
  });
});
