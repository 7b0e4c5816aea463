// What each campaign asset is: its kind, schema and task, and how it is grounded and corrected. Pure.
export type { AssetContext, AssetTask, WebsitePassage } from './asset-context.js';
export { AssetKind, assetKinds, buildOrderOf, dependentsOf, prerequisitesOf, retrievalQueriesOf, transitivePrerequisitesOf } from './asset-kind.js';
export * from './asset-schemas.js';
export { buildAssetPrompt, type PromptOptions } from './asset-task.js';
export { assetTaskOf } from './asset-tasks.js';
export { AssetFieldError, formatFieldPath, parseFieldPath, schemaAtPath, setFieldAtPath, type AssetFieldErrorCode, type FieldPathSegment } from './field-path.js';
export {
  checkGrounding,
  claimFieldsOf,
  dropUnsupportedSources,
  groundedConfidence,
  groundingSummary,
  groundingWarnings,
  inheritedPassages,
  type ConfidenceOptions,
  type GroundingSummary,
  type GroundingOptions,
  type GroundingReport,
  type MisattributedSource,
  type UnsupportedClaim,
} from './grounding.js';
export { applyUserContext, parseUserContext, type UserContextResult, type UserOverride } from './user-context.js';
export { sectionRewriteTask, type SectionRewrite, type SectionRewriteContext } from './section-rewrite.task.js';
