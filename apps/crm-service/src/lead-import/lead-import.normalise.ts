import type { CsvColumn, CsvRow, LeadField } from '@gtm/csv';
import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/min';

/** What one column of an import became: a lead field, or (field null) a custom field of the lead. */
export interface MappedColumn {
  column: string;
  field: LeadField | null;
  /** How sure the detection was (1 when the import named the field). */
  confidence: number;
}

/** The staging table's derived columns, in the order `normaliseRow` returns them. */
export const stagedColumns = [
  'email',
  'first_name',
  'last_name',
  'phone',
  'title',
  'notes',
  'company_name',
  'domain',
  'website',
  'industry',
  'employee_count',
  'company_phone',
  'city',
  'region',
  'country',
  'custom',
  'error_column',
  'error_message',
] as const;

const limits: Partial<Record<LeadField, number>> = {
  email: 320,
  companyEmail: 320,
  firstName: 200,
  lastName: 200,
  fullName: 400,
  title: 300,
  companyName: 500,
  website: 2_000,
  domain: 253,
  phone: 50,
  companyPhone: 50,
  industry: 300,
  city: 200,
  state: 200,
  country: 100,
  notes: 10_000,
};
const defaultLimit = 10_000;

const emailPattern = /^[^\s@,;<>"]+@[^\s@,;<>"]+\.[^\s@,;<>"]{2,}$/;
const countries: Record<string, CountryCode> = {
  us: 'US', usa: 'US', 'united states': 'US', 'united states of america': 'US', america: 'US',
  ca: 'CA', canada: 'CA', uk: 'GB', gb: 'GB', 'united kingdom': 'GB', 'great britain': 'GB', england: 'GB',
  de: 'DE', germany: 'DE', deutschland: 'DE', fr: 'FR', france: 'FR', au: 'AU', australia: 'AU',
  mx: 'MX', mexico: 'MX', ie: 'IE', ireland: 'IE', nl: 'NL', netherlands: 'NL', es: 'ES', spain: 'ES',
  it: 'IT', italy: 'IT', in: 'IN', india: 'IN', nz: 'NZ', 'new zealand': 'NZ',
};
const usStates = new Set(
  'AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY PR'.split(' '),
);

class RowRefusal extends Error {
  constructor(
    readonly column: string | null,
    message: string,
  ) {
    super(message);
  }
}

/** Whitespace that `collapse` would change inside a value: a run of it, or any but a plain space. */
const uncollapsedSpace = /\s\s|[^\S ]/;
const collapse = (value: string) => (uncollapsedSpace.test(value) ? value.replace(/\s+/g, ' ') : value).trim();

/** "BROADWAY AUTO BROKERS" and "broadway auto brokers" read as "Broadway Auto Brokers"; mixed case is the author's. */
function cleanCase(value: string): string {
  if (value !== value.toUpperCase() && value !== value.toLowerCase()) return value;
  return value.toLowerCase().replace(/(^|[\s\-'’(/&.])(\p{L})/gu, (_match, before: string, letter: string) => before + letter.toUpperCase());
}

/** The registrable host of a website or domain cell, lower-case, without `www.`; null when it has none. */
export function domainOf(value: string): string | null {
  const text = value.trim().toLowerCase();
  if (!text) return null;
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//.test(text) ? text : `http://${text.replace(/^\/+/, '')}`;
  let host: string;
  try {
    host = new URL(withScheme).hostname;
  } catch {
    return null;
  }
  host = host.replace(/^www\d*\./, '').replace(/\.$/, '');
  if (!/^[a-z0-9-]+(\.[a-z0-9-]+)*\.[a-z][a-z0-9-]{1,62}$/.test(host) && !host.startsWith('xn--')) return null;
  return host;
}

function countryOf(value: string | undefined, region: string | undefined): CountryCode | undefined {
  const country = value ? countries[collapse(value).toLowerCase().replace(/\./g, '')] : undefined;
  if (country) return country;
  if (!value && region && usStates.has(region.trim().toUpperCase())) return 'US';
  return undefined;
}

/** A phone cell read: E.164 (or the text as written), or why it is no phone number. */
export type PhoneReading = { phone: string | null } | { refusal: string };

/**
 * A North American number as people write it — ten digits, an area code and an exchange that begin
 * with 2–9, optionally after `1` or `+1`, in the usual groupings — where libphonenumber's answer is
 * known without it: no national prefix to strip (the area code cannot begin with 1), the
 * ten-digit length the only one possible for the US and Canada, so `+1` and the ten digits. It is
 * most phones of North American lists, and libphonenumber spends most of the normaliser's time on
 * them (the type patterns of the 25 countries of calling code 1, compiled anew on every call). A
 * test holds the two to the same answers on the fixtures' phones and a generated set.
 */
const northAmericanNumber = /^(?:\+?1[ .-]?)?(?:\(([2-9]\d\d)\)|([2-9]\d\d))[ .-]?([2-9]\d\d)[ .-]?(\d{4})$/;

/**
 * E.164 when the number parses (with the row's country, or its own `+` prefix); else the digits as
 * written. `viaLibraryOnly` skips the North American shortcut, for the test that compares the two.
 */
export function readPhone(value: string, country: CountryCode | undefined, viaLibraryOnly = false): PhoneReading {
  // "707-446-5500 / 707-520-0223": the first number is the lead's.
  const text = collapse(value).split(/\s+\/\s+|\s*[;,]\s*/)[0]!;
  if (!text) return { phone: null };
  if ((country === 'US' || country === 'CA') && !viaLibraryOnly) {
    const match = northAmericanNumber.exec(text);
    if (match) return { phone: `+1${match[1] ?? match[2]}${match[3]}${match[4]}` };
  }
  const digits = text.replace(/\D/g, '');
  if (digits.length < 5 || /[a-wyz]/i.test(text.replace(/\b(ext|x)\.?\s*\d+$/i, ''))) return { refusal: `"${text.slice(0, 40)}" is not a phone number.` };
  const parsed = parsePhoneNumberFromString(text, country);
  if (parsed?.isPossible()) return { phone: parsed.number };
  if (country) return { refusal: `"${text.slice(0, 40)}" is not a phone number in ${country}.` };
  return { phone: text };
}

function normalisePhone(value: string, country: CountryCode | undefined, column: string): string | null {
  const reading = readPhone(value, country);
  if ('refusal' in reading) throw new RowRefusal(column, reading.refusal);
  return reading.phone;
}

function normaliseEmail(value: string, column: string): string | null {
  // Addresses are compared lower-case; the local part is otherwise kept as written, since
  // provider rules (dots, +tags) differ and a rewritten address may no longer be delivered.
  const first = collapse(value).replace(/^mailto:/i, '').split(/[;,\s]+/)[0] ?? '';
  const email = first.replace(/^<|>$/g, '').toLowerCase();
  if (!email) return null;
  if (!emailPattern.test(email)) throw new RowRefusal(column, `"${email.slice(0, 60)}" is not an email address.`);
  return email;
}

function employeeCountOf(value: string, column: string): string | null {
  const text = collapse(value).toLowerCase().replace(/,/g, '');
  if (!text) return null;
  const match = /^(\d+(?:\.\d+)?)\s*(k)?\s*\+?(?:\s*(?:-|–|to)\s*\d+(?:\.\d+)?\s*k?\+?)?(?:\s*employees?)?$/.exec(text);
  if (!match) throw new RowRefusal(column, `"${text.slice(0, 40)}" is not a number of employees.`);
  const count = Math.round(Number(match[1]) * (match[2] ? 1_000 : 1));
  if (!Number.isSafeInteger(count) || count > 10_000_000) throw new RowRefusal(column, `"${text.slice(0, 40)}" is not a number of employees.`);
  return String(count);
}

/** "Smith, Ada" → Ada / Smith; "Ada Lovelace King" → Ada / Lovelace King. */
function splitName(value: string): [string | null, string | null] {
  const text = collapse(value);
  if (!text) return [null, null];
  const comma = /^([^,]+),\s*([^,]+)$/.exec(text);
  if (comma) return [comma[2]!, comma[1]!];
  const space = text.indexOf(' ');
  return space < 0 ? [text, null] : [text.slice(0, space), text.slice(space + 1)];
}

/**
 * Turns each CSV row into the staging table's derived columns (`stagedColumns`): the mapped
 * fields normalised, the unmapped non-empty cells as custom fields (JSON), or the reason the row
 * is refused (`error_column`, `error_message`) — a value that does not parse, one too long, or
 * nothing to know the lead by.
 */
export function createRowNormaliser(columns: CsvColumn[], mapping: MappedColumn[], defaultCountry: string | null = null) {
  const byField = new Map<LeadField, number>();
  const custom: Array<{ index: number; key: string }> = [];
  const seenHeaders = new Set<string>();
  mapping.forEach((mapped, index) => {
    if (mapped.field && !byField.has(mapped.field)) byField.set(mapped.field, index);
    else {
      const header = columns[index]!.header || columns[index]!.name;
      custom.push({ index, key: seenHeaders.has(header) ? columns[index]!.name : header });
      seenHeaders.add(header);
    }
  });

  const header = (field: LeadField) => columns[byField.get(field)!]!.header;

  return (row: CsvRow): Array<string | null> => {
    const cell = (field: LeadField): string | undefined => {
      const index = byField.get(field);
      if (index === undefined) return undefined;
      const value = row.values[index] ?? '';
      const limit = limits[field] ?? defaultLimit;
      if (value.length > limit) throw new RowRefusal(columns[index]!.header, `The value is too long (${value.length} characters; at most ${limit}).`);
      return value;
    };
    const text = (field: LeadField, clean = false): string | null => {
      const value = cell(field);
      if (value === undefined) return null;
      const collapsed = collapse(value);
      return collapsed ? (clean ? cleanCase(collapsed) : collapsed) : null;
    };
    try {
      const region = text('state');
      const rowCountry = countryOf(cell('country'), region ?? undefined);
      // The import's country stands in for a row that names none, never for one that names another.
      const country = rowCountry ?? (cell('country')?.trim() ? undefined : ((defaultCountry as CountryCode | null) ?? undefined));
      const personEmail = cell('email') !== undefined ? normaliseEmail(cell('email')!, header('email')) : null;
      const companyEmail = cell('companyEmail') !== undefined ? normaliseEmail(cell('companyEmail')!, header('companyEmail')) : null;
      const personPhone = cell('phone') !== undefined ? normalisePhone(cell('phone')!, country, header('phone')) : null;
      // The owner's phone is often the company's own, cell for cell: read once.
      const companyPhone = cell('companyPhone') === undefined ? null : personPhone !== null && cell('companyPhone') === cell('phone') ? personPhone : normalisePhone(cell('companyPhone')!, country, header('companyPhone'));
      let firstName = text('firstName', true);
      let lastName = text('lastName', true);
      if (!firstName && !lastName) [firstName, lastName] = splitName(cleanCase(text('fullName') ?? ''));
      const website = text('website');
      let domain: string | null = null;
      if (website) {
        domain = domainOf(website);
        if (!domain) throw new RowRefusal(header('website'), `"${website.slice(0, 60)}" is not a website address.`);
      }
      const domainCell = text('domain');
      if (domainCell) {
        const fromCell = domainOf(domainCell);
        if (!fromCell) throw new RowRefusal(header('domain'), `"${domainCell.slice(0, 60)}" is not a domain.`);
        domain = fromCell;
      }
      const companyName = text('companyName', true);
      const email = personEmail ?? companyEmail;
      const phone = personPhone ?? companyPhone;
      if (!email && !companyName && !domain && !phone) {
        throw new RowRefusal(null, 'The row has no email, company, website or phone to know the lead by.');
      }
      const employeeCount = cell('employeeCount') !== undefined ? employeeCountOf(cell('employeeCount')!, header('employeeCount')) : null;
      const extra: Record<string, string> = {};
      for (const { index, key } of custom) {
        const value = row.values[index];
        if (value && value.trim()) extra[key] = value;
      }
      // Mapped fields the lead and company have no column for stay with the lead too.
      for (const field of ['street', 'address', 'postalCode', 'linkedinUrl', 'annualRevenue'] as const) {
        const value = text(field);
        if (value) extra[header(field)] = value;
      }
      return [
        email,
        firstName,
        lastName,
        phone,
        text('title'),
        text('notes'),
        companyName,
        domain,
        website ? (/^https?:\/\//i.test(website) ? website : `https://${website}`) : domain ? `https://${domain}` : null,
        text('industry'),
        employeeCount,
        companyPhone,
        text('city', true),
        region,
        rowCountry ?? text('country'),
        JSON.stringify(extra),
        null,
        null,
      ];
    } catch (error) {
      if (!(error instanceof RowRefusal)) throw error;
      const refused: Array<string | null> = stagedColumns.map(() => null);
      refused[stagedColumns.length - 2] = error.column;
      refused[stagedColumns.length - 1] = error.message;
      return refused;
    }
  };
}
