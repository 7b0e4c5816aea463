// What `Campaign.enrichmentPlan` costs the resolver: planEnrichment over the seeded catalog, for a
// few targetings from narrow to wide, with and without a budget. Median and p95 per call.
//   npm run bench:planner
//   node bench/enrichment/planner.bench.ts [rounds=200]   (after building enrichment-service)
// Erasable TypeScript only: Node runs this file by stripping types.
import { cpus, loadavg } from 'node:os';

import 'reflect-metadata';

// The built service (npm run bench:planner builds it first): its entities use TypeScript enums and
// decorators, which Node's type stripping cannot run.
const built = '../../apps/enrichment-service/dist';
const { loadDataSourceCatalog } = (await import(`${built}/data-source/data-source.seed.js`)) as typeof import('../../apps/enrichment-service/src/data-source/data-source.seed.js');
const { planEnrichment } = (await import(`${built}/enrichment-plan/enrichment-plan.planner.js`)) as typeof import('../../apps/enrichment-service/src/enrichment-plan/enrichment-plan.planner.js');
const { parseCampaignTargeting } = (await import(`${built}/enrichment-plan/enrichment-plan.targeting.js`)) as typeof import('../../apps/enrichment-service/src/enrichment-plan/enrichment-plan.targeting.js');

const rounds = Number(process.argv[2] ?? 200);
const catalog = await loadDataSourceCatalog();
const cases = [
  {
    name: 'sales leaders, US SaaS, two signals, $1 budget',
    targeting: parseCampaignTargeting({
      industries: ['SaaS'],
      employeeRange: '51-500',
      geographies: ['United States'],
      jobTitles: ['VP Sales', 'Head of Revenue Operations'],
      seniority: ['VP', 'Director'],
      buyingSignals: [
        { type: 'HIRING', priority: 'HIGH' },
        { type: 'funding round', priority: 'MEDIUM' },
      ],
    }),
    options: { budgetUsdPerRecord: 1 },
  },
  { name: 'marketers, Europe, no budget', targeting: parseCampaignTargeting({ industries: ['SaaS'], employeeRange: '51-500', geographies: ['Germany', 'France'], jobTitles: ['Marketing Manager'] }), options: {} },
  { name: 'empty targeting', targeting: parseCampaignTargeting({}), options: {} },
];

const percentile = (values: number[], share: number) => values.toSorted((left, right) => left - right)[Math.min(values.length - 1, Math.floor(values.length * share))]!;
const lines = [`planner over ${catalog.length} sources, ${rounds} rounds, ${cpus().length} cores, load ${loadavg().map((value) => value.toFixed(2)).join(' ')}`, '| targeting | median ms | p95 ms |', '|---|---:|---:|'];
for (const { name, targeting, options } of cases) {
  for (let warmup = 0; warmup < 10; warmup += 1) planEnrichment(targeting, catalog, options);
  const samples: number[] = [];
  for (let round = 0; round < rounds; round += 1) {
    const started = performance.now();
    planEnrichment(targeting, catalog, options);
    samples.push(performance.now() - started);
  }
  lines.push(`| ${name} | ${percentile(samples, 0.5).toFixed(2)} | ${percentile(samples, 0.95).toFixed(2)} |`);
}
process.stdout.write(`${lines.join('\n')}\n`);
