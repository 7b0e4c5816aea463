// Starting a lead import and uploading a file to it, as the lead-import benches do: PUT straight to
// crm-service's /files/<ticket> route, signed as the gateway signs its relay.
import { createReadStream } from 'node:fs';
import { request } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { type CallerContext, callerTokenHeader } from '@gtm/caller';

export interface DealerUpload {
  call: (caller: CallerContext, query: string, variables?: Record<string, unknown>) => Promise<{ data?: Record<string, any> | null; errors?: readonly unknown[] }>;
  origin: string;
  signer: { sign(caller: CallerContext): Promise<string> };
  caller: CallerContext;
  file: string;
}

/** Starts an import and uploads `file` to it; answers the import's id once the upload has been answered (its rows staged). */
export async function uploadDealerFile({ call, origin, signer, caller, file }: DealerUpload): Promise<string> {
  const started = await call(caller, `mutation { importLeads(input: { fileName: "dealers.csv" }) { id uploadUrl } }`);
  if (started.errors) throw new Error(JSON.stringify(started.errors));
  const { id, uploadUrl } = started.data!['importLeads'] as { id: string; uploadUrl: string };
  // node:http with pipeline, not fetch over Readable.toWeb: the client then reads the file only as
  // fast as the socket drains, so the process's RSS is the service's, not a client's buffer.
  const upload = request(new URL(`${origin}/files/${uploadUrl.split('/').at(-1)}`), { method: 'PUT', headers: { [callerTokenHeader]: await signer.sign(caller), 'content-type': 'text/csv' } });
  const answered = new Promise<{ status: number; body: string }>((resolve, reject) => {
    upload.once('response', (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.once('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    upload.once('error', reject);
  });
  await pipeline(createReadStream(file), upload);
  const response = await answered;
  if (response.status !== 200) throw new Error(`upload answered ${response.status}: ${response.body}`);
  return id;
}

/** Waits until the import's job has ended (polling `crm.job` every 10 ms); answers its status. */
export async function waitForImportEnd(execute: (sql: string, values: unknown[]) => Promise<Array<{ status?: string }>>, id: string): Promise<string> {
  for (;;) {
    const [row] = await execute(`select status from crm.job where id = ?`, [id]);
    if (row?.status && ['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(row.status)) return row.status;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
