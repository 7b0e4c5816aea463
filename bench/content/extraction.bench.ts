// What website extraction costs per page: extractPage (parse, metadata, contacts, technologies,
// main content) and chunkPages on that page, for the three real captured home pages
// (fixtures/websites) and the seven pages of the Northwind fixture site; then the
// site-level steps (repeated-block removal, chunking, summary, facts) over the Northwind pages.
// Pages run in a fresh random order each round so machine noise hits them alike; results are
// medians and p95 per page, and throughput at the median.
//   npm run bench:extraction                          (no build: runs the TypeScript sources)
//   node bench/content/extraction.bench.ts [rounds=200]
// Erasable TypeScript only: Node runs this file by stripping types.
import { registerHooks } from 'node:module';
import { cpus, loadavg } from 'node:os';

// The sources import each other as `./x.js` (what swc and jest expect); with no build, those are
// the `./x.ts` files next to them.
registerHooks({
  resolve(specifier, context, nextResolve) {
    try {
      return nextResolve(specifier, context);
    } catch (error) {
      if (specifier.startsWith('.') && specifier.endsWith('.js')) return nextResolve(`${specifier.slice(0, -3)}.ts`, context);
      throw error;
    }
  },
});

// Imported after the hook is registered (static imports would be resolved before it).
const { extractPage } = await import('../../apps/content-service/src/extraction/page-extraction.ts');
const { chunkPages } = await import('../../apps/content-service/src/extraction/chunking.ts');
const { removeRepeatedBlocks } = await import('../../apps/content-service/src/extraction/site-cleaning.ts');
const { extractiveSummary } = await import('../../apps/content-service/src/extraction/extractive-summary.ts');
const { findSiteFacts } = await import('../../apps/content-service/src/extraction/site-facts.ts');
const { captureNames, loadCapture, northwindOrigin, northwindPage, northwindPaths } = await import('../../apps/content-service/src/extraction/website-fixtures.testing.ts');

const rounds = Number(process.argv[2] ?? 200);
const warmup = Math.min(20, Math.ceil(rounds / 5));
const load = loadavg()
  .map((value) => value.toFixed(2))
  .join(' ');

const inputs: Array<{ name: string; url: string; html: string }> = [
  ...captureNames.map((name) => ({ name, ...loadCapture(name) })),
  ...northwindPaths.map((path) => ({ name: `northwind ${path}`, ...northwindPage(path) })),
];
const samples = new Map(inputs.map((input) => [input.name, { extract: [] as number[], chunk: [] as number[], total: [] as number[] }]));
const siteSamples: Record<'clean' | 'chunk' | 'summary' | 'facts' | 'all', number[]> = { clean: [], chunk: [], summary: [], facts: [], all: [] };
const northwindUrl = (path: string) => `${northwindOrigin}${path}`;

for (let round = -warmup; round < rounds; round += 1) {
  for (const input of inputs.toSorted(() => Math.random() - 0.5)) {
    const started = performance.now();
    const page = extractPage(input.html, input.url);
    const extracted = performance.now();
    chunkPages([page]);
    const chunked = performance.now();
    if (round < 0) continue;
    const sample = samples.get(input.name)!;
    sample.extract.push(extracted - started);
    sample.chunk.push(chunked - extracted);
    sample.total.push(chunked - started);
  }
  const pages = northwindPaths.map((path) => extractPage(northwindPage(path).html, northwindUrl(path)));
  const started = performance.now();
  const cleaned = removeRepeatedBlocks(pages);
  const afterClean = performance.now();
  chunkPages(cleaned);
  const afterChunk = performance.now();
  extractiveSummary(cleaned);
  const afterSummary = performance.now();
  findSiteFacts(cleaned);
  const afterFacts = performance.now();
  if (round < 0) continue;
  siteSamples.clean.push(afterClean - started);
  siteSamples.chunk.push(afterChunk - afterClean);
  siteSamples.summary.push(afterSummary - afterChunk);
  siteSamples.facts.push(afterFacts - afterSummary);
  siteSamples.all.push(afterFacts - started);
}

const quantile = (values: number[], q: number) => {
  const sorted = values.toSorted((left, right) => left - right);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
};
const median = (values: number[]) => quantile(values, 0.5);
const ms = (value: number) => value.toFixed(2);

const lines: string[] = [];
lines.push(`rounds: ${rounds} (after ${warmup} warm-up rounds), pages in a fresh random order each round`);
lines.push(`machine: ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}, load average at start ${load}`);
lines.push('');
lines.push('| page | HTML KB | words | chunks | extract median ms | extract p95 ms | chunk median ms | total median ms | total p95 ms | pages/s (median) | MB/s (median) |');
lines.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
let allMedians = 0;
let allBytes = 0;
for (const input of inputs) {
  const sample = samples.get(input.name)!;
  const page = extractPage(input.html, input.url);
  const bytes = Buffer.byteLength(input.html);
  const totalMedian = median(sample.total);
  allMedians += totalMedian;
  allBytes += bytes;
  lines.push(
    `| ${input.name} | ${(bytes / 1024).toFixed(0)} | ${page.wordCount} | ${chunkPages([page]).length} | ${ms(median(sample.extract))} | ${ms(quantile(sample.extract, 0.95))} | ${ms(median(sample.chunk))} | ${ms(totalMedian)} | ${ms(quantile(sample.total, 0.95))} | ${(1000 / totalMedian).toFixed(0)} | ${(bytes / 1e6 / (totalMedian / 1000)).toFixed(1)} |`,
  );
}
lines.push('');
lines.push(`all ${inputs.length} pages one after another (sum of medians): ${ms(allMedians)} ms, ${((inputs.length * 1000) / allMedians).toFixed(0)} pages/s, ${(allBytes / 1e6 / (allMedians / 1000)).toFixed(1)} MB/s on one core`);
lines.push('');
lines.push(`site steps over the ${northwindPaths.length} Northwind pages (already extracted):`);
lines.push('');
lines.push('| step | median ms | p95 ms |');
lines.push('|---|---:|---:|');
const siteSteps: Array<[string, number[]]> = [
  ['removeRepeatedBlocks', siteSamples.clean],
  ['chunkPages', siteSamples.chunk],
  ['extractiveSummary', siteSamples.summary],
  ['findSiteFacts', siteSamples.facts],
  ['all four', siteSamples.all],
];
for (const [step, values] of siteSteps) lines.push(`| ${step} | ${ms(median(values))} | ${ms(quantile(values, 0.95))} |`);
process.stdout.write(`${lines.join('\n')}\n`);
