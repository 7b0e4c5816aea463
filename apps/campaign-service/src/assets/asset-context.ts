import type { LlmTask } from '@gtm/llm';
import type { AssetKind } from './asset-kind.js';

/** One ranked chunk of the website, as content-service's `Website.search` returns it. */
export interface WebsitePassage {
  pageUrl: string;
  heading: string;
  text: string;
  score: number;
}

/** Everything a task builds one asset from: its prompt and its offline answer read only this. */
export interface AssetContext {
  websiteUrl: string;
  companyName?: string | null;
  websiteSummary?: string | null;
  /** The website chunks relevant to this asset (from Website.search with `retrievalQueriesOf(kind)`), best first. */
  passages: WebsitePassage[];
  /** The already-built assets this one depends on (`prerequisitesOf(kind)`), validated against their schemas. */
  prerequisites: Partial<Record<AssetKind, unknown>>;
  /** The user's own notes; precedence user > generated > website. */
  userContext?: string | null;
  /** For this one generation, e.g. from a correction or `generateAsset(instructions)`. */
  instructions?: string | null;
}

/**
 * A campaign asset task (architecture decision 7): libs/llm's task shape plus the kind it builds
 * and the prompt, whose version is the task's `version`.
 */
export interface AssetTask<Output> extends LlmTask<Output, AssetContext> {
  kind: AssetKind;
  system: string;
  buildPrompt(context: AssetContext): string;
}
