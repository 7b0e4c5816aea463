import { describe, expect, it } from '@jest/globals';
import { extractPage } from './page-extraction.js';

const technologiesOf = (html: string) => Object.fromEntries(extractPage(html, 'https://acme.test/').technologies.map((technology) => [technology.name, technology.evidence]));

describe('detectTechnologies', () => {
  it('reads generators, script hosts, inline snippets, ids and attributes', () => {
    const technologies = technologiesOf(`<html><head>
      <meta name="generator" content="WordPress 6.5.2">
      <script src="https://cdn.segment.com/analytics.js/v1/abc/analytics.min.js"></script>
      <script>window.intercomSettings = { app_id: "x" }; Intercom('boot', intercomSettings);</script>
      <script src="https://js.stripe.com/v3/"></script>
      <script src="https://static.hotjar.com/c/hotjar-123.js?sv=6"></script>
      <script src="https://cdnjs.cloudflare.com/ajax/libs/jquery/3.7.1/jquery.min.js"></script>
      <script>(function(w,d,s,l,i){w[l]=w[l]||[];})(window,document,'script','dataLayer','GTM-ABC123');</script>
      </head><body><div id="__next"><p>Hello</p></div><script id="__NEXT_DATA__" type="application/json">{}</script></body></html>`);
    expect(technologies).toEqual({
      WordPress: 'meta generator "WordPress 6.5.2"',
      'Next.js': 'id __next',
      jQuery: 'script https://cdnjs.cloudflare.com/ajax/libs/jquery/3.7.1/jquery.min.js',
      'Google Tag Manager': "inline script 'GTM-ABC123'",
      Segment: 'script https://cdn.segment.com/analytics.js/v1/abc/analytics.min.js',
      Hotjar: 'script https://static.hotjar.com/c/hotjar-123.js?sv=6',
      Intercom: 'inline script intercomSettings',
      Stripe: 'script https://js.stripe.com/v3/',
      Cloudflare: 'script https://cdnjs.cloudflare.com/ajax/libs/jquery/3.7.1/jquery.min.js',
      React: 'implied by Next.js',
    });
  });

  it('never counts a technology the text only talks about', () => {
    const technologies = technologiesOf('<p>We integrate with Stripe, HubSpot, Segment and Intercom, and our site is not built with Webflow or Framer.</p><a href="https://stripe.com">Stripe</a>');
    expect(technologies).toEqual({});
  });

  it('reads Shopify, Gatsby, Vue and Cloudflare email protection from their marks in the markup', () => {
    const technologies = technologiesOf(`<html><body><div id="___gatsby"><div data-v-1a2b3c4d class="x">
      <img src="https://cdn.shopify.com/s/files/1/logo.png"><span class="__cf_email__" data-cfemail="0011">[email protected]</span></div></div></body></html>`);
    // React is not seen here but implied by Gatsby; implied technologies come after those seen.
    expect(Object.keys(technologies)).toEqual(['Shopify', 'Gatsby', 'Vue.js', 'Cloudflare', 'React']);
    expect(technologies['Cloudflare']).toBe('attribute data-cfemail');
  });
});
