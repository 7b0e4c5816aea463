import { describe, expect, it } from '@jest/globals';
import { extractPage, type ExtractedPage } from './page-extraction.js';
import { loadCapture, northwindPage, northwindPaths, northwindOrigin } from './website-fixtures.testing.js';

const mainText = (page: ExtractedPage) => [...page.headings.map((heading) => heading.text), ...page.sections.map((section) => section.text)].join('\n');
const technologyNames = (page: ExtractedPage) => page.technologies.map((technology) => technology.name);

describe('extractPage on real captured home pages', () => {
  describe('blossomer.io (Framer)', () => {
    const { url, html } = loadCapture('blossomer.io');
    const page = extractPage(html, url);

    it('reads the title, description and language from the head', () => {
      expect(page.kind).toBe('HOME');
      expect(page.title).toBe("Blossomer | Your Startup's Outbound Engine: Expertly Built, Fully Managed");
      expect(page.description).toMatch(/^Blossomer helps early-stage B2B founders land their first 1000 customers through expertly built, fully managed outbound systems\./);
      expect(page.openGraph['title']).toBe(page.title);
      expect(page.language).toBe('en');
    });

    it('keeps the hero and its offer, in sections under the h1', () => {
      expect(page.headings[0]).toEqual({ level: 1, text: 'Your Expertly Built, Fully Managed Outbound System' });
      const hero = page.sections.find((section) => section.headingPath.at(-1) === 'Your Expertly Built, Fully Managed Outbound System');
      expect(hero?.text).toContain('We help early-stage B2B founders get their first 1000 customers without hiring a sales team.');
      expect(hero?.text).toContain('Hyper-precise targeting using real-time buying signals');
    });

    it('leaves out the navigation and the call-to-action buttons', () => {
      const text = mainText(page);
      for (const label of ['Case Studies', 'Work with us', 'About Us', 'Get Started For Free', 'How We Work']) expect(text).not.toContain(label);
    });

    it('fingerprints Framer, React, Google Tag Manager and Warmly', () => {
      expect(page.technologies).toEqual(
        expect.arrayContaining([
          { name: 'Framer', category: 'website builder', evidence: 'meta generator "Framer 43db255"' },
          expect.objectContaining({ name: 'React', evidence: expect.stringContaining('react.BVgRc8Tj.mjs') }),
          expect.objectContaining({ name: 'Google Tag Manager', evidence: 'comment "Google Tag Manager (noscript)"' }),
          expect.objectContaining({ name: 'Warmly', category: 'visitor identification' }),
        ]),
      );
      expect(technologyNames(page)).not.toContain('Webflow');
    });

    it('lists the same-site pages it links to, without fragments or the page itself', () => {
      expect(page.links).toEqual(['https://blossomer.io/about', 'https://blossomer.io/case-study', 'https://blossomer.io/waitlist']);
      expect(page.contacts).toEqual({ emails: [], phones: [], socialLinks: [] });
    });
  });

  describe('panfactum.com (Astro)', () => {
    const { url, html } = loadCapture('panfactum.com');
    const page = extractPage(html, url);

    it('fingerprints Astro from the generator tag', () => {
      expect(page.technologies[0]).toEqual({ name: 'Astro', category: 'framework', evidence: 'meta generator "Astro v5.4.3"' });
    });

    it('reads the headings in order, wide-screen variant only', () => {
      expect(page.headings.slice(0, 3)).toEqual([
        { level: 1, text: 'Reclaim Your Cloud!' },
        { level: 2, text: 'Got Cloud Problems?' },
        { level: 3, text: 'Spiraling Costs' },
      ]);
      expect(page.headings).toContainEqual({ level: 3, text: 'Panfactum Cloud Native Framework (PCNF)' });
      const framework = page.sections.find((section) => section.headingPath.at(-1) === 'Panfactum Cloud Native Framework (PCNF)');
      expect(framework?.headingPath).toEqual(['Reclaim Your Cloud!', 'Try Panfactum', 'Panfactum Cloud Native Framework (PCNF)']);
      expect(framework?.lists[0]).toContain('Save 90% with an open-source, self-hosted, Kubernetes platform');
    });

    it('says each testimonial of the carousel once, with names and titles apart', () => {
      const text = mainText(page);
      expect(text.split('paying more per month for DataDog than AWS').length - 1).toBe(1);
      expect(text).toContain('Wes Braga Platform Engineer');
      // Typed bullets are not part of list items.
      expect(page.sections.flatMap((section) => section.lists.flat())).toContain('Untracked resource provisioning');
    });

    it('takes the company GitHub but not the customers’ personal LinkedIn profiles', () => {
      expect(page.contacts.socialLinks).toEqual([{ network: 'github', url: 'https://github.com/Panfactum/stack' }]);
      // Testimonial authors are customers, not the team.
      expect(page.teamMembers).toEqual([]);
    });
  });

  describe('intryc.com (Webflow, 935 KB)', () => {
    const { url, html } = loadCapture('intryc.com');
    const page = extractPage(html, url);

    it('reads the product description and the main content', () => {
      expect(page.title).toBe('AI-Powered Customer Support Automation | Intryc');
      expect(page.openGraph['description']).toBe('Unlock actionable insights to improve customer experience. Intryc’s AI-driven automation enhances ticket reviews & agent performance for better outcomes.');
      expect(mainText(page)).toContain('Intryc ensures you cover 100% of your tickets with no extra work');
      expect(page.headings).toContainEqual({ level: 2, text: 'Know exactly what’s working and what needs attention' });
      // Feature tabs (Webflow's role="tablist") are content, not navigation.
      expect(page.sections.find((section) => section.headingPath.at(-1) === 'Evaluations with AI')?.text).toMatch(/^Break through that 5% ticket sample ceiling\./);
      expect(page.wordCount).toBeGreaterThan(600);
    });

    it('does not read the inlined Loom player as the page', () => {
      expect(mainText(page)).not.toContain('requires your email to continue');
      expect(page.title).not.toBe('Intryc Demo');
    });

    it('fingerprints Webflow, Loom, Typeform and Google Tag Manager', () => {
      expect(technologyNames(page)).toEqual(expect.arrayContaining(['Webflow', 'Loom', 'Typeform', 'Google Tag Manager', 'Cookie Consent (Osano)']));
      expect(page.technologies.find((technology) => technology.name === 'Loom')?.evidence).toMatch(/^iframe https:\/\/www\.loom\.com\/embed\//);
    });

    it('takes no email from attributes such as cid:frame-…@mhtml.blink', () => {
      expect(page.contacts.emails).toEqual([]);
      expect(page.links).toContain('https://www.intryc.com/product/qa-admin');
    });
  });
});

describe('extractPage on the Northwind fixture site', () => {
  const pages = new Map(northwindPaths.map((path) => [path, extractPage(northwindPage(path).html, `${northwindOrigin}${path}`)]));
  const home = pages.get('/')!;
  const about = pages.get('/about')!;

  it('finds the team with their titles on the about page', () => {
    expect(about.kind).toBe('ABOUT');
    expect(about.teamMembers).toEqual([
      { name: 'Maya Okafor', title: 'Co-founder & CEO' },
      { name: 'Lucas Brandt', title: 'Co-founder & CTO' },
      { name: 'Priya Raman', title: 'VP of Sales' },
    ]);
    expect(about.sections.find((section) => section.headingPath.at(-1) === 'Maya Okafor')?.headingPath).toEqual(['About Northwind Ledger', 'Our team', 'Maya Okafor']);
  });

  it('parses the JSON-LD organisation and takes its sameAs profiles', () => {
    expect(home.jsonLd).toEqual([expect.objectContaining({ '@type': 'Organization', name: 'Northwind Ledger', foundingDate: '2021' })]);
    expect(home.contacts.socialLinks).toEqual([
      { network: 'linkedin', url: 'https://www.linkedin.com/company/northwind-ledger' },
      { network: 'x', url: 'https://x.com/northwindledger' },
      { network: 'github', url: 'https://github.com/northwind-ledger' },
    ]);
  });

  it('reads contacts from the footer although the footer is not main content', () => {
    expect(home.contacts.emails).toEqual(['hello@northwindledger.com']);
    expect(home.contacts.phones).toEqual(['+1 (415) 555-0142']);
  });

  it('fingerprints the tracking scripts', () => {
    expect(home.technologies).toEqual([
      { name: 'Google Analytics', category: 'analytics', evidence: 'script https://www.googletagmanager.com/gtag/js?id=G-NW12345' },
      { name: 'HubSpot', category: 'marketing automation', evidence: 'script https://js.hs-scripts.com/4455667.js' },
    ]);
  });

  it('leaves navigation, cookie banner, newsletter box and footer out of every page', () => {
    for (const page of pages.values()) {
      const text = mainText(page);
      expect(text).not.toMatch(/We use cookies|month-end newsletter|Unsubscribe anytime|© 2026|Log in/);
      expect(page.sections[0]?.text).not.toContain('Northwind Ledger Product Pricing');
    }
  });

  it('scopes headings to their <section>: text after a section belongs to the page heading', () => {
    const pricing = pages.get('/pricing')!;
    expect(pricing.sections.map((section) => section.headingPath)).toEqual([['Pricing', 'Starter'], ['Pricing', 'Growth'], ['Pricing', 'Enterprise'], ['Pricing']]);
    expect(pricing.sections.at(-1)?.text).toBe('Every plan starts with a 14-day free trial. No credit card required.');
  });

  it('keeps list structure and links for the crawl planner', () => {
    const product = pages.get('/product')!;
    expect(product.sections.find((section) => section.headingPath.at(-1) === 'Integrations')?.lists).toEqual([['NetSuite', 'Sage Intacct', 'QuickBooks Online', 'Stripe', 'Brex and Ramp']]);
    expect(home.links).toEqual(expect.arrayContaining([`${northwindOrigin}/product`, `${northwindOrigin}/pricing`, `${northwindOrigin}/about`, `${northwindOrigin}/demo`]));
    expect(home.links).not.toContain(`${northwindOrigin}/`);
    expect(home.links.some((link) => link.startsWith('mailto:') || link.startsWith('tel:'))).toBe(false);
  });
});

const articleParagraph = (topic: string) =>
  `<p>${topic} is where most finance teams lose days every month, because the work is spread across spreadsheets, inboxes and the general ledger, and nobody sees the whole picture until the auditors ask for it. Teams that close quickly treat ${topic.toLowerCase()} as a daily habit rather than a month-end scramble, and they measure it.</p>`;

describe('extractPage on difficult input', () => {
  const url = 'https://acme.test/';

  it('returns an empty page for empty, head-only and script-only documents', () => {
    for (const html of ['', '<html><head><title>Only a title</title></head></html>', '<script>document.write("hello")</script><style>p { color: red }</style>']) {
      const page = extractPage(html, url);
      expect(page.sections).toEqual([]);
      expect(page.wordCount).toBe(0);
    }
    expect(extractPage('<html><head><title>Only a title</title></head></html>', url).title).toBe('Only a title');
    expect(extractPage('', url).title).toBeNull();
  });

  it('reads text out of garbage without throwing', () => {
    const page = extractPage('garbage <<< >>> &&& </p></div> text', url);
    expect(page.sections.map((section) => section.text.replaceAll('\n', ' '))).toEqual(['garbage <<< >>> &&& text']);
    expect(page.wordCount).toBe(2);
  });

  it('is not fooled by tags inside scripts, and reads deeply nested text', () => {
    expect(extractPage('<script>var markup = "<body><html>";</script><p>Real text.</p>', url).sections[0]?.text).toBe('Real text.');
    expect(extractPage(`${'<div>'.repeat(900)}Deep text.${'</div>'.repeat(900)}`, url).sections[0]?.text).toBe('Deep text.');
  });

  it('decodes entities and normalises unicode and whitespace', () => {
    const page = extractPage('<p>Caf&eacute; &#150; na&iuml;ve&nbsp;&nbsp;text &amp; more&#0; ﬁnance ＡＢＣ &bogus; zero\u200Bwidth soft\u00ADhyphen</p>', url);
    expect(page.sections[0]?.text).toBe('Café – naïve text & more finance ABC &bogus; zerowidth softhyphen');
  });

  it('says a repeated paragraph once', () => {
    const page = extractPage('<h1>Acme</h1><p>Same paragraph here.</p><div><p>Same  paragraph here!</p></div><p>Other text.</p><p>Same paragraph here.</p>', url);
    expect(page.sections).toEqual([expect.objectContaining({ headingPath: ['Acme'], text: 'Same paragraph here.\nOther text.' })]);
  });

  it('keeps a huge single paragraph whole', () => {
    const words = Array.from({ length: 30_000 }, (_value, index) => `word${index % 97}`);
    const page = extractPage(`<p>${words.join(' ')}.</p>`, url);
    expect(page.wordCount).toBe(30_000);
    expect(page.sections).toHaveLength(1);
  });

  it('gives each team member the email, phone and LinkedIn profile of their own card, never a shared one', () => {
    const page = extractPage(
      `<html><body><main><h1>Our team</h1>
        <div class="card"><h3>Rosa Delgado</h3><p>Owner</p>
          <a href="mailto:rosa@broadwayauto.example">Email Rosa</a> <a href="tel:+13524150010">(352) 415-0010</a>
          <a href="https://www.linkedin.com/in/rosa-delgado-42/?trk=x">LinkedIn</a></div>
        <div class="card"><h3>Tom Becker</h3><p>General Manager</p><a href="https://uk.linkedin.com/in/tombecker">in</a></div>
        <div class="card"><h3>Ana Silva</h3><p>Finance Manager</p></div>
        <p>Write to <a href="mailto:team@broadwayauto.example">the whole team</a>: Rosa Delgado, Tom Becker and Ana Silva.</p>
      </main>
      <script type="application/ld+json">{"@type":"Person","name":"Ana Silva","jobTitle":"Finance Manager","email":"mailto:Ana@BroadwayAuto.example","telephone":"+1 352 415 0011","sameAs":["https://twitter.com/ana","https://www.linkedin.com/in/ana-silva"]}</script>
      </body></html>`,
      'https://broadwayauto.example/team',
    );
    expect(page.teamMembers).toEqual([
      { name: 'Rosa Delgado', title: 'Owner', email: 'rosa@broadwayauto.example', phone: '(352) 415-0010', linkedinUrl: 'https://www.linkedin.com/in/rosa-delgado-42' },
      { name: 'Tom Becker', title: 'General Manager', linkedinUrl: 'https://www.linkedin.com/in/tombecker' },
      { name: 'Ana Silva', title: 'Finance Manager', email: 'ana@broadwayauto.example', phone: '+1 352 415 0011', linkedinUrl: 'https://www.linkedin.com/in/ana-silva' },
    ]);
  });

  it('skips invalid JSON-LD and forgives comment wrappers and trailing commas', () => {
    const page = extractPage(
      `<script type="application/ld+json">{ not json</script>
       <script type="application/ld+json"><!-- {"@type":"Organization","name":"Acme",} --></script>
       <script type="application/ld+json">[{"@type":"Person","name":"Ada Lovelace","jobTitle":"Chief Scientist"},{"@type":"WebSite"}]</script>`,
      url,
    );
    expect(page.jsonLd).toEqual([{ '@type': 'Organization', name: 'Acme' }, { '@type': 'Person', name: 'Ada Lovelace', jobTitle: 'Chief Scientist' }, { '@type': 'WebSite' }]);
    expect(page.teamMembers).toEqual([{ name: 'Ada Lovelace', title: 'Chief Scientist' }]);
  });

  it('reads the head whatever the case of its tags and values, and not from an inlined iframe’s document', () => {
    const page = extractPage(
      `<HTML lang="en-GB"><HEAD><META name="Description" content="Dependable used cars."><BASE href="/dealers/"><LINK rel="Alternate CANONICAL" href="broadway">
       <SCRIPT type="Application/LD+JSON">{"@type":"AutoDealer","name":"Broadway Auto Brokers"}</SCRIPT></HEAD>
       <BODY><div data-original-tag="iframe"><title>Loom player</title><h1>Watch the video</h1><script type="application/ld+json">{"@type":"VideoObject"}</script></div>
       <H1>Broadway Auto Brokers</H1><p>Family owned since 1970.</p></BODY></HTML>`,
      url,
    );
    expect(page).toMatchObject({ title: 'Broadway Auto Brokers', description: 'Dependable used cars.', language: 'en-GB', canonicalUrl: 'https://acme.test/dealers/broadway' });
    expect(page.jsonLd).toEqual([{ '@type': 'AutoDealer', name: 'Broadway Auto Brokers' }]);
  });

  it('takes readability’s article when it drops only clutter, with the page’s heading levels', () => {
    const html = `<html><body><div class="wrapper">
      <div class="post"><h1>Five habits of teams that close in three days</h1>${articleParagraph('Reconciliation')}<h2>Automate the boring parts</h2>${articleParagraph('Bank matching')}${articleParagraph('Accruals')}<h2>Review variances daily</h2>${articleParagraph('Variance review')}${articleParagraph('Flux analysis')}</div>
      <div class="more-stories"><ul><li><a href="/blog/a">Why spreadsheets fail controllers at quarter end</a></li><li><a href="/blog/b">A checklist for your first audit</a></li><li><a href="/blog/c">How we priced our product</a></li></ul></div>
    </div></body></html>`;
    const page = extractPage(html, 'https://acme.test/blog/habits');
    expect(page.extractedWith).toBe('readability');
    expect(page.headings).toEqual([
      { level: 1, text: 'Five habits of teams that close in three days' },
      { level: 2, text: 'Automate the boring parts' },
      { level: 2, text: 'Review variances daily' },
    ]);
    expect(mainText(page)).not.toContain('Why spreadsheets fail controllers');
    expect(page.sections.map((section) => section.headingPath.at(-1))).toEqual(['Five habits of teams that close in three days', 'Automate the boring parts', 'Review variances daily']);
  });
});
