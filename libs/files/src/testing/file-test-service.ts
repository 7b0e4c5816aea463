import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import type { CallerTokenVerifier } from '@gtm/caller';
import { CsvError, exportCsv, openCsv } from '@gtm/csv';
import { badUserInput, type Logger } from '@gtm/runtime';
import express from 'express';
import pg from 'pg';
import { stageCsv } from '../csv-staging.js';
import { createFileRoutes, type IncomingUpload, type UploadHandler } from '../file-routes.js';
import type { FileTickets } from '../file-ticket.js';

/** What the test service's handlers saw, for tests to assert the service side (an abort, a rollback). */
export interface FileTestServiceEvent {
  kind: 'staged' | 'rolled-back' | 'counted' | 'drained' | 'failed';
  resourceId: string;
  detail?: string;
}

export interface FileTestService {
  /** Where the service listens, as a gateway's `<SERVICE>_SERVICE_URL` names it (…/graphql). */
  url: string;
  events: FileTestServiceEvent[];
  /** Resource ids whose upload reached a handler (it may still be running). */
  started: Set<string>;
  /** Rows staged for an upload (its ticket's resource id). */
  stagedRows(resourceId: string): Promise<number>;
  close(): Promise<void>;
}

export interface FileTestServiceOptions {
  /** The service name its tickets carry. */
  service: string;
  tickets: FileTickets;
  verifier: CallerTokenVerifier;
  logger: Logger;
  /** A database for the `stage` purpose and the `staged-rows` download; without one they are absent. */
  databaseUrl?: string;
}

/**
 * A service with the file routes real services mount, and handlers for each way a service uses
 * an upload: `drain` (count the bytes, the transport alone), `count-rows` (parse as CSV),
 * `stage` (parse and COPY into PostgreSQL in one transaction, as an import does); downloads
 * `generated` (N rows made on the fly, N = the resource id) and `staged-rows` (what `stage` kept).
 */
export async function startFileTestService(options: FileTestServiceOptions): Promise<FileTestService> {
  const events: FileTestServiceEvent[] = [];
  const started = new Set<string>();
  const pool = options.databaseUrl ? new pg.Pool({ connectionString: options.databaseUrl, max: 4 }) : null;
  if (pool) {
    await pool.query('create schema if not exists files_test');
    await pool.query('create table if not exists files_test.staged_rows (upload_id text not null, row_number integer not null, line integer not null, cells jsonb not null)');
  }

  const uploads: Record<string, UploadHandler> = {
    drain: async ({ body, ticket }) => {
      let bytes = 0;
      for await (const chunk of body) bytes += (chunk as Buffer).length;
      events.push({ kind: 'drained', resourceId: ticket.resourceId, detail: String(bytes) });
    },
    'count-rows': async ({ body, ticket }) => {
      try {
        const csv = await openCsv(body);
        let rows = 0;
        for await (const row of csv.rows()) rows += row.values.length > 0 ? 1 : 0;
        events.push({ kind: 'counted', resourceId: ticket.resourceId, detail: String(rows) });
        return { rows, encoding: csv.report.encoding, delimiter: csv.delimiter, columns: csv.columns.map((column) => column.header) };
      } catch (error) {
        events.push({ kind: 'failed', resourceId: ticket.resourceId, detail: String(error) });
        if (error instanceof CsvError) throw badUserInput(error.message, undefined, { csvCode: error.code });
        throw error;
      }
    },
    ...(pool
      ? {
          stage: async ({ body, ticket }) => {
            const client = await pool.connect();
            try {
              await client.query('begin');
              const staged = await stageCsv({ client, table: 'files_test.staged_rows', constants: { upload_id: ticket.resourceId }, body });
              await client.query('commit');
              events.push({ kind: 'staged', resourceId: ticket.resourceId, detail: String(staged.rows) });
              return { rows: staged.rows, rejectedRows: staged.rejectedRows, encoding: staged.encoding, mapping: staged.suggestions.filter((suggestion) => suggestion.field).map((suggestion) => ({ column: suggestion.column.header, field: suggestion.field })) };
            } catch (error) {
              await client.query('rollback').catch(() => {});
              events.push({ kind: 'rolled-back', resourceId: ticket.resourceId, detail: String(error) });
              throw error;
            } finally {
              client.release();
            }
          },
        }
      : {}),
  };
  const routes = createFileRoutes({
    service: options.service,
    tickets: options.tickets,
    verifier: options.verifier,
    logger: options.logger,
    uploads: Object.fromEntries(
      Object.entries(uploads).map(([purpose, handler]) => [
        purpose,
        (upload: IncomingUpload) => {
          started.add(upload.ticket.resourceId);
          return handler(upload);
        },
      ]),
    ),
    downloads: {
      // A file whose size is known beforehand: sent with Content-Length.
      sized: async ({ ticket }) => {
        const bytes = Buffer.from(`id,name\r\n${ticket.resourceId},Zoë\r\n`);
        return { fileName: 'sized.csv', body: Readable.from([bytes]), size: bytes.length };
      },
      generated: async ({ ticket }) => {
        const count = Number(ticket.resourceId);
        const header = ['Company', 'Website', 'Notes'];
        function* rows() {
          for (let index = 1; index <= count; index += 1) yield [`Company ${index}`, `https://company-${index}.example`, index % 10 === 0 ? '=1+1' : 'Müller, "quoted"'];
        }
        return { fileName: `generated ${count} – leads.csv`, body: exportCsv(rows(), { header }) };
      },
      ...(pool
        ? {
            'staged-rows': async ({ ticket }) => {
              // Keyset pages: read as the client downloads, never the whole table at once.
              async function* rows() {
                let after = 0;
                while (true) {
                  const page = await pool!.query<{ row_number: number; cells: string[] }>(
                    'select row_number, cells from files_test.staged_rows where upload_id = $1 and row_number > $2 order by row_number limit 1000',
                    [ticket.resourceId, after],
                  );
                  for (const row of page.rows) yield row.cells;
                  if (page.rows.length < 1000) return;
                  after = page.rows.at(-1)!.row_number;
                }
              }
              const header = await pool.query<{ cells: string[] }>('select cells from files_test.staged_rows where upload_id = $1 order by row_number limit 1', [ticket.resourceId]);
              return { fileName: `${ticket.resourceId}.csv`, body: exportCsv(rows(), { header: (header.rows[0]?.cells ?? []).map((_cell, index) => `column ${index + 1}`) }) };
            },
          }
        : {}),
    },
  });

  const app = express();
  app.use(routes);
  const server: Server = createServer(app);
  server.requestTimeout = 0;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/graphql`,
    events,
    started,
    async stagedRows(resourceId) {
      if (!pool) return 0;
      const result = await pool.query<{ count: string }>('select count(*) from files_test.staged_rows where upload_id = $1', [resourceId]);
      return Number(result.rows[0]!.count);
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await pool?.end();
    },
  };
}
