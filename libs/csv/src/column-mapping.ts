import { headerWords, normaliseHeader, type CsvColumn } from './header.js';

/**
 * What a column of a lead list can hold. Person fields describe the lead; company fields the
 * company it works for. `companyEmail` and `companyPhone` are a company's general address and
 * number, for lists that carry both those and a contact's own.
 */
export const leadFields = [
  'companyName',
  'website',
  'domain',
  'email',
  'companyEmail',
  'phone',
  'companyPhone',
  'firstName',
  'lastName',
  'fullName',
  'title',
  'linkedinUrl',
  'address',
  'street',
  'city',
  'state',
  'postalCode',
  'country',
  'industry',
  'employeeCount',
  'annualRevenue',
  'notes',
] as const;
export type LeadField = (typeof leadFields)[number];

export interface FieldCandidate {
  field: LeadField;
  /** 0–1: how sure the suggestion is (header words first, then the values under them). */
  confidence: number;
}

export interface ColumnMappingSuggestion {
  column: CsvColumn;
  /** The field this column most likely holds, or null when none fits (keep it as an extra column). */
  field: LeadField | null;
  confidence: number;
  /** Other fields the column could be, most likely first (for a picker in a UI). */
  alternatives: FieldCandidate[];
}

type Level = 'person' | 'company' | 'any';

interface FieldRule {
  field: LeadField;
  level: Level;
  /** Word sequences that end a header naming this field ("Dealer Website URL" ends in "website url"). */
  phrases: string[];
  /** What a value of the field looks like; a header match whose values never do is dropped. */
  looksLike?: (value: string) => boolean;
}

const emailPattern = /^[^\s@,;<>]+@[^\s@,;<>]+\.[a-z]{2,}$/i;
const hostPattern = /^(?:https?:\/\/)?(?:www\.)?[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}(?::\d+)?(?:[/?#]\S*)?$/i;
const phoneCharacters = /^[+()\d\s./\-–]+(?:\s*(?:x|ext\.?)\s*\d+)?$/i;
const postalPatterns = [/^\d{5}(?:-\d{4})?$/, /^[a-z]{1,2}\d[a-z\d]?\s?\d[a-z]{2}$/i, /^[a-z]\d[a-z]\s?\d[a-z]\d$/i, /^\d{4,6}$/];
const countPattern = /^(?:\d[\d,.]*\s*(?:k|\+)?|\d[\d,.]*\s*(?:-|–|to)\s*\d[\d,.]*\+?)$/i;
const moneyPattern = /^[$€£]?\s*\d[\d,.]*\s*(?:k|m|mm|b|bn|million|billion)?$/i;
const usStates = new Set(
  (
    'AL AK AZ AR CA CO CT DE FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY DC PR ' +
    'AB BC MB NB NL NS ON PE QC SK'
  ).split(' '),
);
const nameWord = /^[\p{L}][\p{L}'’.-]*$/u;

const rules: FieldRule[] = [
  {
    field: 'companyName',
    level: 'company',
    phrases: ['company', 'company name', 'companyname', 'business', 'business name', 'organization', 'organisation', 'organization name', 'organisation name', 'org name', 'account', 'account name', 'employer', 'dealer', 'dealership', 'firm', 'legal name', 'entity name', 'brand', 'agency'],
  },
  { field: 'fullName', level: 'person', phrases: ['name', 'full name', 'fullname', 'contact', 'contact person'], looksLike: (value) => value.split(/\s+/).length <= 5 && !/\d|@/.test(value) },
  { field: 'firstName', level: 'person', phrases: ['first name', 'firstname', 'first', 'fname', 'given name', 'forename'], looksLike: (value) => value.split(/\s+/).every((word) => nameWord.test(word)) },
  { field: 'lastName', level: 'person', phrases: ['last name', 'lastname', 'last', 'lname', 'surname', 'family name'], looksLike: (value) => value.split(/\s+/).every((word) => nameWord.test(word)) },
  { field: 'title', level: 'person', phrases: ['title', 'job title', 'jobtitle', 'position', 'role', 'job role', 'designation'] },
  { field: 'email', level: 'person', phrases: ['email', 'e mail', 'email address', 'emailaddress', 'mail', 'e mail address'], looksLike: (value) => emailPattern.test(value) },
  {
    field: 'phone',
    level: 'person',
    phrases: ['phone', 'phone number', 'phonenumber', 'telephone', 'telephone number', 'tel', 'mobile', 'mobile phone', 'mobile number', 'cell', 'cell phone', 'phone no', 'direct dial'],
    looksLike: (value) => phoneCharacters.test(value) && (value.match(/\d/g)?.length ?? 0) >= 7 && (value.match(/\d/g)?.length ?? 0) <= 15,
  },
  {
    field: 'linkedinUrl',
    level: 'person',
    phrases: ['linkedin', 'linkedin url', 'linkedin profile', 'linkedin profile url', 'linkedin link'],
    looksLike: (value) => /linkedin\.com\//i.test(value),
  },
  {
    field: 'website',
    level: 'company',
    phrases: ['website', 'web site', 'website url', 'url', 'homepage', 'home page', 'site', 'web', 'www', 'web address', 'website address'],
    looksLike: (value) => hostPattern.test(value) && !emailPattern.test(value),
  },
  { field: 'domain', level: 'company', phrases: ['domain', 'domain name', 'website domain', 'company domain'], looksLike: (value) => hostPattern.test(value) && !emailPattern.test(value) },
  {
    field: 'address',
    level: 'company',
    phrases: ['full address', 'address full', 'complete address', 'formatted address', 'address formatted'],
    looksLike: (value) => (value.match(/,/g)?.length ?? 0) >= 1 && /\d/.test(value),
  },
  { field: 'street', level: 'company', phrases: ['street', 'street address', 'address', 'address 1', 'address1', 'address line 1', 'addr', 'street 1', 'street1'], looksLike: (value) => /\d/.test(value) || /\b(?:st|street|ave|road|rd|hwy|blvd|drive|dr|lane|ln|way)\b/i.test(value) },
  { field: 'city', level: 'company', phrases: ['city', 'town', 'locality', 'city name'], looksLike: (value) => !/\d/.test(value) },
  {
    field: 'state',
    level: 'company',
    phrases: ['state', 'province', 'region', 'state province', 'state code', 'state or province', 'state region'],
    looksLike: (value) => usStates.has(value.toUpperCase()) || !/\d/.test(value),
  },
  { field: 'postalCode', level: 'company', phrases: ['zip', 'zip code', 'zipcode', 'postal code', 'postalcode', 'postcode', 'post code', 'postal', 'zip postal code', 'postal zip code'], looksLike: (value) => postalPatterns.some((pattern) => pattern.test(value)) },
  { field: 'country', level: 'company', phrases: ['country', 'country code', 'country name', 'nation', 'country region'], looksLike: (value) => !/\d/.test(value) },
  { field: 'industry', level: 'company', phrases: ['industry', 'industries', 'sector', 'vertical', 'industry type', 'business type', 'naics description', 'sic description'] },
  {
    field: 'employeeCount',
    level: 'company',
    phrases: ['employees', 'employee count', 'employees count', 'number of employees', 'num employees', 'no of employees', 'headcount', 'head count', 'staff count', 'company size', 'employee size', 'employee range', 'size', 'team size'],
    looksLike: (value) => countPattern.test(value),
  },
  { field: 'annualRevenue', level: 'company', phrases: ['revenue', 'annual revenue', 'estimated revenue', 'sales volume', 'turnover', 'annual sales'], looksLike: (value) => moneyPattern.test(value) || countPattern.test(value) },
  { field: 'notes', level: 'any', phrases: ['notes', 'note', 'comments', 'comment', 'description', 'remarks'] },
];

/** Words before a field's name that say it belongs to the person ("Owner Email", "contact_phone"). */
const personQualifiers = new Set(['owner', 'owners', 'contact', 'primary', 'person', 'lead', 'ceo', 'founder', 'president', 'principal', 'manager', 'rep', 'representative', 'prospect', 'decision', 'maker', 'personal', 'direct', 'work', 'your', 'my']);
/** Words that say it belongs to the company ("Dealer Website URL", "company_phone"). */
const companyQualifiers = new Set(['company', 'business', 'dealer', 'dealership', 'organization', 'organisation', 'org', 'account', 'firm', 'employer', 'store', 'shop', 'office', 'corporate', 'hq', 'headquarters', 'location', 'loc', 'brand', 'practice', 'agency', 'main', 'general']);
/** Words that say the column is about the field, not the field itself ("Personalized Email Subject"). */
const disqualifiers = new Set(['facebook', 'twitter', 'instagram', 'youtube', 'tiktok', 'linkedin', 'personalized', 'personalised', 'subject', 'template', 'draft', 'generated', 'opt', 'verified', 'status', 'valid', 'score', 'count', 'type', 'source', 'date', 'search', 'query', 'is', 'has', 'ice', 'breaker']);

const phraseWords = new Map(rules.map((rule) => [rule, rule.phrases.map((phrase) => phrase.split(' '))]));

function endsWith(words: string[], phrase: string[]): boolean {
  if (phrase.length > words.length) return false;
  const offset = words.length - phrase.length;
  return phrase.every((word, index) => words[offset + index] === word);
}

const companySuffix = /\b(?:inc|llc|l\.l\.c|ltd|limited|corp|corporation|co|company|group|gmbh|plc|pllc|pc|lp|llp|sa|srl|bv|ag|services|service|solutions|enterprises|holdings|partners|associates|motors|auto|sales|systems|industries|technologies|international)\b\.?|&/i;

/** Candidates a header suggests on its own, before looking at values. */
function headerCandidates(header: string): FieldCandidate[] {
  const words = headerWords(header);
  if (words.length === 0) return [];
  const candidates = new Map<LeadField, number>();
  const offer = (field: LeadField, confidence: number) => {
    if (confidence > (candidates.get(field) ?? 0)) candidates.set(field, confidence);
  };
  for (const rule of rules) {
    for (const phrase of phraseWords.get(rule)!) {
      if (!endsWith(words, phrase)) continue;
      const qualifiers = words.slice(0, words.length - phrase.length);
      if (qualifiers.some((word) => disqualifiers.has(word))) continue;
      const person = qualifiers.some((word) => personQualifiers.has(word));
      const company = qualifiers.some((word) => companyQualifiers.has(word));
      const unknown = qualifiers.filter((word) => !personQualifiers.has(word) && !companyQualifiers.has(word)).length;
      let confidence = Math.min(0.7 + 0.05 * (phrase.length - 1), 0.85) - 0.1 * unknown;
      if (qualifiers.length === 0) confidence += 0.05;
      if (rule.field === 'fullName' && phrase.length === 1 && phrase[0] === 'name') {
        // "Dealer Name" is a company, "Owner Name" a person, a bare "name" either (values decide).
        if (company) offer('companyName', 0.85 - 0.1 * unknown);
        if (company) continue;
        if (!person) offer('companyName', confidence - 0.05);
      }
      if ((rule.field === 'email' || rule.field === 'phone') && !person) {
        const companyField = rule.field === 'email' ? 'companyEmail' : 'companyPhone';
        if (company) {
          offer(companyField, confidence + 0.1);
          continue;
        }
        // A bare "Email" is the contact's unless another column is more clearly the contact's.
        offer(companyField, confidence - 0.1);
      }
      // Above what matching values add to a bare "Email": the owner's address is the lead's.
      if (rule.level === 'person' && person) confidence += 0.15;
      offer(rule.field, confidence);
    }
  }
  return [...candidates].map(([field, confidence]) => ({ field, confidence }));
}

function ruleOf(field: LeadField): FieldRule | undefined {
  return rules.find((rule) => rule.field === field) ?? (field === 'companyEmail' ? ruleOf('email') : field === 'companyPhone' ? ruleOf('phone') : undefined);
}

/** Fields the values alone point to, for a header that names none ("Contact" full of e-mail addresses). */
// Not phone: licence numbers, ids and dates look like phone numbers too often.
const valueOnlyFields: LeadField[] = ['email', 'linkedinUrl', 'website'];

function share(values: string[], test: (value: string) => boolean): number {
  return values.length === 0 ? 0 : values.filter(test).length / values.length;
}

function candidatesFor(header: string, values: string[]): FieldCandidate[] {
  const nonEmpty = values.map((value) => value.trim()).filter(Boolean);
  const enoughValues = nonEmpty.length >= 3;
  const candidates = headerCandidates(header).map(({ field, confidence }) => {
    const rule = ruleOf(field);
    if (!enoughValues) return { field, confidence };
    if (field === 'companyName' || field === 'fullName') {
      // Company names carry legal forms and trade words; people's names rarely do.
      const companyLike = share(nonEmpty, (value) => companySuffix.test(value) || value.split(/\s+/).length > 4);
      const adjust = field === 'companyName' ? (companyLike >= 0.3 ? 0.15 : -0.1) : companyLike >= 0.3 ? -0.25 : 0.05;
      return { field, confidence: confidence + adjust };
    }
    if (!rule?.looksLike) return { field, confidence };
    const matching = share(nonEmpty, rule.looksLike);
    if (matching < 0.2) return { field, confidence: confidence - 0.4 };
    if (matching >= 0.8) return { field, confidence: confidence + 0.05 };
    return { field, confidence };
  });
  if (enoughValues) {
    for (const field of valueOnlyFields) {
      if (candidates.some((candidate) => candidate.field === field)) continue;
      const matching = share(nonEmpty, ruleOf(field)!.looksLike!);
      if (matching >= 0.8) candidates.push({ field, confidence: 0.45 + 0.1 * matching });
    }
  }
  return candidates
    .map(({ field, confidence }) => ({ field, confidence: Math.round(Math.max(0, Math.min(1, confidence)) * 100) / 100 }))
    .filter((candidate) => candidate.confidence > 0)
    .toSorted((left, right) => right.confidence - left.confidence);
}

export interface SuggestColumnMappingOptions {
  /** Below this confidence a column is left unmapped. Default: 0.5. */
  minimumConfidence?: number;
}

/**
 * Suggests which lead field each column holds, from its header and a sample of its values
 * ("DEALER NAME" → companyName, "Dealer Website URL" → website, "Owner Email" → email). Each
 * field goes to at most one column: the most confident claim wins, and a column whose best field
 * is taken falls back to its next one (a plain "EMAIL" beside "Owner Email" becomes companyEmail).
 */
export function suggestColumnMapping(
  columns: readonly CsvColumn[] | readonly string[],
  sampleRows: ReadonlyArray<readonly string[]> = [],
  options: SuggestColumnMappingOptions = {},
): ColumnMappingSuggestion[] {
  const minimumConfidence = options.minimumConfidence ?? 0.5;
  const normalised: CsvColumn[] = typeof columns[0] === 'string' ? normaliseHeader(columns as string[]) : (columns as CsvColumn[]);
  const perColumn = normalised.map((column) => candidatesFor(column.header, sampleRows.map((row) => row[column.index] ?? '')));

  const claims = perColumn
    .flatMap((candidates, columnIndex) => candidates.map((candidate) => ({ columnIndex, ...candidate })))
    .filter((claim) => claim.confidence >= minimumConfidence)
    // Most confident first; on a tie, the column further left (lists put the main fields first).
    .toSorted((left, right) => right.confidence - left.confidence || left.columnIndex - right.columnIndex);
  const assigned = new Map<number, FieldCandidate>();
  const taken = new Set<LeadField>();
  for (const claim of claims) {
    if (assigned.has(claim.columnIndex) || taken.has(claim.field)) continue;
    assigned.set(claim.columnIndex, { field: claim.field, confidence: claim.confidence });
    taken.add(claim.field);
  }
  return normalised.map((column, columnIndex) => {
    const chosen = assigned.get(columnIndex);
    return {
      column,
      field: chosen?.field ?? null,
      confidence: chosen?.confidence ?? 0,
      alternatives: perColumn[columnIndex]!.filter((candidate) => candidate.field !== chosen?.field),
    };
  });
}
