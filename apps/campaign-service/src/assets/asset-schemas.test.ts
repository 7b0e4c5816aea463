import { describe, expect, it } from '@jest/globals';
import { prepareOutputSchema } from '@gtm/llm';
import { assetKinds } from './asset-kind.js';
import { assetSchemaOf, emailSequenceSchema, notStated, positioningSchema, productOverviewSchema, targetCompanySchema, targetPersonaSchema } from './asset-schemas.js';

type JsonSchema = Record<string, unknown>;

/** Every schema node of a JSON schema, with the path to it (a `properties` map is not a node, its values are). */
function* nodesOf(node: unknown, path = '#'): Generator<[string, JsonSchema]> {
  if (typeof node !== 'object' || node === null) return;
  if (Array.isArray(node)) {
    for (const [index, item] of node.entries()) yield* nodesOf(item, `${path}/${index}`);
    return;
  }
  const schema = node as JsonSchema;
  yield [path, schema];
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'properties' && typeof value === 'object' && value !== null) {
      for (const [name, property] of Object.entries(value)) yield* nodesOf(property, `${path}/properties/${name}`);
    } else if (typeof value === 'object') {
      yield* nodesOf(value, `${path}/${key}`);
    }
  }
}

// Keywords OpenAI's strict structured outputs refuse, or that the models ignore.
const refusedKeywords = ['minLength', 'maxLength', 'allOf', 'not', 'if', 'then', 'else', 'dependentRequired', 'dependentSchemas', 'patternProperties', 'unevaluatedProperties', 'propertyNames', 'minProperties', 'maxProperties'];

const overview = {
  companyName: 'Acme',
  description: 'Acme builds dashboards for support teams.',
  keyFeatures: ['Live dashboards'],
  useCases: [],
  painPoints: [],
  customerProfiles: [],
  differentiators: [],
  pricing: notStated,
  sources: [{ url: 'https://acme.example', quote: 'Acme builds dashboards for support teams.' }],
};

const company = {
  name: 'Support teams',
  description: 'Companies with a support team.',
  firmographics: { industries: [], employeeRange: null, revenueRange: null, geographies: [], businessModel: 'B2B', fundingStage: null, keywords: ['support'] },
  buyingSignals: [{ title: 'Hiring agents', description: 'More agents, more tickets.', type: 'HIRING', priority: 'HIGH', detectionMethod: 'Job posts.' }],
  disqualifiers: [],
  rationale: 'The website says so.',
  sources: [],
};

const persona = {
  name: 'Head of Support',
  description: 'Runs support.',
  jobTitles: ['Head of Support'],
  departments: ['Customer Support'],
  seniority: ['DIRECTOR'],
  buyingRoles: ['DECISION_MAKER'],
  useCases: [{ useCase: 'Review tickets', painPoints: [], capability: 'AI reviews', desiredOutcome: notStated }],
  goals: [],
  objections: [],
  buyingSignals: [],
  purchaseJourney: [],
  sources: [],
};

const email = { step: 1, delayDays: 0, subject: 'Hello', subjectAlternatives: [], body: 'Hi {{firstName}}', purpose: 'INTRODUCTION' };

describe('asset schemas as JSON schema (what libs/llm sends to providers)', () => {
  it.each(assetKinds)('%s meets OpenAI strict mode: every property required, objects closed, no refused keywords', (kind) => {
    const prepared = prepareOutputSchema(`campaign.${kind.toLowerCase()}`, assetSchemaOf(kind));
    expect(prepared.wrapped).toBe(false);
    expect(prepared.schema.strict).toBe(true);
    for (const [path, node] of nodesOf(prepared.schema.jsonSchema)) {
      expect({ path, refused: refusedKeywords.filter((keyword) => keyword in node) }).toEqual({ path, refused: [] });
    }
  });

  it.each(assetKinds)('%s describes every property to the model and keeps array bounds', (kind) => {
    const { jsonSchema } = prepareOutputSchema(kind, assetSchemaOf(kind)).schema;
    const undescribed: string[] = [];
    for (const [path, node] of nodesOf(jsonSchema)) {
      const properties = node['properties'] as Record<string, JsonSchema> | undefined;
      if (!properties) continue;
      for (const [name, property] of Object.entries(properties)) if (typeof property['description'] !== 'string') undescribed.push(`${path}/${name}`);
    }
    expect(undescribed).toEqual([]);
    const sources = (jsonSchema['properties'] as Record<string, JsonSchema>)['sources']!;
    expect(sources['maxItems']).toBe(30);
  });

  it('states the length limits the JSON schema leaves out in the descriptions', () => {
    const { jsonSchema } = prepareOutputSchema('campaign.product-overview', productOverviewSchema).schema;
    const properties = jsonSchema['properties'] as Record<string, JsonSchema>;
    expect(properties['companyName']!['description']).toMatch(/at most 120 characters/);
    expect(properties['pricing']!['description']).toContain(notStated);
  });

  it('sends nullable fields as required with a null type, the way strict mode wants optional values', () => {
    const { jsonSchema } = prepareOutputSchema('campaign.target-company', targetCompanySchema).schema;
    const firmographics = (jsonSchema['properties'] as Record<string, JsonSchema>)['firmographics']!;
    expect(firmographics['required']).toEqual(expect.arrayContaining(['employeeRange', 'revenueRange', 'businessModel', 'fundingStage']));
    expect((firmographics['properties'] as Record<string, JsonSchema>)['employeeRange']!['type']).toEqual(['string', 'null']);
  });
});

const issuesOf = (result: { success: boolean; error?: { issues: { path: PropertyKey[]; message: string }[] } }) =>
  result.error?.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`) ?? [];

describe('asset schemas as validators', () => {
  it('accept well-formed assets', () => {
    expect(productOverviewSchema.parse(overview)).toEqual(overview);
    expect(targetCompanySchema.parse(company)).toEqual(company);
    expect(targetPersonaSchema.parse(persona)).toEqual(persona);
    expect(positioningSchema.parse({ uniqueInsight: 'x', valuePropositions: [{ theme: 't', description: 'd', evidence: notStated }], differentiators: [], competitiveAlternatives: [], sources: [] })).toBeTruthy();
    expect(emailSequenceSchema.parse({ emails: [email, { ...email, step: 2, delayDays: 3 }], sources: [] }).emails).toHaveLength(2);
  });

  it('reject missing sources, blank or too long texts, long or repeated lists', () => {
    const { sources: _sources, ...withoutSources } = overview;
    expect(issuesOf(productOverviewSchema.safeParse(withoutSources))).toEqual(['sources: Invalid input: expected array, received undefined']);
    expect(issuesOf(productOverviewSchema.safeParse({ ...overview, companyName: '   ' }))).toEqual(['companyName: must be 1 to 120 characters']);
    expect(issuesOf(productOverviewSchema.safeParse({ ...overview, sources: [{ url: 'https://acme.example', quote: 'q'.repeat(301) }] }))).toEqual(['sources.0.quote: must be 1 to 300 characters']);
    expect(issuesOf(productOverviewSchema.safeParse({ ...overview, keyFeatures: Array.from({ length: 13 }, (_, index) => `Feature ${index}`) }))).toEqual([
      'keyFeatures: Too big: expected array to have <=12 items',
    ]);
    expect(issuesOf(productOverviewSchema.safeParse({ ...overview, keyFeatures: ['Same', 'Same'] }))).toEqual(['keyFeatures: must not repeat an entry']);
  });

  it('reject values outside the closed enums and null where a value is required', () => {
    const urgent = { ...company, buyingSignals: [{ ...company.buyingSignals[0], priority: 'URGENT' }] };
    expect(issuesOf(targetCompanySchema.safeParse(urgent))).toEqual(['buyingSignals.0.priority: Invalid option: expected one of "HIGH"|"MEDIUM"|"LOW"']);
    const { employeeRange: _employeeRange, ...firmographics } = company.firmographics;
    expect(issuesOf(targetCompanySchema.safeParse({ ...company, firmographics }))).toHaveLength(1);
    expect(issuesOf(targetCompanySchema.safeParse({ ...company, name: null }))).toHaveLength(1);
    expect(issuesOf(targetPersonaSchema.safeParse({ ...persona, seniority: ['INTERN'] }))[0]).toMatch(/^seniority\.0: Invalid option/);
    expect(issuesOf(targetPersonaSchema.safeParse({ ...persona, buyingRoles: ['USER', 'USER'] }))).toEqual(['buyingRoles: must not repeat an entry']);
  });

  it('reject an email sequence out of order, with fractional or negative delays, or empty', () => {
    expect(issuesOf(emailSequenceSchema.safeParse({ emails: [email, { ...email, step: 3 }], sources: [] }))).toEqual(['emails: steps must run 1, 2, 3 … in order']);
    expect(issuesOf(emailSequenceSchema.safeParse({ emails: [{ ...email, delayDays: 1.5 }], sources: [] }))[0]).toMatch(/^emails\.0\.delayDays: /);
    expect(issuesOf(emailSequenceSchema.safeParse({ emails: [{ ...email, delayDays: -1 }], sources: [] }))[0]).toMatch(/^emails\.0\.delayDays: Too small/);
    expect(issuesOf(emailSequenceSchema.safeParse({ emails: [], sources: [] }))[0]).toMatch(/^emails: Too small/);
  });
});
