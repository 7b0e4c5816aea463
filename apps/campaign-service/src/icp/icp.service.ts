import { conflict, normalizeWebsiteUrl, type SubgraphContext } from '@gtm/runtime';
import { AssetKind, type AssetSource, type Positioning, type ProductOverview, type TargetCompany, type TargetPersona } from '../assets/index.js';
import type { CampaignAssetRepository } from '../campaign-asset/campaign-asset.repository.js';
import { throwOnFailures, type CampaignAssetService } from '../campaign-asset/campaign-asset.service.js';
import type { CampaignService } from '../campaign/campaign.service.js';
import type { AssetOrchestrator } from '../generation/asset-orchestrator.js';
import type { CampaignLoaders } from '../loaders.js';
import type { IcpType } from './icp.type.js';

type CampaignContext = SubgraphContext<CampaignLoaders>;

/** The assets an ICP is assembled from. */
const icpKinds = [AssetKind.PRODUCT_OVERVIEW, AssetKind.TARGET_COMPANY, AssetKind.TARGET_PERSONA, AssetKind.POSITIONING] as const;

const distinct = (values: readonly string[]) => [...new Set(values.map((value) => value.trim()).filter(Boolean))];

/**
 * The legacy `icp(websiteUrl)`: the ICP of the tenant's newest campaign for the website (a campaign
 * is created when there is none), from its decomposed assets, generating those that are missing,
 * failed or stale. The old single-prompt ICP is gone; this keeps its clients working.
 */
export class IcpService {
  constructor(
    private readonly campaignService: CampaignService,
    private readonly assetService: CampaignAssetService,
    private readonly orchestrator: AssetOrchestrator,
    private readonly repository: CampaignAssetRepository,
  ) {}

  async icp(context: CampaignContext, websiteUrl: string): Promise<IcpType> {
    const url = normalizeWebsiteUrl(websiteUrl, 'websiteUrl');
    const [newest] = await this.campaignService.listForWebsite(context, url);
    const campaign = newest ?? (await this.campaignService.create(context, { websiteUrl: url }));
    const outcome = await this.orchestrator.generate(this.assetService.runOf(context), campaign.id, { kinds: [AssetKind.POSITIONING], website: this.assetService.websiteFor(context) });
    throwOnFailures(outcome);

    const records = await this.repository.load(context.em, campaign.id);
    const versions = icpKinds.map((kind) => records.find((record) => record.kind === kind)?.current ?? null);
    if (versions.some((version) => version === null)) {
      throw conflict('The ICP could not be assembled: an asset it needs changed while it was built. Try again.');
    }
    const [overview, company, persona, positioning] = versions.map((version) => version!.content) as [ProductOverview, TargetCompany, TargetPersona, Positioning];
    const sources = new Map<string, AssetSource>();
    for (const version of versions) for (const source of version!.content.sources) sources.set(`${source.url}\u0000${source.quote}`, source);
    return {
      websiteUrl: url,
      campaignId: campaign.id,
      companyName: overview.companyName,
      productDescription: overview.description,
      segment: company.name,
      segmentDescription: company.description,
      ...company.firmographics,
      buyingSignals: company.buyingSignals,
      disqualifiers: company.disqualifiers,
      painPoints: distinct([...overview.painPoints, ...persona.useCases.flatMap((useCase) => useCase.painPoints)]),
      persona,
      valuePropositions: positioning.valuePropositions.map((proposition) => `${proposition.theme}: ${proposition.description}`),
      differentiators: distinct([...positioning.differentiators, ...overview.differentiators]),
      rationale: company.rationale,
      confidence: Math.min(...versions.map((version) => version!.confidence)),
      basedOn: versions.map((version) => ({ kind: version!.kind, version: version!.version })),
      sources: [...sources.values()],
    };
  }
}
