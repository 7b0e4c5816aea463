import { badUserInput } from '@gtm/runtime';
import { CrmProvider, type CrmFieldDescription } from './crm-provider.js';

/** The lead fields a CRM connection keeps in step (the API's `CrmLeadField`). */
export enum CrmLeadField {
  EMAIL = 'EMAIL',
  FIRST_NAME = 'FIRST_NAME',
  LAST_NAME = 'LAST_NAME',
  PHONE = 'PHONE',
  TITLE = 'TITLE',
  COMPANY_NAME = 'COMPANY_NAME',
  COMPANY_WEBSITE = 'COMPANY_WEBSITE',
}

export const crmLeadFields = Object.values(CrmLeadField);

/** Which provider field each lead field goes to; a lead field left out is not synced. */
export type FieldMapping = Partial<Record<CrmLeadField, string>>;

/**
 * The mapping a connection gets unless it gives its own: each provider's standard contact fields,
 * flattened by its adapter where the provider nests them (Pipedrive's and Close's email and phone
 * lists → their primary value; Salesforce's Lead object holds the company on the lead itself).
 */
export const defaultFieldMappings: Record<CrmProvider, FieldMapping> = {
  [CrmProvider.HUBSPOT]: {
    EMAIL: 'email',
    FIRST_NAME: 'firstname',
    LAST_NAME: 'lastname',
    PHONE: 'phone',
    TITLE: 'jobtitle',
    COMPANY_NAME: 'company',
    COMPANY_WEBSITE: 'website',
  },
  [CrmProvider.SALESFORCE]: {
    EMAIL: 'Email',
    FIRST_NAME: 'FirstName',
    LAST_NAME: 'LastName',
    PHONE: 'Phone',
    TITLE: 'Title',
    COMPANY_NAME: 'Company',
    COMPANY_WEBSITE: 'Website',
  },
  [CrmProvider.PIPEDRIVE]: {
    EMAIL: 'email',
    FIRST_NAME: 'first_name',
    LAST_NAME: 'last_name',
    PHONE: 'phone',
    TITLE: 'job_title',
    COMPANY_NAME: 'org_name',
  },
  [CrmProvider.CLOSE]: {
    EMAIL: 'email',
    FIRST_NAME: 'first_name',
    LAST_NAME: 'last_name',
    PHONE: 'phone',
    TITLE: 'title',
    COMPANY_NAME: 'lead_name',
    COMPANY_WEBSITE: 'lead_url',
  },
  [CrmProvider.GOHIGHLEVEL]: {
    EMAIL: 'email',
    FIRST_NAME: 'firstName',
    LAST_NAME: 'lastName',
    PHONE: 'phone',
    COMPANY_NAME: 'companyName',
    COMPANY_WEBSITE: 'website',
  },
};

/**
 * The connection's mapping: the provider's defaults with the given entries laid over them (an
 * entry with an empty provider field stops that lead field from syncing). Every provider field
 * named must exist at the provider; otherwise BAD_USER_INPUT lists the fields it has.
 */
export function resolveFieldMapping(provider: CrmProvider, given: Array<{ field: CrmLeadField; providerField?: string | null }> | null | undefined, available: readonly CrmFieldDescription[]): FieldMapping {
  const mapping: FieldMapping = { ...defaultFieldMappings[provider] };
  for (const entry of given ?? []) {
    const providerField = entry.providerField?.trim();
    if (providerField) mapping[entry.field] = providerField;
    else delete mapping[entry.field];
  }
  if (!mapping.EMAIL && !(mapping.FIRST_NAME || mapping.LAST_NAME)) {
    throw badUserInput('The field mapping must sync EMAIL or a name: a lead cannot be matched or created without one.', 'fieldMapping');
  }
  const names = new Set(available.map((field) => field.name));
  const missing = Object.entries(mapping).filter(([, providerField]) => !names.has(providerField));
  if (missing.length > 0) {
    const real = available
      .filter((field) => !field.readOnly)
      .map((field) => field.name)
      .toSorted();
    throw badUserInput(
      `${providerLabel(provider)} has no field ${missing.map(([field, providerField]) => `"${providerField}" (mapped from ${field})`).join(', ')}. Its writable contact fields are: ${real.join(', ')}.`,
      'fieldMapping',
      { availableFields: real },
    );
  }
  return mapping;
}

/** Lead field → provider field pairs, in a stable order. */
export function mappedFields(mapping: FieldMapping): Array<[CrmLeadField, string]> {
  return crmLeadFields.filter((field) => mapping[field]).map((field) => [field, mapping[field]!]);
}

export function providerLabel(provider: CrmProvider): string {
  return { HUBSPOT: 'HubSpot', SALESFORCE: 'Salesforce', PIPEDRIVE: 'Pipedrive', CLOSE: 'Close', GOHIGHLEVEL: 'GoHighLevel' }[provider];
}
