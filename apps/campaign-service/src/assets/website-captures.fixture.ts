// Test fixture: the real website captures kept in the repository's fixtures/websites, cut
// into passages the simple way (one per heading), as Website.search would hand them over.
import { readFileSync } from 'node:fs';
import type { AssetContext, WebsitePassage } from './asset-context.js';

export const captureDomains = ['blossomer.io', 'panfactum.com', 'intryc.com'] as const;
export type CaptureDomain = (typeof captureDomains)[number];

export interface WebsiteCapture {
  url: string;
  markdown: string;
}

// From apps/campaign-service/src/assets/ up to the repository root.
const capturesFolder = new URL('../../../../fixtures/websites/', import.meta.url);

export function loadCapture(domain: CaptureDomain): WebsiteCapture {
  const capture = JSON.parse(readFileSync(new URL(`${domain}.json`, capturesFolder), 'utf8')) as WebsiteCapture;
  return { url: capture.url, markdown: capture.markdown };
}

/** One passage per markdown heading (the text before the first heading is a passage too). */
export function passagesOf(capture: WebsiteCapture): WebsitePassage[] {
  const passages: WebsitePassage[] = [];
  let heading = '';
  let lines: string[] = [];
  const flush = () => {
    const text = lines.join('\n').trim();
    if (text || heading) passages.push({ pageUrl: capture.url, heading, text, score: Number((1 - passages.length * 0.01).toFixed(2)) });
  };
  for (const line of capture.markdown.split('\n')) {
    const match = /^#{1,6}\s+(.*)$/.exec(line);
    if (!match) {
      lines.push(line);
      continue;
    }
    flush();
    heading = match[1]!.trim();
    lines = [];
  }
  flush();
  return passages;
}

/** The whole capture's text, headings included: what every quote must be found in. */
export function captureText(capture: WebsiteCapture): string {
  return capture.markdown;
}

export function contextOf(domain: CaptureDomain, overrides: Partial<AssetContext> = {}): AssetContext {
  const capture = loadCapture(domain);
  return { websiteUrl: capture.url, passages: passagesOf(capture), prerequisites: {}, ...overrides };
}
