// The normaliser's North American shortcut for phones gives what libphonenumber gives: on every
// phone cell of the three real lead files and on a generated set of numbers written the ways people
// write them (and some it must leave to libphonenumber), read as US, as Canadian and with no country.
import { createReadStream } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { openCsv } from '@gtm/csv';
import { readPhone } from './lead-import.normalise.js';

const leads = (name: string) => new URL(`../../../../fixtures/leads/${name}`, import.meta.url);
const countries = ['US', 'CA', undefined] as const;

async function phoneCells(file: string): Promise<string[]> {
  const reader = await openCsv(createReadStream(leads(file)));
  const phoneColumns = reader.columns.flatMap((column, index) => (/phone/i.test(column.header) ? [index] : []));
  const cells: string[] = [];
  for await (const row of reader.rows()) for (const index of phoneColumns) if (row.values[index]) cells.push(row.values[index]!);
  return cells;
}

/** A deterministic pseudo-random sequence, so a failure names a value that comes back. */
function* numbers(count: number): Generator<string> {
  let state = 20_261_204;
  const next = (below: number) => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return state % below;
  };
  const digits = (length: number) => Array.from({ length }, () => next(10)).join('');
  const formats = [
    (area: string, exchange: string, line: string) => `(${area}) ${exchange}-${line}`,
    (area: string, exchange: string, line: string) => `(${area})${exchange}-${line}`,
    (area: string, exchange: string, line: string) => `${area}-${exchange}-${line}`,
    (area: string, exchange: string, line: string) => `${area}.${exchange}.${line}`,
    (area: string, exchange: string, line: string) => `${area} ${exchange} ${line}`,
    (area: string, exchange: string, line: string) => `${area}${exchange}${line}`,
    (area: string, exchange: string, line: string) => `1 ${area} ${exchange} ${line}`,
    (area: string, exchange: string, line: string) => `1-${area}-${exchange}-${line}`,
    (area: string, exchange: string, line: string) => `1${area}${exchange}${line}`,
    (area: string, exchange: string, line: string) => `+1 (${area}) ${exchange}-${line}`,
    (area: string, exchange: string, line: string) => `+1-${area}-${exchange}-${line}`,
    (area: string, exchange: string, line: string) => `+1${area}${exchange}${line}`,
    (area: string, exchange: string, line: string) => ` ${area}-${exchange}-${line}  `,
    (area: string, exchange: string, line: string) => `${area}-${exchange}-${line} x${line.slice(0, 2)}`,
    (area: string, exchange: string, line: string) => `${area}-${exchange}-${line} / ${exchange}-${line}`,
    (area: string, exchange: string, line: string) => `(${area}) ${exchange}-${line.slice(0, 3)}`,
    (area: string, exchange: string, line: string) => `${area}${exchange}${line}0`,
    (area: string, exchange: string, line: string) => `+44 ${area} ${exchange} ${line}`,
  ];
  for (let index = 0; index < count; index += 1) {
    // Area codes and exchanges of every first digit, 0 and 1 included (the shortcut leaves those).
    yield formats[next(formats.length)]!(digits(3), digits(3), digits(4));
  }
}

describe('phone numbers read by the normaliser', () => {
  it('give the same E.164 (or refusal) as libphonenumber on every phone of the three real lead files', async () => {
    const cells = [...(await phoneCells('florida-dealers-10k.csv')), ...(await phoneCells('contractors-8k.csv')), ...(await phoneCells('companies-200.csv'))];
    expect(cells.length).toBeGreaterThan(10_000);
    const differing = cells.flatMap((cell) => countries.flatMap((country) => {
      const fast = readPhone(cell, country);
      const library = readPhone(cell, country, true);
      return JSON.stringify(fast) === JSON.stringify(library) ? [] : [{ cell, country, fast, library }];
    }));
    expect(differing).toEqual([]);
    // Most of them are the North American numbers the shortcut reads.
    const northAmerican = cells.filter((cell) => {
      const reading = readPhone(cell, 'US');
      return 'phone' in reading && reading.phone?.startsWith('+1');
    });
    expect(northAmerican.length).toBeGreaterThan(cells.length * 0.9);
  });

  it('give the same E.164 (or refusal) as libphonenumber on 30,000 generated numbers in every usual writing', () => {
    const differing: unknown[] = [];
    for (const cell of numbers(30_000)) {
      for (const country of countries) {
        const fast = readPhone(cell, country);
        const library = readPhone(cell, country, true);
        if (JSON.stringify(fast) !== JSON.stringify(library)) differing.push({ cell, country, fast, library });
      }
    }
    expect(differing.slice(0, 20)).toEqual([]);
  });
});
