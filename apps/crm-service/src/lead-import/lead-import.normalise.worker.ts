// The row normaliser's thread (see lead-import.normaliser-thread.ts): normalises the batches of
// rows it is sent, in order, and answers each with the staged columns of its rows.
import { parentPort, workerData } from 'node:worker_threads';
import type { CsvRow } from '@gtm/csv';
import type { RowNormaliserSettings } from './lead-import.normaliser-thread.js';

// Built, this is a .js file next to lead-import.normalise.js; under the tests Node runs the .ts
// sources, so the normaliser is loaded with this file's own extension.
const extension = import.meta.url.slice(import.meta.url.lastIndexOf('.'));
const { createRowNormaliser } = (await import(`./lead-import.normalise${extension}`)) as typeof import('./lead-import.normalise.js');

const settings = workerData as RowNormaliserSettings;
const normalise = createRowNormaliser(settings.columns, settings.mapping, settings.defaultCountry);
const port = parentPort!;
port.on('message', (batch: string[][]) => {
  // An error other than a row's refusal is thrown from here and ends the thread: the upload fails.
  port.postMessage(batch.map((values) => normalise({ number: 0, line: 0, values } satisfies CsvRow)));
});
