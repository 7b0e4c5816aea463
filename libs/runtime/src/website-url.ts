import { badUserInput } from './errors.js';

/**
 * The one normalisation of a website URL (the `Website.url` key of the API): http or https, host lower-case, no
 * default port, no fragment, no trailing slash. A bare host gets https://. Used everywhere a
 * website is a key, so `Acme.com/` and `https://acme.com` are the same website.
 */
export function normalizeWebsiteUrl(input: string, field = 'websiteUrl'): string {
  const trimmed = input.trim();
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed) ? trimmed : `https://${trimmed}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw badUserInput(`"${input.slice(0, 200)}" is not a website URL; give one like https://example.com.`, field);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw badUserInput(`Only http and https websites are supported; got ${url.protocol.replace(':', '')}.`, field);
  }
  if (!url.hostname.includes('.') && url.hostname !== 'localhost') {
    throw badUserInput(`"${input.slice(0, 200)}" has no valid host name; give one like https://example.com.`, field);
  }
  if (url.username || url.password) {
    throw badUserInput('A website URL must not carry a user name or password.', field);
  }
  url.hash = '';
  const path = url.pathname.replace(/\/+$/, '');
  return `${url.protocol}//${url.host.toLowerCase()}${path}${url.search}`;
}

/** The registrable-looking host of a website: lower-case, without `www.`. */
export function domainOf(websiteUrl: string): string {
  return new URL(normalizeWebsiteUrl(websiteUrl)).hostname.replace(/^www\./, '');
}

/** Escapes `%`, `_` and `\` so user text matches literally inside an ILIKE pattern. */
export function containsPattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (character) => `\\${character}`)}%`;
}
