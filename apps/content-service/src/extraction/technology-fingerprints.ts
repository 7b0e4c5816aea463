import type { PageSurvey } from './page-survey.js';

export interface DetectedTechnology {
  name: string;
  category: string;
  /** What gave it away, e.g. `script https://js.hs-scripts.com/4455667.js` or `meta generator "Astro v5.4.3"`. */
  evidence: string;
}

/**
 * How a technology shows itself in a page's HTML. Each signal is checked against one kind of
 * evidence only, so a blog post that merely mentions "Stripe" never counts as using it.
 */
interface Fingerprint {
  name: string;
  category: string;
  /** `<meta name="generator">`. */
  generator?: RegExp;
  /** URLs the page loads (script, stylesheet, iframe, image, video, form action). */
  resource?: RegExp;
  /** Links the page's visitors follow, for tools that live behind a link (booking, forms). */
  link?: RegExp;
  /** Inline script bodies. */
  inlineScript?: RegExp;
  /** HTML comments (snippets announce themselves: `<!-- Google Tag Manager -->`). */
  comment?: RegExp;
  /** Attribute names anywhere in the document. */
  attribute?: RegExp;
  /** Class tokens anywhere in the document. */
  className?: RegExp;
  /** Element ids, inline scripts' ids included. */
  elementId?: RegExp;
  /** Technologies this one is built on, reported with `implied by <name>` when not seen themselves. */
  implies?: string[];
}

const fingerprints: Fingerprint[] = [
  // Site builders and content management
  { name: 'Framer', category: 'website builder', generator: /^Framer\b/i, resource: /framerusercontent\.com|framerstatic\.com|events\.framer\.com/, comment: /Built with Framer/i, attribute: /^data-framer-/ },
  { name: 'Webflow', category: 'website builder', generator: /^Webflow\b/i, resource: /website-files\.com|webflow\.(com|io)/, attribute: /^data-wf-(site|page|domain)$/ },
  { name: 'WordPress', category: 'cms', generator: /^WordPress\b/i, resource: /\/wp-(content|includes)\//, className: /^wp-block-/ },
  { name: 'Wix', category: 'website builder', generator: /^Wix\.com/i, resource: /static\.wixstatic\.com|parastorage\.com/ },
  { name: 'Squarespace', category: 'website builder', generator: /Squarespace/i, resource: /static1\.squarespace\.com|squarespace-cdn\.com/ },
  { name: 'HubSpot CMS', category: 'cms', generator: /^HubSpot\b/i, resource: /\.hubspotusercontent[\w-]*\.net|\/hs-fs\/hubfs\// },
  { name: 'Ghost', category: 'cms', generator: /^Ghost\b/i },
  { name: 'Drupal', category: 'cms', generator: /^Drupal\b/i, resource: /\/sites\/default\/files\// },
  { name: 'Contentful', category: 'cms', resource: /ctfassets\.net/ },
  { name: 'Sanity', category: 'cms', resource: /cdn\.sanity\.io/ },
  { name: 'Shopify', category: 'ecommerce', generator: /Shopify/i, resource: /cdn\.shopify\.com|shopifycdn\.net/, inlineScript: /Shopify\.shop\s*=/ },
  // Frameworks and libraries
  { name: 'Next.js', category: 'framework', implies: ['React'], generator: /^Next\.js/i, resource: /\/_next\/static\//, elementId: /^(__next|__NEXT_DATA__)$/ },
  { name: 'Gatsby', category: 'framework', implies: ['React'], generator: /^Gatsby\b/i, elementId: /^___gatsby$/, resource: /\/page-data\/.*\.json|\/webpack-runtime-[\w]+\.js/ },
  { name: 'Astro', category: 'framework', generator: /^Astro\b/i, resource: /\/_astro\//, attribute: /^data-astro-/, className: /^astro-[a-z0-9]{6,}$/ },
  { name: 'Nuxt', category: 'framework', implies: ['Vue.js'], generator: /^Nuxt/i, resource: /\/_nuxt\//, elementId: /^__nuxt$/, attribute: /^data-n-head$/ },
  { name: 'Docusaurus', category: 'framework', generator: /^Docusaurus\b/i },
  { name: 'Hugo', category: 'framework', generator: /^Hugo\b/i },
  { name: 'React', category: 'javascript library', resource: /\/react(-dom)?([.@-][\w.-]*)?\.(m?js)\b|unpkg\.com\/react@/, attribute: /^data-react(root|-helmet)$/ },
  { name: 'Vue.js', category: 'javascript library', resource: /\/vue(@[\d.]+)?(\/dist\/vue)?[\w.-]*\.js\b/, attribute: /^data-v-[0-9a-f]{8}$/ },
  { name: 'Angular', category: 'javascript library', attribute: /^ng-version$/ },
  { name: 'jQuery', category: 'javascript library', resource: /jquery([.-][\d.]+)?(\.min)?\.js/i },
  // Analytics, tags and data
  { name: 'Google Tag Manager', category: 'tag manager', resource: /googletagmanager\.com\/(gtm\.js|ns\.html)/, comment: /Google Tag Manager/i, inlineScript: /googletagmanager\.com\/gtm\.js|['"]GTM-[A-Z0-9]+['"]/ },
  { name: 'Google Analytics', category: 'analytics', resource: /googletagmanager\.com\/gtag\/js|google-analytics\.com\/(analytics|ga)\.js/, inlineScript: /gtag\(\s*['"]config['"]\s*,\s*['"](G|UA)-/ },
  { name: 'Segment', category: 'customer data platform', resource: /cdn\.segment\.(com|io)/, inlineScript: /analytics\.load\(\s*['"]/ },
  { name: 'Hotjar', category: 'session recording', resource: /static\.hotjar\.com/, inlineScript: /hotjar\.com|_hjSettings/ },
  { name: 'Microsoft Clarity', category: 'session recording', resource: /clarity\.ms\/tag/, inlineScript: /clarity\.ms\/tag/ },
  { name: 'Mixpanel', category: 'analytics', resource: /cdn\.mxpnl\.com|mixpanel\.com\/(libs|track)/, inlineScript: /mixpanel\.init\(/ },
  { name: 'Amplitude', category: 'analytics', resource: /cdn\.amplitude\.com/, inlineScript: /amplitude\.getInstance\(\)|amplitude\.init\(/ },
  { name: 'Heap', category: 'analytics', resource: /cdn\.heapanalytics\.com/, inlineScript: /heap\.load\(/ },
  { name: 'PostHog', category: 'analytics', resource: /(us|eu|app)(-assets)?\.i?\.?posthog\.com/, inlineScript: /posthog\.init\(/ },
  { name: 'Plausible', category: 'analytics', resource: /plausible\.io\/js\// },
  { name: 'Cloudflare Web Analytics', category: 'analytics', resource: /static\.cloudflareinsights\.com/ },
  // Marketing, sales and support tools
  { name: 'HubSpot', category: 'marketing automation', resource: /js\.hs-scripts\.com|js\.hsforms\.net|js\.hs-analytics\.net|js\.hsadspixel\.net|js\.hs-banner\.com/, inlineScript: /_hsq\.push|hbspt\.forms/ },
  { name: 'Marketo', category: 'marketing automation', resource: /munchkin\.marketo\.net|\.mktoweb\.com/, inlineScript: /Munchkin\.init\(/ },
  { name: 'Pardot', category: 'marketing automation', resource: /pi\.pardot\.com|pardot\.com\/pd\.js/, inlineScript: /piAId\s*=/ },
  { name: 'Intercom', category: 'live chat', resource: /widget\.intercom\.io|js\.intercomcdn\.com/, inlineScript: /Intercom\(\s*['"]boot['"]|intercomSettings/ },
  { name: 'Drift', category: 'live chat', resource: /js\.driftt\.com/, inlineScript: /drift\.load\(/ },
  { name: 'Crisp', category: 'live chat', resource: /client\.crisp\.chat/, inlineScript: /CRISP_WEBSITE_ID/ },
  { name: 'Zendesk', category: 'live chat', resource: /static\.zdassets\.com/ },
  { name: 'Stripe', category: 'payments', resource: /js\.stripe\.com/ },
  { name: 'Calendly', category: 'scheduling', resource: /assets\.calendly\.com/, link: /^https?:\/\/(www\.)?calendly\.com\// },
  { name: 'Chili Piper', category: 'scheduling', resource: /js\.chilipiper\.com/, link: /^https?:\/\/[\w-]+\.chilipiper\.com\// },
  { name: 'Typeform', category: 'forms', resource: /embed\.typeform\.com/, link: /^https?:\/\/([\w-]+\.)?typeform\.com\/to\// },
  { name: 'Loom', category: 'video', resource: /cdn\.loom\.com|loom\.com\/(embed|share)\//, link: /^https?:\/\/(www\.)?loom\.com\/share\// },
  { name: 'Wistia', category: 'video', resource: /fast\.wistia\.(com|net)/ },
  { name: 'Vimeo', category: 'video', resource: /player\.vimeo\.com/ },
  { name: 'Warmly', category: 'visitor identification', resource: /getwarmly\.com/, elementId: /^warmly-widget$/ },
  { name: 'Clearbit', category: 'visitor identification', resource: /tag\.clearbitscripts\.com|x\.clearbitjs\.com/ },
  { name: 'RB2B', category: 'visitor identification', resource: /rb2b\.com|b2bjsstore\.s3/ },
  { name: '6sense', category: 'visitor identification', resource: /j\.6sc\.co/ },
  { name: 'ZoomInfo', category: 'visitor identification', resource: /ws\.zoominfo\.com|js\.zi-scripts\.com/ },
  { name: 'Apollo.io', category: 'visitor identification', resource: /assets\.apollo\.io\/micro\/website-tracker/ },
  { name: 'LinkedIn Insight Tag', category: 'advertising', resource: /snap\.licdn\.com/, inlineScript: /_linkedin_partner_id/ },
  { name: 'Meta Pixel', category: 'advertising', resource: /connect\.facebook\.net\/[\w_]+\/fbevents\.js/, inlineScript: /fbq\(\s*['"]init['"]/ },
  // Consent, infrastructure
  { name: 'OneTrust', category: 'cookie consent', resource: /cdn\.cookielaw\.org|optanon/ },
  { name: 'Cookiebot', category: 'cookie consent', resource: /consent\.cookiebot\.com/ },
  { name: 'Cookie Consent (Osano)', category: 'cookie consent', resource: /cookieconsent(@[\d.]+)?\/build\/cookieconsent|cookieconsent\.min\.(js|css)/ },
  { name: 'Cloudflare', category: 'cdn', resource: /cdnjs\.cloudflare\.com|\/cdn-cgi\/|challenges\.cloudflare\.com/, attribute: /^data-cfemail$/ },
  { name: 'jsDelivr', category: 'cdn', resource: /cdn\.jsdelivr\.net/ },
  { name: 'Google Fonts', category: 'fonts', resource: /fonts\.(googleapis|gstatic)\.com/ },
  { name: 'Sentry', category: 'error monitoring', resource: /browser\.sentry-cdn\.com|js\.sentry-cdn\.com/, inlineScript: /Sentry\.init\(/ },
  { name: 'Vercel', category: 'hosting', resource: /\/_vercel\/insights\/|vercel-insights\.com|va\.vercel-scripts\.com/ },
];

const short = (text: string) => (text.length > 120 ? `${text.slice(0, 117)}...` : text);

function firstMatch(values: Iterable<string>, pattern: RegExp | undefined): string | undefined {
  if (!pattern) return undefined;
  for (const value of values) if (pattern.test(value)) return value;
  return undefined;
}

/**
 * Technologies a page shows in its HTML: site builders, frameworks, analytics and tag managers,
 * marketing, chat and visitor-identification tools. Each is reported once, with the first piece
 * of evidence found (generator, loaded resource, inline script, comment, attribute, class, id, link).
 */
export function detectTechnologies(survey: PageSurvey, meta: Record<string, string>): DetectedTechnology[] {
  const generator = meta['generator'];
  const resources = survey.resources.map((resource) => `${resource.tag} ${resource.url}`);
  const links = survey.anchors.map((anchor) => anchor.href);
  const ids = [...survey.elementIds, ...survey.scriptIds];
  const detected: DetectedTechnology[] = [];
  for (const fingerprint of fingerprints) {
    let evidence: string | undefined;
    if (generator && fingerprint.generator?.test(generator)) evidence = `meta generator "${generator}"`;
    evidence ??= firstMatch(resources, fingerprint.resource);
    const script = evidence ? undefined : firstMatch(survey.inlineScripts, fingerprint.inlineScript);
    if (script) evidence = `inline script ${short(fingerprint.inlineScript!.exec(script)![0])}`;
    const comment = evidence ? undefined : firstMatch(survey.comments, fingerprint.comment);
    if (comment) evidence = `comment "${short(comment)}"`;
    const attribute = evidence ? undefined : firstMatch(survey.attributeNames, fingerprint.attribute);
    if (attribute) evidence = `attribute ${attribute}`;
    const className = evidence ? undefined : firstMatch(survey.classTokens, fingerprint.className);
    if (className) evidence = `class ${className}`;
    const id = evidence ? undefined : firstMatch(ids, fingerprint.elementId);
    if (id) evidence = `id ${id}`;
    const link = evidence ? undefined : firstMatch(links, fingerprint.link);
    if (link) evidence = `link ${short(link)}`;
    if (evidence) detected.push({ name: fingerprint.name, category: fingerprint.category, evidence: short(evidence) });
  }
  const implied = detected.flatMap((technology) => (fingerprints.find((fingerprint) => fingerprint.name === technology.name)?.implies ?? []).map((name) => ({ name, by: technology.name })));
  for (const { name, by } of implied) {
    const category = fingerprints.find((fingerprint) => fingerprint.name === name)?.category ?? 'javascript library';
    if (!detected.some((other) => other.name === name)) detected.push({ name, category, evidence: `implied by ${by}` });
  }
  return detected;
}
