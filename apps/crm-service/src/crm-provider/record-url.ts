import { CrmProvider } from './crm-provider.js';

/**
 * Where a person opens a record in the provider's app, from what the connection knows (the account
 * id the credentials opened, the base URL); null when it cannot be told.
 */
export function recordUrlOf(connection: { provider: CrmProvider; accountId: string; baseUrl: string | null }, externalId: string): string | null {
  const id = encodeURIComponent(externalId);
  switch (connection.provider) {
    case CrmProvider.HUBSPOT:
      return /^\d+$/.test(connection.accountId) ? `https://app.hubspot.com/contacts/${connection.accountId}/record/0-1/${id}` : null;
    case CrmProvider.SALESFORCE:
      return connection.baseUrl ? `${connection.baseUrl.replace(/\/$/, '')}/lightning/r/Lead/${id}/view` : null;
    case CrmProvider.PIPEDRIVE:
      return /^[a-z0-9-]+$/i.test(connection.accountId) ? `https://${connection.accountId}.pipedrive.com/person/${id}` : null;
    case CrmProvider.CLOSE:
      return `https://app.close.com/contact/${id}/`;
    case CrmProvider.GOHIGHLEVEL:
      return `https://app.gohighlevel.com/v2/location/${encodeURIComponent(connection.accountId)}/contacts/detail/${id}`;
    default:
      return null;
  }
}
