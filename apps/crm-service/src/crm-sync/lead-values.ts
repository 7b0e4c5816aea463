import { domainOf, normalizeWebsiteUrl } from '@gtm/runtime';
import { z } from 'zod';
import type { CrmProperties } from '../crm-provider/crm-provider.js';
import { CrmLeadField, mappedFields, type FieldMapping } from '../crm-provider/field-mapping.js';
import type { SyncedValues } from '../crm-record-link/crm-record-link.entity.js';
import type { Lead } from '../lead/lead.entity.js';

/** Text as both sides are compared: trimmed, empty as null, emails lower-case. */
export function normalizedValue(field: CrmLeadField, value: string | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  const trimmed = value.trim();
  if (!trimmed) return null;
  return field === CrmLeadField.EMAIL ? trimmed.toLowerCase() : trimmed;
}

/** A lead's values of the synced fields (its company's name and website for the company fields). */
export function leadValues(lead: Lead, fields: readonly CrmLeadField[]): SyncedValues {
  const all: Record<CrmLeadField, string | null> = {
    EMAIL: lead.email,
    FIRST_NAME: lead.firstName,
    LAST_NAME: lead.lastName,
    PHONE: lead.phone,
    TITLE: lead.title,
    COMPANY_NAME: lead.company?.name ?? null,
    COMPANY_WEBSITE: lead.company?.websiteUrl ?? (lead.company?.domain ? `https://${lead.company.domain}` : null),
  };
  return Object.fromEntries(fields.map((field) => [field, normalizedValue(field, all[field])]));
}

/** A provider record's values of the synced fields, through the connection's mapping. */
export function remoteValues(properties: CrmProperties, mapping: FieldMapping): SyncedValues {
  return Object.fromEntries(mappedFields(mapping).map(([field, providerField]) => [field, normalizedValue(field, properties[providerField])]));
}

/** Lead values as provider properties, through the mapping. */
export function providerProperties(values: SyncedValues, mapping: FieldMapping): CrmProperties {
  const properties: CrmProperties = {};
  for (const [field, providerField] of mappedFields(mapping)) if (field in values) properties[providerField] = values[field] ?? null;
  return properties;
}

const text = (maximum: number) => z.string().max(maximum, `is longer than ${maximum} characters`).nullish();

/** What a lead here accepts (the same limits as createLead), so a provider record we cannot hold fails alone. */
const acceptedValues = z.object({
  EMAIL: z.email({ message: 'is not an email address' }).max(320).nullish(),
  FIRST_NAME: text(200),
  LAST_NAME: text(200),
  PHONE: text(50),
  TITLE: text(300),
  COMPANY_NAME: text(300),
  COMPANY_WEBSITE: text(2_048),
});

/** Why these values cannot be a lead here, or null when they can. */
export function refusalOf(values: SyncedValues): string | null {
  const result = acceptedValues.safeParse(values);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    return `${String(issue.path[0])} ${issue.message}`;
  }
  if (!values.EMAIL && !values.FIRST_NAME && !values.LAST_NAME) return 'has neither an email nor a name, which a lead needs';
  if (values.COMPANY_WEBSITE) {
    try {
      normalizeWebsiteUrl(values.COMPANY_WEBSITE);
    } catch {
      return `COMPANY_WEBSITE "${values.COMPANY_WEBSITE.slice(0, 100)}" is not a website address`;
    }
  }
  return null;
}

/** The company a lead's company fields name: by its website's domain, else by its name. */
export function companyKeyOf(values: SyncedValues): { domain: string | null; name: string | null; websiteUrl: string | null } {
  let websiteUrl: string | null = null;
  let domain: string | null = null;
  if (values.COMPANY_WEBSITE) {
    try {
      websiteUrl = normalizeWebsiteUrl(values.COMPANY_WEBSITE);
      domain = domainOf(websiteUrl);
    } catch {
      websiteUrl = null;
    }
  }
  return { domain, name: values.COMPANY_NAME ?? null, websiteUrl };
}
