import { Worker } from 'node:worker_threads';
import type { CsvColumn, CsvRow } from '@gtm/csv';
import type { MappedColumn } from './lead-import.normalise.js';

/** What the thread builds its normaliser from (`createRowNormaliser`'s arguments). */
export interface RowNormaliserSettings {
  columns: CsvColumn[];
  mapping: MappedColumn[];
  defaultCountry: string | null;
}

/** `createRowNormaliser` in a thread of its own: batches of rows in, their staged columns out, in order. */
export interface RowNormaliserThread {
  /** The staged columns of each row (as `createRowNormaliser` gives them). Rejects when the thread fails. */
  normalise(rows: CsvRow[]): Promise<Array<Array<string | null>>>;
  /** Ends the thread (also after a failure). */
  close(): Promise<void>;
}

/**
 * Starts a thread that normalises rows. Normalising is most of the upload's CPU time (phone
 * numbers above all) and the event loop also reads the file and feeds COPY, so on its own thread
 * it runs beside them (decision 0086). A thread that fails — an error in the normaliser, the
 * thread killed — rejects every batch not yet answered and every later one, so the upload's
 * COPY, and with it its transaction, fails as a whole.
 */
export function startRowNormaliserThread(settings: RowNormaliserSettings): RowNormaliserThread {
  // Built, the worker is the .js file beside this one; under the tests, the .ts source.
  const extension = import.meta.url.slice(import.meta.url.lastIndexOf('.'));
  const worker = new Worker(new URL(`./lead-import.normalise.worker${extension}`, import.meta.url), { workerData: settings });
  // The thread answers batches in the order they were sent.
  const waiting: Array<{ resolve: (derived: Array<Array<string | null>>) => void; reject: (error: unknown) => void }> = [];
  let failure: unknown = null;
  let closing = false;
  const fail = (error: unknown) => {
    failure ??= error;
    for (const batch of waiting.splice(0)) batch.reject(failure);
  };
  worker.on('message', (derived: Array<Array<string | null>>) => waiting.shift()?.resolve(derived));
  worker.on('error', fail);
  worker.on('exit', (code) => {
    if (!closing) fail(new Error(`The row normaliser's thread stopped (exit code ${code}).`));
  });
  return {
    normalise(rows) {
      if (failure) return Promise.reject(failure);
      return new Promise((resolve, reject) => {
        waiting.push({ resolve, reject });
        // Only the cells cross over (copied; nothing is transferred): the normaliser reads
        // nothing else of a row.
        worker.postMessage(
          rows.map((row) => row.values),
          [],
        );
      });
    },
    async close() {
      closing = true;
      await worker.terminate();
    },
  };
}
