/**
 * What enrichment keeps of a campaign: the seller's product and the buyer it targets, read once
 * from campaign-service when the job is created and stored with the job, so every record of the
 * job is measured against the same targeting however long it runs.
 */
export interface CampaignTargeting {
  id: string;
  name: string;
  /** The seller: whose product the outreach is about. */
  seller: { companyName: string | null; description: string | null; painPoints: string[]; useCases: string[]; differentiators: string[] };
  targetCompany: {
    name: string;
    description: string;
    industries: string[];
    geographies: string[];
    employeeRange: string | null;
    keywords: string[];
    disqualifiers: string[];
    buyingSignals: string[];
  } | null;
  targetPersona: { name: string; jobTitles: string[]; seniority: string[]; departments: string[]; goals: string[] } | null;
}
