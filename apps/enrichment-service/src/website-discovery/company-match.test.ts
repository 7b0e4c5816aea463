import { describe, expect, it } from '@jest/globals';
import { readCompanyPage } from './company-page.js';
import { distinctiveNameWords, matchCompanyPage, type CompanyIdentity } from './company-match.js';
import { isDirectoryHost } from './directory-sites.js';

const dealer: CompanyIdentity = { name: 'J D SANDERS INC', phone: '(386)462-3039', address: '12380 NW HWY 441', city: 'ALACHUA', region: 'FL', postalCode: '32615' };
const page = (html: string, url = 'http://jdsanders.test/', title = 'JD Sanders RV') => readCompanyPage(`<html><head><title>${title}</title></head><body>${html}</body></html>`, url);

describe('recognising a company on a page', () => {
  it('confirms name with phone or place, whatever their spelling', () => {
    expect(matchCompanyPage(dealer, page('<p>Welcome to JD Sanders.</p><a href="tel:+13864623039">Call us</a>'))).toMatchObject({ confirmed: true, matched: ['name', 'phone', 'domain'], confidence: 0.94 });
    expect(matchCompanyPage(dealer, page('<p>J.D. Sanders, 12380 NW Hwy 441, Alachua, FL</p>'))).toMatchObject({ confirmed: true, matched: ['name', 'place', 'domain'] });
    expect(matchCompanyPage(dealer, page('<p>Call 386.462.3039 · visit us at 12380 NW Highway 441</p>', 'http://rv-sales.test/', 'RV Sales'))).toMatchObject({ confirmed: true, matched: ['phone', 'place'], confidence: 0.85 });
  });

  it('refuses a namesake: the name without the phone or the town where the company is', () => {
    const namesake = matchCompanyPage(dealer, page('<p>JD Sanders, 7701 International Dr, Orlando, FL 32819. We serve Alachua and Marion counties. (407) 555-0142</p>'));
    expect(namesake).toMatchObject({ confirmed: false, matched: ['name', 'domain'], reason: expect.stringMatching(/possibly a namesake/) });
  });

  it('refuses a page that does not name the company, even in the right town', () => {
    expect(matchCompanyPage(dealer, page('<p>Tsas Inc, Alachua, FL 32615</p>', 'http://tsas.test/', 'Tsas Inc'))).toMatchObject({ confirmed: false, reason: "shows the town but not the company's name" });
  });

  it('accepts the name on a site named after it when the row has nothing else to check, at low confidence', () => {
    const bare: CompanyIdentity = { name: 'Panfactum', phone: null, address: null, city: null, region: null, postalCode: null };
    expect(matchCompanyPage(bare, page('<h1>Panfactum</h1>', 'https://panfactum.com/'))).toMatchObject({ confirmed: true, confidence: 0.62 });
    expect(matchCompanyPage(bare, page('<h1>Panfactum</h1>', 'https://some-blog.com/'))).toMatchObject({ confirmed: false });
  });

  it('sets legal forms aside when it reads a name', () => {
    expect(distinctiveNameWords('ALLAN\'S AUTO SALES, INC')).toEqual(['allan', 's', 'auto', 'sales']);
    expect(distinctiveNameWords('A & A GENPRO INC.')).toEqual(['a', 'a', 'genpro']);
  });
});

describe('directory and aggregator sites', () => {
  it('are never a company’s own website, subdomains and government sites included', () => {
    for (const host of ['www.yelp.com', 'm.facebook.com', 'jnelectricllc.generacdealers.com', 'www.bbb.org', 'www.cars.com', 'search.sunbiz.org', 'www.flhsmv.gov', 'linkedin.com'])
      expect([host, isDirectoryHost(host)]).toEqual([host, true]);
    for (const host of ['broadwayautobrokers.com', 'notyelp.com', 'yelp.com.evil.test', 'www.aagenpro.com']) expect([host, isDirectoryHost(host)]).toEqual([host, false]);
  });
});

describe('reading a candidate page', () => {
  it('reads the text, phone links and structured data of pages a browser would repair', () => {
    // No <html>, <head> or <body>, and a footer written after </body>: a browser shows all of it.
    const bare = readCompanyPage(
      `<title>JD Sanders RV</title><meta property="og:site_name" content="J D Sanders Inc"><p>Welcome to JD Sanders.</p>` +
        `<script type="application/ld+json">{"@graph":[{"name":"J D Sanders Inc","telephone":"386-462-3039","address":{"streetAddress":"12380 NW Hwy 441","addressLocality":"Alachua"}}]}</script>` +
        `<noscript>Enable JavaScript</noscript><style>p { color: red }</style>`,
      'http://jdsanders.test/',
    );
    expect(bare).toEqual({
      url: 'http://jdsanders.test/',
      title: 'JD Sanders RV',
      text: 'Welcome to JD Sanders.',
      telephones: ['386-462-3039'],
      structuredNames: ['J D Sanders Inc', 'J D Sanders Inc'],
      structuredAddresses: ['12380 NW Hwy 441 Alachua'],
    });
    const trailing = readCompanyPage(`<html><head><title>JD Sanders RV</title></head><body><p>Welcome.</p></body><footer>12380 NW Hwy 441, Alachua, FL <a href="TEL:+1%20386%20462%203039">Call</a></footer></html>`, 'http://jdsanders.test/');
    expect(trailing).toMatchObject({ title: 'JD Sanders RV', text: 'Welcome.12380 NW Hwy 441, Alachua, FL Call', telephones: ['+1 386 462 3039'] });
    // A phone link with a broken escape is read as written rather than failing the page.
    expect(readCompanyPage(`<a href="tel:386%E0%A4-462-3039">Call</a>`, 'http://jdsanders.test/').telephones).toEqual(['386%E0%A4-462-3039']);
  });
});
