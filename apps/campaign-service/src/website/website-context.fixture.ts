// Test fixture: the website context a request would gather from content-service for a real
// website capture, every search answered with the capture's passages.
import { assetKinds } from '../assets/index.js';
import { loadCapture, passagesOf, type CaptureDomain } from '../assets/website-captures.fixture.js';
import { retrievalQueriesFor, type WebsiteContext } from './website-context.js';

export function capturedWebsiteContext(domain: CaptureDomain, title: string): WebsiteContext {
  const capture = loadCapture(domain);
  return {
    url: capture.url,
    title,
    summary: null,
    analyzedAt: new Date('2026-11-20T10:00:00Z'),
    quality: { level: 'SUFFICIENT', score: 0.9, gaps: [] },
    searches: Object.fromEntries(retrievalQueriesFor(assetKinds).map((query) => [query, passagesOf(capture)])),
  };
}
