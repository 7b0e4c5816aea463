import { createReadStream } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { suggestColumnMapping, type ColumnMappingSuggestion } from './column-mapping.js';
import { openCsv } from './csv-reader.js';

async function suggestionsFor(file: string): Promise<ColumnMappingSuggestion[]> {
  const reader = await openCsv(createReadStream(new URL(`../../../fixtures/leads/${file}`, import.meta.url)));
  reader.close();
  return reader.suggestMapping();
}

/** header → field, for the columns that got one. */
function mapped(suggestions: ColumnMappingSuggestion[]): Record<string, string> {
  return Object.fromEntries(suggestions.filter((suggestion) => suggestion.field).map((suggestion) => [suggestion.column.header, suggestion.field!]));
}

describe('suggestColumnMapping on real lead lists', () => {
  it('maps the Florida dealer list: the dealer is the company, the owner the lead', async () => {
    expect(mapped(await suggestionsFor('florida-dealers-10k.csv'))).toEqual({
      'DEALER NAME': 'companyName',
      'LOCATION ADDRESS': 'street',
      'LOCATION CITY': 'city',
      STATE: 'state',
      'LOC ZIP': 'postalCode',
      PHONE: 'companyPhone',
      EMAIL: 'companyEmail',
      'Dealer Website URL': 'website',
      'Owner First Name': 'firstName',
      'Owner Last Name': 'lastName',
      'Owner Phone Number': 'phone',
      'Owner Email': 'email',
    });
  });

  it('leaves the columns that are about a field, not the field, unmapped', async () => {
    const suggestions = await suggestionsFor('florida-dealers-10k.csv');
    const byHeader = new Map(suggestions.map((suggestion) => [suggestion.column.header, suggestion]));
    for (const header of ['PERSONALIZED EMAIL SUBJECT LINE', 'MULTI LINE PERSONALIZED EMAIL START ICE BREAKER', 'LIC NUMBER', 'COUNTY']) {
      expect(byHeader.get(header)).toMatchObject({ field: null, confidence: 0 });
    }
    expect(byHeader.get('EMAIL')!.alternatives).toEqual([{ field: 'email', confidence: expect.any(Number) }]);
  });

  it('maps the contractors list, telling a company "name" from a person by its values', async () => {
    expect(mapped(await suggestionsFor('contractors-8k.csv'))).toEqual({
      name: 'companyName',
      phone: 'phone',
      domain: 'domain',
      website: 'website',
      street: 'street',
      city: 'city',
      state: 'state',
      zip: 'postalCode',
      employee_count: 'employeeCount',
      address_full: 'address',
      linkedin_url: 'linkedinUrl',
      estimated_revenue: 'annualRevenue',
      email: 'email',
    });
  });

  it('maps the simple companies list', async () => {
    expect(mapped(await suggestionsFor('companies-200.csv'))).toEqual({
      company_name: 'companyName',
      company_website: 'website',
      company_size: 'employeeCount',
      industry: 'industry',
      contact_name: 'fullName',
      contact_email: 'email',
      contact_phone: 'phone',
      contact_title: 'title',
      notes: 'notes',
    });
  });
});

describe('suggestColumnMapping', () => {
  it('reads a CRM export layout and gives each field to one column only', () => {
    const header = ['First Name', 'Last Name', 'Title', 'Company', 'Email', 'Email Status', 'Work Direct Phone', 'Corporate Phone', '# Employees', 'Person Linkedin Url', 'Website', 'Company Linkedin Url', 'Facebook Url', 'State/Region', 'Country/Region', 'Company Domain Name'];
    const row = ['Ada', 'Lovelace', 'CTO', 'Analytical Engines Ltd', 'ada@engines.example', 'Verified', '+44 20 7946 0000', '+44 20 7946 0001', '11-50', 'https://www.linkedin.com/in/ada', 'engines.example', 'https://www.linkedin.com/company/engines', 'https://facebook.com/engines', 'London', 'United Kingdom', 'engines.example'];
    const result = mapped(suggestColumnMapping(header, [row, row, row]));
    expect(result).toEqual({
      'First Name': 'firstName',
      'Last Name': 'lastName',
      Title: 'title',
      Company: 'companyName',
      Email: 'email',
      'Work Direct Phone': 'phone',
      'Corporate Phone': 'companyPhone',
      '# Employees': 'employeeCount',
      'Person Linkedin Url': 'linkedinUrl',
      Website: 'website',
      'State/Region': 'state',
      'Country/Region': 'country',
      'Company Domain Name': 'domain',
    });
  });

  it('finds e-mail addresses under a header that names no field, with less confidence', () => {
    const [suggestion] = suggestColumnMapping(['Reach them at'], [['a@x.io'], ['b@y.io'], ['c@z.io']]);
    expect(suggestion).toMatchObject({ field: 'email' });
    expect(suggestion!.confidence).toBeLessThan(0.6);
  });

  it('drops a header match whose values say otherwise', () => {
    const [suggestion] = suggestColumnMapping(['Email'], [['yes'], ['no'], ['yes'], ['no']]);
    expect(suggestion!.field).toBeNull();
  });

  it('takes a bare "Name" full of people for a person', () => {
    const suggestions = suggestColumnMapping(['Name', 'Employer'], [['Grace Hopper', 'Navy'], ['Alan Turing', 'NPL'], ['Katherine Johnson', 'NASA']]);
    expect(mapped(suggestions)).toEqual({ Name: 'fullName', Employer: 'companyName' });
  });
});
