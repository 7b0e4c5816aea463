// How an uploaded file's columns are read into records and how the results go back out, on the real
// headers of the dealer register and the contractor list: which columns are filled, which appended.
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { describe, expect, it } from '@jest/globals';
import { exportCsv, normaliseHeader, suggestColumnMapping } from '@gtm/csv';
import { parse } from 'csv-parse/sync';
import type { GraphQLError } from 'graphql';
import { EnrichmentRecord, EnrichmentRecordStatus } from '../enrichment-record/enrichment-record.entity.js';
import { QualificationTier } from '../enrichment-record/enrichment-results.js';
import { exportLayout } from './enrichment-export.js';
import { recordOfRow, resolveColumns } from './file-columns.js';

const fileRows = (name: string, count: number) => {
  const [header, ...rows] = parse(readFileSync(new URL(`../../../../fixtures/leads/${name}`, import.meta.url)), { to_line: count + 1 }) as string[][];
  return { header: header!, rows };
};
const columnsOf = (header: string[], rows: string[][], given: Array<{ column: string; field: string | null }> | null = null) => {
  const columns = normaliseHeader(header);
  return resolveColumns(columns, suggestColumnMapping(columns, rows), given);
};

function enriched(input: Record<string, unknown>): EnrichmentRecord {
  return Object.assign(new EnrichmentRecord(), {
    input,
    status: EnrichmentRecordStatus.ENRICHED,
    normalizedWebsite: 'https://sunshine-motors.example',
    domain: 'sunshine-motors.example',
    contacts: [{ name: 'Rosa Delgado', title: 'Owner', email: 'rosa@sunshine-motors.example', phone: '(352) 555-0101', linkedinUrl: 'https://www.linkedin.com/in/rosa', source: 'https://sunshine-motors.example/team', seniority: 'OWNER' }],
    personalization: { subject: 'Forty years on 441', iceBreaker: 'Hi Rosa, …', hotButtonTopic: 'Family ownership', provider: 'offline', extractive: true, confidence: 0.3 },
    qualification: { score: 81, tier: QualificationTier.A, reasoning: 'Fits.', confidence: 0.8, signals: [], provider: 'offline', basis: 'DATA' },
    costUsd: 0.0042,
    failureReason: null,
  });
}

describe('reading an uploaded file’s rows', () => {
  it('keeps every cell of a dealer row verbatim and reads the company, its phone and the owner from it', () => {
    const { header, rows } = fileRows('florida-dealers-10k.csv', 5);
    const columns = columnsOf(header, rows);
    const record = recordOfRow(0, rows[0]!, columns);
    expect(record.input).toEqual(Object.fromEntries(header.map((name, index) => [name, rows[0]![index]])));
    expect(record).toMatchObject({ companyName: 'BROADWAY AUTO BROKERS INC', phone: '(352)415-0010', address: '12559 NW US HIGHWAY 441', city: 'ALACHUA', region: 'FL', postalCode: '32615', email: 'broadway6st@gmail.com', website: null, givenContact: null });
  });

  it('takes the mapping given over the detected one, and refuses a column the file does not have', () => {
    const header = ['Firm', 'Site', 'Phone'];
    const columns = columnsOf(header, [['Acme', 'acme.example', '555']], [{ column: 'firm', field: 'companyName' }, { column: 'Site', field: null }]);
    expect(columns.map((column) => column.field)).toEqual(['companyName', null, 'phone']);
    expect(() => columnsOf(header, [], [{ column: 'Firma', field: 'companyName' }])).toThrow(/does not have\. Its columns are: Firm, Site, Phone/);
    let error: GraphQLError | undefined;
    try {
      columnsOf(['colour', 'size'], [['red', '10']]);
    } catch (caught) {
      error = caught as GraphQLError;
    }
    expect(error?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'NOTHING_TO_ENRICH' });
  });

  it('keeps repeated and empty headers apart', () => {
    const columns = columnsOf(['Company', 'Notes', 'Notes', ''], [['Acme', 'a', 'b', 'c']]);
    expect(columns.map((column) => column.key)).toEqual(['Company', 'notes', 'notes_2', 'column_4']);
    expect(recordOfRow(0, ['Acme', 'a', 'b', 'c'], columns).input).toEqual({ Company: 'Acme', notes: 'a', notes_2: 'b', column_4: 'c' });
  });
});

describe('the results file', () => {
  it('fills the dealer register’s own empty columns and appends only what it has no column for', () => {
    const { header, rows } = fileRows('florida-dealers-10k.csv', 5);
    const columns = columnsOf(header, rows);
    const layout = exportLayout({ columns: columns.map((column) => column.key), columnMapping: columns.map((column) => ({ column: column.key, field: column.field })) });
    expect(layout.header.slice(header.length)).toEqual([
      'Enriched Domain',
      'Contact 1 Title',
      'Contact 1 LinkedIn',
      ...[2, 3].flatMap((number) => ['Name', 'Title', 'Email', 'Phone', 'LinkedIn'].map((part) => `Contact ${number} ${part}`)),
      'Qualification Score',
      'Qualification Tier',
      'Qualification Reasoning',
      'Enrichment Status',
      'Failure Reason',
      'Enrichment Cost USD',
    ]);
    const given = recordOfRow(0, rows[0]!, columns).input;
    const cells = layout.cells(enriched({ ...given, 'Owner Email': 'kept@their.example' }));
    const cell = (name: string) => cells[layout.header.indexOf(name)];
    expect(cell('DEALER NAME')).toBe('BROADWAY AUTO BROKERS INC');
    expect(cell('EMAIL')).toBe('broadway6st@gmail.com');
    expect(cell('Dealer Website URL')).toBe('https://sunshine-motors.example');
    expect([cell('Owner First Name'), cell('Owner Last Name')]).toEqual(['Rosa', 'Delgado']);
    expect(cell('Owner Phone Number')).toBe('(352) 555-0101');
    // A value the row gave is never overwritten.
    expect(cell('Owner Email')).toBe('kept@their.example');
    expect(cell('PERSONALIZED EMAIL SUBJECT LINE')).toBe('Forty years on 441');
    expect(cell('MULTI LINE PERSONALIZED EMAIL START ICE BREAKER')).toBe('Hi Rosa, …');
    expect(cell('Dealer Hot Button Topic')).toBe('Family ownership');
    expect([cell('Qualification Score'), cell('Qualification Tier'), cell('Enrichment Cost USD')]).toEqual([81, 'A', 0.0042]);
  });

  it('never puts a person’s phone or email in the contractor list’s company columns', () => {
    const { header, rows } = fileRows('contractors-8k.csv', 20);
    const columns = columnsOf(header, rows);
    const layout = exportLayout({ columns: columns.map((column) => column.key), columnMapping: columns.map((column) => ({ column: column.key, field: column.field })) });
    const appended = layout.header.slice(header.length);
    expect(appended).toEqual(expect.arrayContaining(['Contact 1 Name', 'Contact 1 Title', 'Contact 1 Email', 'Contact 1 Phone', 'Contact 1 LinkedIn', 'Subject Line', 'Ice Breaker', 'Hot Button Topic']));
    const emptyRow = header.map(() => '');
    const cells = layout.cells(enriched(recordOfRow(0, emptyRow, columns).input));
    expect(cells[header.indexOf('phone')]).toBe('');
    expect(cells[header.indexOf('email')]).toBe('');
    expect(cells[header.indexOf('website')]).toBe('https://sunshine-motors.example');
    expect(cells[header.indexOf('domain')]).toBe('sunshine-motors.example');
    // "tier" is the list's own column: the appended one does not take its name.
    expect(appended).toContain('Qualification Tier');
  });

  it('carries the three best-ranked contacts as numbered columns, which read back from the CSV as they were', async () => {
    const { header, rows } = fileRows('florida-dealers-10k.csv', 5);
    const columns = columnsOf(header, rows);
    const layout = exportLayout({ columns: columns.map((column) => column.key), columnMapping: columns.map((column) => ({ column: column.key, field: column.field })) });
    const team = [
      { name: 'Rosa Delgado', title: 'Owner', email: 'rosa@sunshine-motors.example', phone: '(352) 555-0101', linkedinUrl: 'https://www.linkedin.com/in/rosa', source: 'https://sunshine-motors.example/team', seniority: 'OWNER' },
      { name: 'Ken Obi', title: 'General Manager', email: 'ken@sunshine-motors.example', phone: null, linkedinUrl: 'https://www.linkedin.com/in/ken-obi', source: 'https://sunshine-motors.example/team', seniority: 'VP' },
      { name: 'Ann Lee', title: 'Finance Director', email: null, phone: '=1+2', linkedinUrl: null, source: 'https://sunshine-motors.example/about', seniority: 'DIRECTOR' },
      { name: 'Sam Fourth', title: 'Sales Manager', email: 'sam@sunshine-motors.example', phone: null, linkedinUrl: null, source: 'https://sunshine-motors.example/team', seniority: 'MANAGER' },
    ];
    const record = Object.assign(enriched(recordOfRow(0, rows[0]!, columns).input), { contacts: team });
    const text = await new Response(Readable.toWeb(exportCsv([layout.cells(record), layout.cells(enriched({ 'DEALER NAME': 'NOBODY FOUND' }))], { header: layout.header })) as ReadableStream).text();
    const [written, withOne] = parse(text, { columns: true, bom: true }) as Array<Record<string, string>>;
    // The first fills the register's own owner columns; the second and third follow in their own.
    expect([written!['Owner First Name'], written!['Owner Last Name'], written!['Owner Phone Number'], written!['Owner Email'], written!['Contact 1 Title'], written!['Contact 1 LinkedIn']]).toEqual([
      'Rosa',
      'Delgado',
      '(352) 555-0101',
      'rosa@sunshine-motors.example',
      'Owner',
      'https://www.linkedin.com/in/rosa',
    ]);
    const numbered = (number: number) => ['Name', 'Title', 'Email', 'Phone', 'LinkedIn'].map((part) => written![`Contact ${number} ${part}`]);
    expect(numbered(2)).toEqual(['Ken Obi', 'General Manager', 'ken@sunshine-motors.example', '', 'https://www.linkedin.com/in/ken-obi']);
    // A formula in a contact's cell goes out escaped, as any other cell.
    expect(numbered(3)).toEqual(['Ann Lee', 'Finance Director', '', "'=1+2", '']);
    expect(Object.values(written!)).not.toContain('Sam Fourth');
    // A record with one contact (or none) leaves the others' columns empty.
    expect(['Name', 'Title', 'Email', 'Phone', 'LinkedIn'].map((part) => withOne![`Contact 2 ${part}`])).toEqual(['', '', '', '', '']);
    expect(withOne!['Owner First Name']).toBe('Rosa');
  });

  it('lays out records given inline by their own columns', () => {
    const layout = exportLayout({ columns: ['companyName', 'website', 'COUNTY', 'Dealer Website URL'], columnMapping: null });
    expect(layout.header.slice(0, 4)).toEqual(['companyName', 'website', 'COUNTY', 'Dealer Website URL']);
    const cells = layout.cells(enriched({ companyName: 'Sunshine Motors', COUNTY: 'ALACHUA', 'Dealer Website URL': '' }));
    expect(cells.slice(0, 4)).toEqual(['Sunshine Motors', 'https://sunshine-motors.example', 'ALACHUA', '']);
  });
});
