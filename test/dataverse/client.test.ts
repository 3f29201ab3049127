import { describe, it, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DataverseClient } from '../../src/dataverse/client';
import { RateGovernor } from '../../src/dataverse/rateGovernor';
import {
  DataverseAuthError,
  DataverseCancelledError,
  DataverseConcurrencyError,
  DataverseDuplicateKeyError,
  DataverseError,
  DataverseKeyValueError,
  DataverseNotFoundError,
  DataverseThrottledError,
  DataverseValidationError,
} from '../../src/dataverse/errors';
import { type DataverseTokenSource } from '../../src/dataverse/tokenProvider';
import { makeTestCertificates, type TestCertificates } from './support/testCertificates';
import { startFakeDataverse, type FakeDataverse } from './support/fakeDataverse';

/** Hands out `token-1`, `token-2`, … ; each invalidate() moves to the next one. */
class RotatingTokens implements DataverseTokenSource {
  n = 1;
  issued = 0;
  async getToken(): Promise<string> {
    this.issued += 1;
    return `token-${this.n}`;
  }
  invalidate(): void {
    this.n += 1;
  }
}

const errorSamples = path.join(__dirname, '..', 'fixtures', 'samples', 'dataverse', 'error-responses.json');

describe('DataverseClient against an in-test Dataverse', () => {
  let certs: TestCertificates;
  let fake: FakeDataverse;
  let tokens: RotatingTokens;
  let client: DataverseClient;
  const clients: DataverseClient[] = [];

  const makeClient = (extra: Partial<ConstructorParameters<typeof DataverseClient>[0]> = {}): DataverseClient => {
    const c = new DataverseClient({
      connection: 'east',
      webApiUrl: fake.webApiUrl,
      tokenProvider: tokens,
      caPem: certs.caPem,
      governor: new RateGovernor(),
      ...extra,
    });
    clients.push(c);
    return c;
  };

  before(async () => {
    certs = makeTestCertificates();
    fake = await startFakeDataverse(certs);
  });
  beforeEach(() => {
    fake.tables.clear();
    fake.requests.length = 0;
    fake.script.length = 0;
    fake.acceptedTokens.clear();
    fake.acceptedTokens.add('token-1');
    tokens = new RotatingTokens();
    client = makeClient();
  });
  after(async () => {
    for (const c of clients) await c.close();
    await fake.close();
  });

  it('sends the OData headers, tags writes and reads the id from OData-EntityId', async () => {
    const created = await client.create('accounts', { name: 'Contoso' });
    assert.match(created.id ?? '', /^[0-9a-f-]{36}$/);
    const row = await client.retrieve('accounts', created.id ?? '', { select: ['name', 'accountid'] });
    assert.equal(row?.name, 'Contoso');
    assert.equal(typeof row?.['@odata.etag'], 'string');

    const [post, get] = fake.requests;
    assert.ok(post && get);
    assert.equal(post.method, 'POST');
    assert.ok(post.url.endsWith('/accounts?tag=qbsync'), post.url);
    for (const r of [post, get]) {
      assert.equal(r.headers['odata-version'], '4.0');
      assert.equal(r.headers['odata-maxversion'], '4.0');
      assert.equal(r.headers.accept, 'application/json');
      assert.equal(r.headers.authorization, 'Bearer token-1');
    }
    assert.equal(post.headers['content-type'], 'application/json');
    assert.equal(get.headers['if-none-match'], 'null');
    assert.ok(get.url.endsWith(`/accounts(${created.id})?$select=name,accountid`), get.url);
    assert.ok(!get.url.includes('tag='), 'reads are not tagged');
  });

  it('uses the configured tag, or none', async () => {
    await makeClient({ tag: 'bridge-7' }).create('accounts', { name: 'a' });
    await makeClient({ tag: '' }).create('accounts', { name: 'b' });
    assert.ok(fake.requests[0]?.url.endsWith('/accounts?tag=bridge-7'));
    assert.ok(fake.requests[1]?.url.endsWith('/accounts'));
  });

  it('returns the row with return=representation', async () => {
    const created = await client.create(
      'accounts',
      { name: 'Fabrikam' },
      { returnRepresentation: true, select: ['name'] },
    );
    assert.equal(created.row?.name, 'Fabrikam');
    assert.match(created.etag ?? '', /^W\/"\d+"$/);
    assert.equal(fake.requests[0]?.headers.prefer, 'return=representation');
    assert.ok(fake.requests[0]?.url.endsWith('/accounts?$select=name&tag=qbsync'), fake.requests[0]?.url);
  });

  it('upserting the same key twice leaves one row; created/updated is reported', async () => {
    const key = { qbsync_companyfile: 'east', qbsync_qblistid: '80000001-1234567890' };
    const first = await client.upsertByKey('accounts', key, { name: 'Acme', ...key }, { returnRepresentation: true });
    const second = await client.upsertByKey('accounts', key, { name: 'Acme Inc' }, { returnRepresentation: true });
    assert.equal(first.created, true);
    assert.equal(second.created, false);
    assert.equal(first.id, second.id);
    const rows = [...(fake.tables.get('accounts')?.values() ?? [])];
    assert.equal(rows.length, 1);
    assert.equal(rows[0]?.name, 'Acme Inc');
    assert.equal(rows[0]?.qbsync_qblistid, key.qbsync_qblistid);
    const patch = fake.requests[0];
    assert.equal(patch?.method, 'PATCH');
    assert.ok(
      patch?.url.endsWith("/accounts(qbsync_companyfile='east',qbsync_qblistid='80000001-1234567890')?tag=qbsync"),
      patch?.url,
    );
    assert.deepEqual(JSON.parse(patch?.body ?? '{}'), { name: 'Acme' }, 'key columns are left to the URL');
  });

  it('upsert modes send the right conditional header and map the outcomes', async () => {
    const key = { qbsync_companyfile: 'east', qbsync_qblistid: 'X-1' };
    await assert.rejects(
      client.upsertByKey('accounts', key, { name: 'n' }, { mode: 'updateOnly' }),
      DataverseNotFoundError,
    );
    assert.equal(fake.requests.at(-1)?.headers['if-match'], '*');
    const created = await client.upsertByKey('accounts', key, { name: 'n' }, { mode: 'createOnly' });
    assert.equal(created.created, true);
    assert.equal(fake.requests.at(-1)?.headers['if-none-match'], '*');
    await assert.rejects(
      client.upsertByKey('accounts', key, { name: 'n2' }, { mode: 'createOnly' }),
      (e: unknown) => e instanceof DataverseDuplicateKeyError && e.status === 412,
    );
    const updated = await client.upsertByKey('accounts', key, { name: 'n3' }, { mode: 'updateOnly' });
    assert.equal(updated.created, false);
  });

  it('escapes quotes in key values and refuses values Dataverse cannot address', async () => {
    const key = { qbsync_companyfile: "o'neil's", qbsync_qblistid: 'A B' };
    await client.upsertByKey('accounts', key, { name: 'q' });
    assert.ok(
      fake.requests[0]?.url.endsWith("/accounts(qbsync_companyfile='o''neil''s',qbsync_qblistid='A%20B')?tag=qbsync"),
      fake.requests[0]?.url,
    );
    assert.equal(fake.tables.get('accounts')?.size, 1);
    assert.equal((await client.retrieve('accounts', key))?.qbsync_companyfile, "o'neil's");

    const bad: Array<[string, Parameters<DataverseClient['retrieve']>[1]]> = [
      ['colon (QuickBooks FullName)', { qbsync_qblistid: 'Parent:Child' }],
      ['slash', { qbsync_qblistid: 'a/b' }],
      ['percent', { qbsync_qblistid: '100%' }],
      ['plus', { qbsync_qblistid: 'a+b' }],
      ['empty value', { qbsync_qblistid: '' }],
      ['empty key', {}],
      ['column injection', { "x='1') or (y": 'v' }],
      ['id that is not a GUID', 'not-a-guid'],
    ];
    const before = fake.requests.length;
    for (const [name, k] of bad) {
      await assert.rejects(client.retrieve('accounts', k), DataverseKeyValueError, name);
    }
    assert.equal(fake.requests.length, before, 'nothing was sent');
  });

  it('retrieve gives null for a missing row; update without etag refuses to create', async () => {
    const missing = '00000000-0000-0000-0000-000000000001';
    assert.equal(await client.retrieve('accounts', missing), null);
    await assert.rejects(client.update('accounts', missing, { name: 'x' }), DataverseNotFoundError);
    assert.equal(fake.requests.at(-1)?.headers['if-match'], '*');
    assert.equal(fake.tables.get('accounts')?.size ?? 0, 0);
  });

  it('reads every row of a 2,500-row table exactly once across pages', async () => {
    const t = new Map<string, Record<string, unknown>>();
    for (let i = 0; i < 2500; i += 1) {
      const id = `00000000-0000-0000-0000-${String(i).padStart(12, '0')}`;
      t.set(id, { accountid: id, name: `Account ${i}`, '@odata.etag': `W/"${i}"` });
    }
    fake.tables.set('accounts', t);
    const seen = new Map<string, number>();
    const pageSizes: number[] = [];
    for await (const page of client.query('accounts', { select: ['name'], filter: "name ne 'x y'", pageSize: 1000 })) {
      pageSizes.push(page.length);
      for (const row of page) seen.set(String(row.accountid), (seen.get(String(row.accountid)) ?? 0) + 1);
    }
    assert.deepEqual(pageSizes, [1000, 1000, 500]);
    assert.equal(seen.size, 2500);
    assert.ok([...seen.values()].every((n) => n === 1));
    assert.equal(fake.requests.length, 3);
    for (const r of fake.requests) assert.equal(r.headers.prefer, 'odata.maxpagesize=1000');
    assert.ok(decodeURIComponent(fake.requests[0]?.url ?? '').includes("$filter=name ne 'x y'"), fake.requests[0]?.url);
    assert.ok(!fake.requests[0]?.url.includes('+'), 'spaces are %20, never +');
    let count = 0;
    for await (const _row of client.queryRows('accounts', { pageSize: 700 })) count += 1;
    assert.equal(count, 2500);
  });

  it('refuses a nextLink that points away from the Web API (it would carry our token)', async () => {
    fake.script.push({
      status: 200,
      body: { value: [{ a: 1 }], '@odata.nextLink': 'https://evil.example/api/data/v9.2/accounts?x=1' },
    });
    const pages: unknown[] = [];
    await assert.rejects(
      (async () => {
        for await (const p of client.query('accounts')) pages.push(p);
      })(),
      /refusing to follow a link outside/,
    );
    assert.equal(pages.length, 1);
    assert.equal(fake.requests.length, 1);
  });

  it('updateWithRetry re-reads after a stale ETag (412) and then succeeds', async () => {
    const { id } = await client.create('accounts', { name: 'Old', telephone1: '1' });
    assert.ok(id);
    let calls = 0;
    const result = await client.updateWithRetry('accounts', id, (row) => {
      calls += 1;
      // A concurrent writer lands between our read and our write, once.
      if (calls === 1) fake.touch('accounts', id, { telephone1: '2' });
      return row.name === 'New' ? null : { name: 'New' };
    });
    assert.deepEqual(result, { changed: true, attempts: 2 });
    const row = fake.tables.get('accounts')?.get(id);
    assert.deepEqual({ name: row?.name, telephone1: row?.telephone1 }, { name: 'New', telephone1: '2' });
    const patches = fake.requests.filter((r) => r.method === 'PATCH');
    assert.equal(patches.length, 2);
    assert.ok(patches.every((p) => /^W\/"\d+"$/.test(p.headers['if-match'] ?? '')));
    assert.notEqual(patches[0]?.headers['if-match'], patches[1]?.headers['if-match']);

    const again = await client.updateWithRetry('accounts', id, (r) => (r.name === 'New' ? null : { name: 'New' }));
    assert.deepEqual(again, { changed: false, attempts: 1 });
    assert.equal(fake.requests.filter((r) => r.method === 'PATCH').length, 2, 'nothing to change → no write');
  });

  it('updateWithRetry gives up after maxAttempts, and reports a missing row', async () => {
    const { id } = await client.create('accounts', { name: 'x' });
    assert.ok(id);
    await assert.rejects(
      client.updateWithRetry(
        'accounts',
        id,
        () => {
          fake.touch('accounts', id, { telephone1: String(Math.random()) });
          return { name: 'y' };
        },
        { maxAttempts: 3 },
      ),
      DataverseConcurrencyError,
    );
    assert.equal(fake.requests.filter((r) => r.method === 'PATCH').length, 3);
    await assert.rejects(
      client.updateWithRetry('accounts', '00000000-0000-0000-0000-0000000000aa', () => ({ name: 'z' })),
      DataverseNotFoundError,
    );
  });

  it('renews the token once on 401 and retries; a second 401 is a DataverseAuthError without the token', async () => {
    fake.acceptedTokens.clear();
    fake.acceptedTokens.add('token-2');
    const created = await client.create('accounts', { name: 'after renewal' });
    assert.ok(created.id);
    assert.deepEqual(
      fake.requests.map((r) => r.headers.authorization),
      ['Bearer token-1', 'Bearer token-2'],
    );
    fake.acceptedTokens.clear();
    fake.requests.length = 0;
    const err = await client.create('accounts', { name: 'x' }).catch((e: unknown) => e);
    assert.ok(err instanceof DataverseAuthError);
    assert.equal(err.status, 401);
    assert.equal(fake.requests.length, 2, 'exactly one renewal');
    assert.ok(!err.message.includes('token-'), err.message);
    assert.ok(!JSON.stringify(err).includes('token-'));
    assert.match(err.message, /connection "east"/);
  });

  it('sits out 429/503 for Retry-After through the governor, then completes', async () => {
    const governor = new RateGovernor();
    const c = makeClient({ governor });
    fake.script.push(
      {
        status: 429,
        headers: { 'retry-after': '1' },
        body: { error: { code: '0x80072322', message: 'Number of requests exceeded' } },
      },
      { status: 503, headers: { 'retry-after': '0.5' }, body: { error: { code: '', message: 'unavailable' } } },
    );
    const created = await c.create('accounts', { name: 'patient' });
    assert.ok(created.id);
    const [r1, r2, r3] = fake.requests;
    assert.ok(r1 && r2 && r3);
    assert.ok(r2.at - r1.at >= 1000, `gap after 429 was ${r2.at - r1.at} ms`);
    assert.ok(r3.at - r2.at >= 500, `gap after 503 was ${r3.at - r2.at} ms`);
    assert.equal(governor.snapshot().throttledResponses, 2);
    assert.equal(fake.tables.get('accounts')?.size, 1, 'the write happened once');
  });

  it('gives up with DataverseThrottledError after the bounded number of retries', async () => {
    const c = makeClient({ maxThrottleRetries: 1 });
    const body = {
      error: {
        code: '0x80072322',
        message: 'Number of requests exceeded the limit of 6000 over time window of 300 seconds.',
      },
    };
    fake.script.push(
      { status: 429, headers: { 'retry-after': '0' }, body },
      { status: 429, headers: { 'retry-after': '0.2' }, body },
    );
    const err = await c.create('accounts', { name: 'x' }).catch((e: unknown) => e);
    assert.ok(err instanceof DataverseThrottledError, String(err));
    assert.equal(err.retryAfterMs, 200);
    assert.equal(err.code, '0x80072322');
    assert.equal(fake.requests.length, 2);
  });

  it('maps Dataverse error bodies (published samples) to typed errors', async () => {
    const samples = JSON.parse(readFileSync(errorSamples, 'utf8')) as Record<string, unknown>;
    const id = '00000000-0000-0000-0000-000000000001';
    const cases: Array<{
      name: string;
      status: number;
      body: unknown;
      call: () => Promise<unknown>;
      type: typeof DataverseError;
      code: string;
      message: RegExp;
    }> = [
      {
        name: '404 update-only on a missing row',
        status: 404,
        body: samples['404_patch_with_If-Match_star_record_missing'],
        call: () => client.update('accounts', id, { name: 'x' }),
        type: DataverseNotFoundError,
        code: '',
        message: /account With Id = .* Does Not Exist/,
      },
      {
        name: '412 create-only on an existing key',
        status: 412,
        body: samples['412_patch_with_If-None-Match_star_record_exists'],
        call: () => client.upsertByKey('accounts', { qbsync_qblistid: 'a' }, {}, { mode: 'createOnly' }),
        type: DataverseDuplicateKeyError,
        code: '',
        message: /matching key values already exists/,
      },
      {
        name: '412 stale etag',
        status: 412,
        body: samples['412_patch_or_delete_with_stale_If-Match_etag'],
        call: () => client.update('accounts', id, { name: 'x' }, { etag: 'W/"1"' }),
        type: DataverseConcurrencyError,
        code: '',
        message: /RowVersion/,
      },
      {
        name: '400 plug-in error with annotations',
        status: 400,
        body: samples['400_plugin_error_with_Prefer_include-annotations_star'],
        call: () => client.create('accounts', { name: 'x' }),
        type: DataverseValidationError,
        code: '0x80040265',
        message: /Example Error Message\./,
      },
      {
        name: '412 on POST colliding with an alternate key',
        status: 412,
        body: { error: { code: '0x80060892', message: 'Entity Key qbsync_key violated.' } },
        call: () => client.create('accounts', { name: 'x' }),
        type: DataverseDuplicateKeyError,
        code: '0x80060892',
        message: /violated/,
      },
      {
        name: '400 duplicate price list item',
        status: 400,
        body: {
          error: { code: '0x80043b08', message: 'This product and unit combination has a price for this price list.' },
        },
        call: () => client.create('productpricelevels', {}),
        type: DataverseDuplicateKeyError,
        code: '0x80043b08',
        message: /price list/,
      },
      {
        name: '403 access denied',
        status: 403,
        body: { error: { code: '0x80048405', message: 'Principal user is missing prvCreateAccount privilege' } },
        call: () => client.create('accounts', {}),
        type: DataverseError,
        code: '0x80048405',
        message: /prvCreateAccount/,
      },
      {
        name: '500 with a non-JSON body',
        status: 500,
        body: '<html>Server Error</html>',
        call: () => client.create('accounts', {}),
        type: DataverseError,
        code: '',
        message: /Server Error/,
      },
    ];
    for (const c of cases) {
      fake.script.push({ status: c.status, body: c.body });
      const err = await c.call().then(
        () => assert.fail(`${c.name}: expected failure`),
        (e: unknown) => e,
      );
      assert.ok(err instanceof c.type, `${c.name}: got ${String(err)}`);
      assert.ok(err instanceof DataverseError);
      assert.equal(err.constructor, c.type, `${c.name}: exact class`);
      assert.equal(err.status, c.status, c.name);
      assert.equal(err.code, c.code, c.name);
      assert.match(err.message, c.message, c.name);
      assert.match(err.message, /connection "east"/, c.name);
    }
  });

  it('keeps Dataverse error annotations on validation errors', async () => {
    const samples = JSON.parse(readFileSync(errorSamples, 'utf8')) as Record<string, unknown>;
    fake.script.push({ status: 400, body: samples['400_plugin_error_with_Prefer_include-annotations_star'] });
    const err = await client.create('accounts', {}).catch((e: unknown) => e);
    assert.ok(err instanceof DataverseValidationError);
    assert.equal(err.annotations['Microsoft.PowerApps.CDS.ErrorDetails.SubErrorCode'], '12345');
    assert.equal(err.serverMessage, 'Example Error Message.');
  });

  describe('an activity attempt', () => {
    class RecordingGovernor extends RateGovernor {
      readonly pauses: number[] = [];
      override throttled(retryAfterMs: number): void {
        this.pauses.push(retryAfterMs);
        super.throttled(retryAfterMs);
      }
    }
    const waitFor = async (condition: () => boolean): Promise<void> => {
      while (!condition()) await new Promise((r) => setTimeout(r, 10));
    };

    it('aborts a request in flight when the attempt is cancelled, and heartbeats while it waits', async () => {
      fake.script.push({ status: 204, delayMs: 30_000 });
      const abort = new AbortController();
      let beats = 0;
      const pending = client.forAttempt(abort.signal, () => (beats += 1)).create('accounts', { name: 'Slow' });
      await waitFor(() => fake.requests.length === 1);
      abort.abort();
      const err = await pending.catch((e: unknown) => e);
      assert.ok(err instanceof DataverseCancelledError, String(err));
      assert.equal(err.path, 'accounts');
      assert.ok(beats >= 1);
      // The client that made the view is untouched by the cancellation.
      assert.ok((await client.create('accounts', { name: 'Fine' })).id);
    });

    it('sends no write once the attempt is cancelled while it sits out a Retry-After', async () => {
      fake.script.push({
        status: 429,
        headers: { 'retry-after': '1' },
        body: { error: { code: '0x80072322', message: 'slow down' } },
      });
      const abort = new AbortController();
      const pending = client.forAttempt(abort.signal).create('accounts', { name: 'Never' });
      await waitFor(() => fake.requests.length === 1);
      abort.abort();
      const err = await pending.catch((e: unknown) => e);
      assert.ok(err instanceof DataverseCancelledError, String(err));
      await new Promise((r) => setTimeout(r, 1_500)); // past the Retry-After: a retry would have gone out by now
      assert.equal(fake.requests.length, 1, 'no request after the cancellation');
      assert.equal(fake.tables.get('accounts')?.size ?? 0, 0);
      const early = await client
        .forAttempt(AbortSignal.abort())
        .create('accounts', { name: 'Never' })
        .catch((e: unknown) => e);
      assert.ok(early instanceof DataverseCancelledError);
      assert.equal(fake.requests.length, 1, 'an attempt cancelled before the call sends nothing');
    });

    it('caps the back-off without Retry-After, and gives up at once when Dataverse asks for longer than the cap', async () => {
      const governor = new RecordingGovernor();
      const capped = makeClient({ governor, defaultRetryAfterMs: 100, maxRetryAfterMs: 250 });
      const unavailable = { status: 503, body: { error: { code: '', message: 'unavailable' } } };
      fake.script.push(unavailable, unavailable, unavailable, unavailable);
      assert.ok((await capped.create('accounts', { name: 'After storms' })).id);
      assert.deepEqual(governor.pauses, [100, 200, 250, 250]);

      const sent = fake.requests.length;
      fake.script.push({
        status: 429,
        headers: { 'retry-after': '600' },
        body: { error: { code: '0x80072322', message: 'later' } },
      });
      const err = await capped.create('accounts', { name: 'Later' }).catch((e: unknown) => e);
      assert.ok(err instanceof DataverseThrottledError, String(err));
      assert.equal(err.retryAfterMs, 600_000);
      assert.equal(fake.requests.length, sent + 1, 'one request, no waiting for ten minutes');
      assert.equal(governor.pauses.at(-1), 600_000, 'the governor still holds every call for the Retry-After');
    });
  });

  describe('$batch', () => {
    it('commits a change set with Content-ID references and returns results in call order', async () => {
      const results = await client.batch([
        { method: 'GET', path: 'accounts?$select=name' },
        { method: 'POST', path: 'accounts', body: { name: 'Batch parent' } },
        { method: 'POST', path: 'contacts', body: { lastname: 'Child', 'parentcustomerid_account@odata.bind': '$2' } },
      ]);
      assert.equal(results.length, 3);
      assert.deepEqual(
        results.map((r) => [r.contentId, r.status]),
        [
          ['1', 200],
          ['2', 204],
          ['3', 204],
        ],
      );
      assert.match(results[1]?.id ?? '', /^[0-9a-f-]{36}$/);
      assert.match(results[2]?.id ?? '', /^[0-9a-f-]{36}$/);
      assert.ok(Array.isArray((results[0]?.body as { value?: unknown }).value));
      const sent = fake.requests[0];
      assert.ok(sent?.url.endsWith('/$batch'));
      assert.match(sent?.headers['content-type'] ?? '', /^multipart\/mixed; boundary=batch_/);
      assert.match(sent?.body ?? '', /Content-Type: multipart\/mixed; boundary=changeset_/);
      assert.match(
        sent?.body ?? '',
        /POST https:\/\/127\.0\.0\.1:\d+\/api\/data\/v9\.2\/accounts\?tag=qbsync HTTP\/1\.1/,
      );
      assert.match(
        sent?.body ?? '',
        /GET https:\/\/127\.0\.0\.1:\d+\/api\/data\/v9\.2\/accounts\?\$select=name HTTP\/1\.1/,
      );
      // The GET must not sit inside the change set: it comes after the change set closes.
      const body = sent?.body ?? '';
      assert.ok(body.indexOf('GET ') > body.search(/--changeset_[^\r\n]+--/));
    });

    it('rolls the whole change set back when one operation fails, and throws its error', async () => {
      await client.upsertByKey(
        'accounts',
        { qbsync_companyfile: 'east', qbsync_qblistid: 'dup' },
        { name: 'existing' },
      );
      const before = fake.tables.get('accounts')?.size;
      await assert.rejects(
        client.batch([
          { method: 'POST', path: 'accounts', body: { name: 'would be rolled back' } },
          {
            method: 'POST',
            path: 'accounts',
            body: { name: 'dup', qbsync_companyfile: 'east', qbsync_qblistid: 'dup' },
          },
        ]),
        DataverseDuplicateKeyError,
      );
      assert.equal(fake.tables.get('accounts')?.size, before);
    });

    it('reports failures per operation when not atomic', async () => {
      const results = await client.batch(
        [
          { method: 'POST', path: 'accounts', body: { name: 'ok' } },
          {
            method: 'PATCH',
            path: 'accounts(00000000-0000-0000-0000-00000000beef)',
            body: { name: 'x' },
            headers: { 'If-Match': '*' },
          },
        ],
        { atomic: false },
      );
      assert.equal(results[0]?.status, 204);
      assert.equal(results[0]?.error, undefined);
      assert.equal(results[1]?.status, 404);
      assert.ok(results[1]?.error instanceof DataverseNotFoundError);
      assert.equal(fake.tables.get('accounts')?.size, 1);
    });

    it('rejects empty and oversized batches without sending', async () => {
      assert.deepEqual(await client.batch([]), []);
      const many = Array.from({ length: 1001 }, () => ({ method: 'GET' as const, path: 'accounts' }));
      await assert.rejects(client.batch(many), RangeError);
      assert.equal(fake.requests.length, 0);
    });
  });
});
