const gmailDomains = new Set(['gmail.com', 'googlemail.com']);

/**
 * The address a lead is matched and kept unique by (`lead.email_key`, made by the SQL function
 * `lead_email_key`, which this mirrors): Gmail ignores dots and a `+` tag in its addresses and
 * serves googlemail.com as gmail.com, so all of those spellings are one key; any other address is
 * its own key, lower-cased.
 */
export function leadEmailKey(email: string): string {
  const lower = email.toLowerCase();
  const [local = '', domain = ''] = lower.split('@');
  if (!gmailDomains.has(domain)) return lower;
  const mailbox = (local.split('+')[0] ?? '').replaceAll('.', '');
  return mailbox === '' ? lower : `${mailbox}@gmail.com`;
}
