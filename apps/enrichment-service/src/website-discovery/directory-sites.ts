/**
 * Sites that list companies without being any company's own website: review and listing
 * directories, social networks, maps, business registries, marketplaces and dealer or contractor
 * aggregators (a dealer's page on generacdealers.com or cars.com is the aggregator's, not theirs).
 * A host matches when it is one of these or a subdomain of one.
 */
const directoryDomains = [
  // Reviews, listings and local directories.
  'yelp.com', 'yelp.ca', 'yellowpages.com', 'yp.com', 'superpages.com', 'bbb.org', 'manta.com', 'mapquest.com', 'foursquare.com', 'tripadvisor.com',
  'angi.com', 'angieslist.com', 'homeadvisor.com', 'thumbtack.com', 'houzz.com', 'porch.com', 'nextdoor.com', 'chamberofcommerce.com', 'citysearch.com',
  'local.com', 'hotfrog.com', 'merchantcircle.com', 'brownbook.net', 'cylex.us.com', 'n49.com', 'birdeye.com', 'trustpilot.com', 'expertise.com',
  'buildzoom.com', 'alignable.com', 'loc8nearme.com', 'showmelocal.com', 'judysbook.com', 'ezlocal.com', 'findglocal.com', 'bizapedia.com',
  'opencorporates.com', 'dnb.com', 'zoominfo.com', 'crunchbase.com', 'bloomberg.com', 'buzzfile.com', 'corporationwiki.com', 'sunbiz.org',
  'companiesoflist.com', 'allbiz.com', 'cmac.ws', 'dandb.com', 'apollo.io', 'rocketreach.co', 'signalhire.com',
  // Social networks, maps and search engines.
  'facebook.com', 'fb.com', 'instagram.com', 'linkedin.com', 'twitter.com', 'x.com', 'youtube.com', 'tiktok.com', 'pinterest.com', 'reddit.com',
  'google.com', 'goo.gl', 'g.page', 'bing.com', 'apple.com', 'yahoo.com', 'duckduckgo.com', 'waze.com',
  // Marketplaces, jobs and encyclopedias.
  'amazon.com', 'ebay.com', 'craigslist.org', 'etsy.com', 'indeed.com', 'glassdoor.com', 'ziprecruiter.com', 'wikipedia.org', 'wikimapia.org',
  // Vehicle dealer aggregators and marketplaces.
  'cars.com', 'cargurus.com', 'autotrader.com', 'carfax.com', 'edmunds.com', 'dealerrater.com', 'truecar.com', 'carsforsale.com', 'autolist.com',
  'kbb.com', 'carvana.com', 'carmax.com', 'iseecars.com', 'cardealerreviews.org', 'autouncle.com', 'motorcar.com', 'carsoup.com', 'autobytel.com',
  // Contractor and equipment dealer locators.
  'generacdealers.com', 'generac.com', 'kohlergenerators.com', 'briggsandstratton.com', 'cummins.com', 'carrier.com', 'trane.com', 'lennox.com',
  'enphase.com', 'tesla.com', 'solarreviews.com', 'energysage.com',
];

const directories = new Set(directoryDomains);

/** Whether a host belongs to a directory, social or aggregator site (never a company's own website). */
export function isDirectoryHost(host: string): boolean {
  const name = host.toLowerCase().replace(/\.$/, '');
  // A government site is a registry or an agency, never a business's own website.
  if (/\.gov$|\.gov\.[a-z]{2}$|\.mil$/.test(name)) return true;
  const labels = name.split('.');
  for (let index = 0; index < labels.length - 1; index += 1) {
    if (directories.has(labels.slice(index).join('.'))) return true;
  }
  return false;
}
