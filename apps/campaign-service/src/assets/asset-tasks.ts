import type { AssetTask } from './asset-context.js';
import { AssetKind } from './asset-kind.js';
import type { AssetByKind } from './asset-schemas.js';
import { emailSequenceTask } from './email-sequence.task.js';
import { positioningTask } from './positioning.task.js';
import { productOverviewTask } from './product-overview.task.js';
import { targetCompanyTask } from './target-company.task.js';
import { targetPersonaTask } from './target-persona.task.js';

const tasks: { [Kind in AssetKind]: AssetTask<AssetByKind[Kind]> } = {
  [AssetKind.PRODUCT_OVERVIEW]: productOverviewTask,
  [AssetKind.TARGET_COMPANY]: targetCompanyTask,
  [AssetKind.TARGET_PERSONA]: targetPersonaTask,
  [AssetKind.POSITIONING]: positioningTask,
  [AssetKind.EMAIL_SEQUENCE]: emailSequenceTask,
};

/** The task that builds a kind's asset: pass it to `llm.generateObject({ task, context, prompt: task.buildPrompt(context) })`. */
export function assetTaskOf<Kind extends AssetKind>(kind: Kind): AssetTask<AssetByKind[Kind]> {
  return tasks[kind];
}
