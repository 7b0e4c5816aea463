// The address policy is shared with every service that fetches for users (CRM adapters too).
export { FetchAllowlist, refusalReasonOf } from '@gtm/runtime';
