// The campaign asset tasks (issue 7): what the orchestrator runs, validates, grounds and corrects.
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
  type ConfidenceOptions,
  type GroundingOptions,
  type GroundingReport,
  type MisattributedSource,
  type UnsupportedClaim,
} from './grounding.js';
export { applyUserContext, parseUserContext, type UserContextResult, type UserOverride } from './user-context.js';
