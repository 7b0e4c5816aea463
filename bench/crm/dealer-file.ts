// A generated file in the shape of the Florida dealer register (18 columns; about 5% of its rows
// repeat an earlier dealer), for the lead-import benches.
import { createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export const dealerHeader = [
  'COUNTY', 'DEALER NAME', 'LOCATION ADDRESS', 'LOCATION CITY', 'STATE', 'LOC ZIP', 'PHONE', 'LIC TYPE', 'LIC NUMBER', 'EMAIL', 'Dealer Website URL',
  'Owner First Name', 'Owner Last Name', 'Owner Phone Number', 'Owner Email', 'PERSONALIZED EMAIL SUBJECT LINE', 'MULTI LINE PERSONALIZED EMAIL START ICE BREAKER', 'Dealer Hot Button Topic',
];
const counties = ['ALACHUA', 'BAKER', 'BAY', 'BREVARD', 'BROWARD', 'DADE', 'DUVAL', 'ESCAMBIA', 'HILLSBOROUGH', 'ORANGE', 'PALM BEACH', 'PINELLAS'];
const words = ['AUTO', 'MOTORS', 'CARS', 'SALES', 'BROKERS', 'IMPORTS', 'TRUCKS', 'RV', 'EXPRESS', 'PREMIER'];

/** Row `index` of the file; a repeated dealer is an earlier row again (same licence, same email). */
function dealerRow(index: number): string[] {
  const dealer = index % 20 === 19 ? index - 7 : index;
  const name = `${words[dealer % words.length]} ${words[(dealer >> 3) % words.length]} ${dealer} INC`;
  const phone = `(${305 + (dealer % 600)})${String(200 + (dealer % 800)).padStart(3, '0')}-${String(dealer % 10_000).padStart(4, '0')}`;
  const owner = dealer % 4 === 0;
  return [
    counties[dealer % counties.length]!, name, `${100 + (dealer % 9_000)} NW US HIGHWAY ${dealer % 500}`, 'GAINESVILLE', 'FL', String(32_000 + (dealer % 999)), phone,
    'VI', `${1_000_000 + dealer}-1`, `dealer${dealer}@mail${dealer % 50}.example.com`, dealer % 3 === 0 ? `https://www.dealer-${dealer}.example.com/` : '',
    owner ? 'JOHN' : '', owner ? `SMITH ${dealer}` : '', owner ? phone : '', owner ? `owner${dealer}@dealer-${dealer}.example.com` : '',
    dealer % 5 === 0 ? `Quick question about ${name}` : '', dealer % 5 === 0 ? `Saw your listing in ${counties[dealer % counties.length]} county, "great" selection` : '', '',
  ];
}

const csvLine = (cells: string[]) => `${cells.map((cell) => (/[",\n]/.test(cell) ? `"${cell.replaceAll('"', '""')}"` : cell)).join(',')}\n`;

function* fileLines(rows: number): Generator<string> {
  yield csvLine(dealerHeader);
  let batch = '';
  for (let index = 0; index < rows; index += 1) {
    batch += csvLine(dealerRow(index));
    if (batch.length > 65_536) {
      yield batch;
      batch = '';
    }
  }
  if (batch) yield batch;
}

/** Writes a file of `rows` dealer rows (and the header) to `path`; returns its size in bytes. */
export async function writeDealerFile(path: string, rows: number): Promise<number> {
  await pipeline(Readable.from(fileLines(rows)), createWriteStream(path));
  return (await stat(path)).size;
}
