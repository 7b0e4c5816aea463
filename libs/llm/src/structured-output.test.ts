import { describe, expect, test } from '@jest/globals';
import { z } from 'zod';
import { prepareOutputSchema } from './output-schema.js';
import { parseStructuredOutput } from './structured-output.js';

const schema = z.object({
  companyName: z.string().min(1),
  industries: z.array(z.string()).min(1),
  employeeRange: z.enum(['1-10', '11-50', '51-200']),
});
const valid = { companyName: 'Acme', industries: ['software'], employeeRange: '11-50' };
const parse = (text: string, object?: unknown) => parseStructuredOutput({ text, object }, schema, { wrapped: false });

describe('parseStructuredOutput', () => {
  test('plain JSON passes as it is, not repaired', () => {
    expect(parse(JSON.stringify(valid))).toEqual({ success: true, object: valid, candidate: valid, repaired: false });
  });

  test('JSON in a ```json fence inside prose is extracted', () => {
    const result = parse(`Sure! Here is the profile:\n\n\`\`\`json\n${JSON.stringify(valid, null, 2)}\n\`\`\`\nLet me know if you need more.`);
    expect(result).toEqual({ success: true, object: valid, candidate: valid, repaired: true });
  });

  test('JSON in prose without a fence is extracted', () => {
    const result = parse(`The company profile is ${JSON.stringify(valid)} based on the website.`);
    expect(result).toMatchObject({ success: true, object: valid, repaired: true });
  });

  test('broken JSON (single quotes, trailing comma, unclosed) is repaired by jsonrepair', () => {
    expect(parse("{'companyName': 'Acme', 'industries': ['software',], 'employeeRange': '11-50',")).toMatchObject({ success: true, object: valid, repaired: true });
  });

  test('a fenced answer cut off mid-object is repaired', () => {
    expect(parse('```json\n{"companyName": "Acme", "industries": ["software"], "employeeRange": "11-50"')).toMatchObject({ success: true, object: valid, repaired: true });
  });

  test('a parsed tool input is validated directly', () => {
    expect(parse(JSON.stringify(valid), valid)).toMatchObject({ success: true, object: valid, repaired: false });
  });

  test('schema-invalid JSON reports every issue with its path', () => {
    const result = parse(JSON.stringify({ companyName: '', industries: [3], employeeRange: 'huge' }));
    expect(result.success).toBe(false);
    if (result.success) return;
    expect(result.issues).toHaveLength(3);
    expect(result.issues[0]).toMatch(/^companyName: /);
    expect(result.issues.join('\n')).toContain('industries.0: ');
    expect(result.issues.join('\n')).toContain('employeeRange: ');
  });

  test('prose with no JSON at all says so', () => {
    const result = parse('I could not find the company on that website.');
    expect(result.success).toBe(false);
    if (!result.success) expect(result.issues[0]).toMatch(/not JSON|expected object/);
  });

  test('a non-object root travels wrapped in { value } and comes back unwrapped', () => {
    const listSchema = z.array(z.string()).min(2);
    const prepared = prepareOutputSchema('keywords', listSchema);
    expect(prepared.wrapped).toBe(true);
    expect(prepared.schema.jsonSchema).toMatchObject({ type: 'object', required: ['value'], properties: { value: { type: 'array' } } });
    expect(parseStructuredOutput({ text: '{"value":["a","b"]}' }, listSchema, { wrapped: true })).toMatchObject({ success: true, object: ['a', 'b'] });
    // A model that answers with the bare array is accepted too.
    expect(parseStructuredOutput({ text: '["a","b"]' }, listSchema, { wrapped: true })).toMatchObject({ success: true, object: ['a', 'b'] });
  });
});

describe('prepareOutputSchema', () => {
  test('closes objects, drops $schema and marks strict only when every property is required', () => {
    const strict = prepareOutputSchema('company profile/v1', schema);
    expect(strict.schema.name).toBe('company_profile_v1');
    expect(strict.schema.jsonSchema).not.toHaveProperty('$schema');
    expect(strict.schema.jsonSchema).toMatchObject({ additionalProperties: false, required: ['companyName', 'industries', 'employeeRange'] });
    expect(strict.schema.strict).toBe(true);

    const loose = prepareOutputSchema('with-optional', schema.extend({ website: z.string().optional() }));
    expect(loose.schema.strict).toBe(false);
    expect(loose.fingerprint).not.toBe(strict.fingerprint);
  });
});
