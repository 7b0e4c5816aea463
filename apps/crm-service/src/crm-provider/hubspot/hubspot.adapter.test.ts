import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startFakeHubSpot, type FakeHubSpot } from '@gtm/testing';
import type { CrmAdapter, CrmChange, CrmChangePage } from '../crm-provider.js';
import { CrmProviderError } from '../crm-provider.error.js';
import { createHubSpotAdapter } from './hubspot.adapter.js';

const fields = ['email', 'firstname', 'lastname', 'jobtitle', 'company', 'website', 'phone'];
const outbound = { allowlist: ['127.0.0.1'] };
const quickRetry = { baseDelayMs: 5, maximumDelayMs: 200 };

let fake: FakeHubSpot;
let adapter: CrmAdapter;

beforeAll(async () => {
  fake = await startFakeHubSpot();
  adapter = createHubSpotAdapter({ credentials: { accessToken: fake.accessToken, portalId: fake.portalId }, baseUrl: fake.baseUrl, webhookSecret: fake.clientSecret, outbound, retry: quickRetry });
});

afterAll(() => fake?.close());

async function readAll(target: CrmAdapter, since: Date | null, pageSize = 100): Promise<{ changes: CrmChange[]; pages: CrmChangePage[] }> {
  const changes: CrmChange[] = [];
  const pages: CrmChangePage[] = [];
  let pageToken: string | null = null;
  do {
    const page: CrmChangePage = await target.listChanges({ since, pageToken, pageSize, fields });
    pages.push(page);
    changes.push(...page.changes);
    pageToken = page.nextPageToken;
  } while (pageToken);
  return { changes, pages };
}

describe('HubSpot adapter against the fake HubSpot', () => {
  it('checks credentials and lists the contact properties', async () => {
    expect(await adapter.verifyCredentials()).toEqual({ id: String(fake.portalId), name: `HubSpot portal ${fake.portalId}` });
    const properties = await adapter.listFields();
    expect(properties.find((property) => property.name === 'email')).toEqual({ name: 'email', label: 'Email', readOnly: false });
    expect(properties.find((property) => property.name === 'lastmodifieddate')?.readOnly).toBe(true);
    const wrong = createHubSpotAdapter({ credentials: { accessToken: 'pat-wrong' }, baseUrl: fake.baseUrl, outbound, retry: quickRetry });
    const refused = await wrong.verifyCredentials().catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(CrmProviderError);
    expect(refused).toMatchObject({ kind: 'unauthorized', status: 401 });
    expect((refused as Error).message).toContain('Authentication credentials not found');
  });

  it('pages through every change in modification order, then the deletes, and reads only what changed since a date', async () => {
    const seeded = fake.seedContacts(1_250);
    const { changes, pages } = await readAll(adapter, null);
    const upserts = changes.filter((change) => change.kind === 'upsert');
    expect(upserts.length).toBeGreaterThanOrEqual(1_250);
    expect(new Set(upserts.map((change) => change.record.externalId)).size).toBe(upserts.length);
    const times = upserts.map((change) => change.record.modifiedAt.getTime());
    expect(times).toEqual(times.toSorted((a, b) => a - b));
    expect(pages[0]!.totalEstimate).toBe(upserts.length);
    expect(pages.filter((page) => page.checkpoint).at(-1)!.checkpoint).toEqual(upserts.at(-1)!.record.modifiedAt);
    const first = upserts.find((change) => change.record.externalId === seeded[0]!.id)!;
    expect(first.record.properties).toMatchObject({ email: 'contact0@seed.example.com', firstname: 'First0', lastname: 'Last0', website: null });

    const since = new Date(upserts.at(-1)!.record.modifiedAt.getTime() + 1);
    fake.editContact(seeded[10]!.id, { jobtitle: 'CFO' });
    fake.archiveContact(seeded[11]!.id);
    const later = await readAll(adapter, since);
    expect(later.changes).toEqual([
      expect.objectContaining({ kind: 'upsert', record: expect.objectContaining({ externalId: seeded[10]!.id, properties: expect.objectContaining({ jobtitle: 'CFO' }) }) }),
      expect.objectContaining({ kind: 'delete', externalId: seeded[11]!.id }),
    ]);
  });

  it('goes past the search reach of 10,000 results by starting a new search from the last date seen', async () => {
    const small = await startFakeHubSpot({ maximumSearchResults: 300 });
    try {
      small.seedContacts(1_000);
      const target = createHubSpotAdapter({ credentials: { accessToken: small.accessToken }, baseUrl: small.baseUrl, outbound, retry: quickRetry, maximumSearchResults: 300 });
      const { changes } = await readAll(target, null);
      expect(new Set(changes.map((change) => (change.kind === 'upsert' ? change.record.externalId : ''))).size).toBe(1_000);
    } finally {
      await small.close();
    }
  });

  it('creates and updates in batches, matching results to inputs whatever their order, and fails only the bad record', async () => {
    const created = await adapter.create(
      [
        { email: 'ada@batch.example.com', firstname: 'Ada', lastname: null },
        { email: 'not an email', firstname: 'Broken' },
        { email: 'grace@batch.example.com', firstname: 'Grace' },
      ],
      fields,
    );
    expect(created.map((outcome) => (outcome.ok ? outcome.record.properties['firstname'] : outcome.error.kind))).toEqual(['Ada', 'invalid-record', 'Grace']);
    const failure = created[1]!;
    expect(failure.ok ? null : failure.error.message).toContain('INVALID_EMAIL');
    const ada = created[0]!.ok ? created[0]!.record : null;
    expect(fake.contacts.get(ada!.externalId)?.properties['email']).toBe('ada@batch.example.com');

    const updated = await adapter.update([{ externalId: ada!.externalId, properties: { jobtitle: 'Engineer', firstname: null } }, { externalId: '999999999', properties: { jobtitle: 'x' } }], fields);
    expect(updated[0]).toMatchObject({ ok: true, record: { externalId: ada!.externalId, properties: { jobtitle: 'Engineer', firstname: null } } });
    expect(updated[1]).toMatchObject({ ok: false, error: { kind: 'not-found' } });

    expect((await adapter.findByEmails(['grace@batch.example.com', 'nobody@batch.example.com'], fields)).map((record) => record.properties['firstname'])).toEqual(['Grace']);
    await adapter.delete(ada!.externalId);
    await adapter.delete(ada!.externalId);
    expect(await adapter.get(ada!.externalId, fields)).toBeNull();
  });

  it('follows a merge: the merged id answers as the survivor, which lists it', async () => {
    const [keep, gone] = fake.seedContacts(2, (index) => ({ email: `merge${index}@example.com`, firstname: `Merge${index}` }));
    fake.mergeContacts(keep!.id, gone!.id);
    const survivor = await adapter.get(gone!.id, fields);
    expect(survivor).toMatchObject({ externalId: keep!.id, mergedExternalIds: [gone!.id] });
  });

  it('reads when each field last changed, for conflicts', async () => {
    const [contact] = fake.seedContacts(1);
    await new Promise((resolve) => setTimeout(resolve, 5));
    const edited = fake.editContact(contact!.id, { jobtitle: 'Head of Sales' });
    const times = await adapter.fieldModifiedTimes!(contact!.id, ['jobtitle', 'firstname']);
    expect(times['jobtitle']!.getTime()).toBe(edited.updatedAt.getTime());
    expect(times['firstname']!.getTime()).toBeLessThan(times['jobtitle']!.getTime());
  });

  it('waits out 429s as HubSpot asks, and classifies daily caps, revoked tokens and HTML answers', async () => {
    fake.server.resetCounts();
    fake.inject({ kind: 'rate-limit', count: 3, retryAfterSeconds: 0.02 });
    expect((await adapter.listFields()).length).toBeGreaterThan(5);
    expect(fake.server.counts().requests).toBe(4);

    fake.inject({ kind: 'daily-limit', count: 1 });
    const daily = (await adapter.listFields().catch((error: unknown) => error)) as CrmProviderError;
    expect(daily).toMatchObject({ kind: 'daily-limit', isRetryable: false });
    expect(daily.resumeAt!.getTime()).toBeGreaterThan(Date.now());

    fake.inject({ kind: 'garbage', count: 1 });
    expect(await adapter.listFields().catch((error: unknown) => error)).toMatchObject({ kind: 'malformed-response' });

    fake.inject({ kind: 'unavailable', count: 2 });
    expect((await adapter.listFields()).length).toBeGreaterThan(5);
  });

  it('exchanges an OAuth refresh token for access tokens, and says so when the refresh token is refused', async () => {
    const oauth = { clientId: 'client-1', clientSecret: 'secret-1', refreshToken: 'refresh-1' };
    const oauthFake = await startFakeHubSpot({ oauth });
    try {
      const target = createHubSpotAdapter({ credentials: oauth, baseUrl: oauthFake.baseUrl, outbound, retry: quickRetry });
      expect(await target.verifyCredentials()).toEqual({ id: String(oauthFake.portalId), name: 'fake-portal.example.com' });
      const refused = createHubSpotAdapter({ credentials: { ...oauth, refreshToken: 'revoked' }, baseUrl: oauthFake.baseUrl, outbound, retry: quickRetry });
      const error = await refused.verifyCredentials().catch((caught: unknown) => caught);
      expect(error).toMatchObject({ kind: 'unauthorized' });
      expect((error as Error).message).toContain('missing or unknown refresh token');
    } finally {
      await oauthFake.close();
    }
  });

  it('never calls a private address unless it is allowlisted', async () => {
    const error = (() => {
      try {
        createHubSpotAdapter({ credentials: { accessToken: 'x' }, baseUrl: 'http://169.254.169.254/latest' });
        return null;
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toMatchObject({ kind: 'refused-address' });
    const byName = createHubSpotAdapter({ credentials: { accessToken: fake.accessToken }, baseUrl: fake.baseUrl.replace('127.0.0.1', 'localhost'), retry: quickRetry });
    expect(await byName.listFields().catch((caught: unknown) => caught)).toMatchObject({ kind: 'refused-address' });
  });
});

describe('HubSpot webhook signatures (v3)', () => {
  const url = 'https://gtm.example.com/webhooks/crm/5f0b?source=hubspot%3Aapp';
  const body = JSON.stringify([{ eventId: 1, subscriptionId: 9, portalId: 1, occurredAt: 1700000000000, subscriptionType: 'contact.propertyChange', objectId: 123, propertyName: 'email' }]);
  const request = (headers: Record<string, string>, rawBody = body) => ({ method: 'POST', url, headers, rawBody: Buffer.from(rawBody) });

  it('accepts HubSpot’s signature over method, URI (escapes decoded), body and timestamp', () => {
    const now = Date.now();
    const headers = fake.signWebhook({ url: url.replace('%3A', ':'), body, timestamp: now });
    const verification = adapter.verifyWebhook(request(headers), new Date(now + 1_000));
    expect(verification).toMatchObject({ verified: true, events: [{ kind: 'upsert', externalId: '123' }], replayKey: headers['x-hubspot-signature-v3'] });
  });

  it('refuses a wrong secret, an altered body, an old or future timestamp, and missing headers', () => {
    const now = Date.now();
    const wrongSecret = fake.signWebhook({ url, body, timestamp: now, secret: 'not-the-secret' });
    expect(adapter.verifyWebhook(request(wrongSecret), new Date(now))).toMatchObject({ verified: false, reason: 'the signature does not match' });
    const good = fake.signWebhook({ url, body, timestamp: now });
    expect(adapter.verifyWebhook(request(good, body.replace('123', '124')), new Date(now))).toMatchObject({ verified: false });
    const old = fake.signWebhook({ url, body, timestamp: now - 6 * 60 * 1000 });
    expect(adapter.verifyWebhook(request(old), new Date(now))).toMatchObject({ verified: false, reason: expect.stringContaining('5 minutes') });
    const future = fake.signWebhook({ url, body, timestamp: now + 6 * 60 * 1000 });
    expect(adapter.verifyWebhook(request(future), new Date(now))).toMatchObject({ verified: false });
    expect(adapter.verifyWebhook(request({}), new Date(now))).toMatchObject({ verified: false });
  });
});
