// The enrichment benchmark's outside world, on its own thread so that serving it never competes
// with the measured services for their event loops: every dealer's website (made on demand from its
// register row), a Serper that answers every query in exactly `searchMs`, and an OpenAI that answers
// every call in exactly `modelMs`, writing from the passages it is given.
import { parentPort, workerData } from 'node:worker_threads';
import {
  answerFromSchema,
  hostLabel,
  leadSiteFixture,
  startCompanySites,
  startFakeOpenAiServer,
  startFakeSerperServer,
  type FakeLlmReply,
  type FakeLlmRequest,
  type LeadCompany,
} from '@gtm/testing';

const { companies, searchMs, modelMs } = workerData as { companies: LeadCompany[]; searchMs: number; modelMs: number };

const byHost = new Map<string, LeadCompany>();
for (const company of companies) byHost.set(`${hostLabel(company.name)}.test`, company);
let origin: (host: string) => string = (host) => `http://${host}`;
// A site is made from its row once and kept while its record is in flight (the search, the
// candidate pages, the crawl): the fakes stand for the outside world, whose CPU is not on this
// machine, so they should take as little of it as they can.
const fixtures = new Map<LeadCompany, ReturnType<typeof leadSiteFixture>>();
const fixtureOf = (company: LeadCompany) => {
  let fixture = fixtures.get(company);
  if (!fixture) {
    fixture = leadSiteFixture(company, { origin });
    fixtures.set(company, fixture);
    // The oldest first: C records at once never need more than a few hundred sites.
    if (fixtures.size > 2_000) fixtures.delete(fixtures.keys().next().value!);
  }
  return fixture;
};
const sites = await startCompanySites([], {
  lookup: (host) => {
    const company = byHost.get(host);
    return company ? fixtureOf(company).sites.at(-1) : undefined;
  },
});
origin = sites.origin;

const byQuery = new Map(companies.map((company) => [`${company.name} ${company.city} ${company.state}`.toLowerCase(), company]));
/** When each query first arrived, for the per-record latency. */
const searchedAt = new Map<string, number>();
const serper = await startFakeSerperServer({
  delayMs: searchMs,
  respond: (request) => {
    const query = request.query.toLowerCase();
    if (!searchedAt.has(query)) searchedAt.set(query, Date.now());
    const company = byQuery.get(query);
    return { results: company ? fixtureOf(company).documents : [] };
  },
});

/** The passages a personalisation prompt carries: `[n] url — heading` then the text. */
function passagesIn(prompt: string): Array<{ url: string; text: string }> {
  const section = prompt.split(/Passages from [^\n]*:\n/)[1] ?? '';
  return section
    .split(/\n\n(?=\[\d+\] )/)
    .map((block) => /^\[\d+\] (\S+) — [^\n]*\n([\s\S]*)$/.exec(block))
    .filter((match): match is RegExpExecArray => match !== null)
    .map((match) => ({ url: match[1]!, text: match[2]! }));
}

let calls = 0;
function respond(request: FakeLlmRequest): FakeLlmReply {
  calls += 1;
  // The fake keeps every request; a benchmark of thirty thousand calls keeps only the latest.
  if (openAi.requests.length > 200) openAi.reset();
  const task = String(request.body?.response_format?.json_schema?.name ?? '');
  if (task.includes('personalization')) {
    const passages = passagesIn(request.prompt);
    const passage = passages.find((candidate) => /family owned/i.test(candidate.text)) ?? passages[0];
    if (!passage) return answerFromSchema(request);
    const sentences = passage.text.split(/(?<=[.!?])\s+|\n+/);
    const sentence = sentences.find((candidate) => /family owned/i.test(candidate)) ?? sentences[0]!;
    return {
      json: {
        subject: 'Decades in the family business',
        iceBreaker: `Hi, I read on your site that "${sentence}" Keeping a dealership in the family that long is rare. I would like to show you what we do for dealers like you.`,
        hotButtonTopic: 'Family ownership',
        quotes: [{ quote: sentence, pageUrl: passage.url }],
      },
    };
  }
  if (task.includes('qualification')) {
    const score = Number(/A rule-based score would be (\d+)/.exec(request.prompt)?.[1] ?? 50);
    return { json: { score, reasoning: `Scored ${score} on the measured signals: website, people and reachability.`, confidence: 0.8, signals: ['Measured signals'] } };
  }
  return answerFromSchema(request);
}
const openAi = await startFakeOpenAiServer({ respond, delayMs: modelMs });

parentPort?.on('message', async (message: 'report' | 'close') => {
  if (message === 'report') parentPort?.postMessage({ searchedAt: [...searchedAt], searches: serper.requests.length, modelCalls: calls, pageRequests: sites.requests.length }, []);
  if (message === 'close') {
    await Promise.all([sites.close(), serper.close(), openAi.close()]);
    parentPort?.close();
  }
});
parentPort?.postMessage({ port: sites.port, serperUrl: serper.url, openAiUrl: openAi.baseURL, hosts: [...byHost.keys()] }, []);
