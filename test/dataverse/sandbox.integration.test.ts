import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { startDataverseSandbox, type DataverseSandbox } from '../../src/sandbox/dataverse/server';
import {
  DataverseAuthError,
  DataverseClient,
  DataverseConcurrencyError,
  DataverseDuplicateKeyError,
  DataverseTokenProvider,
  DataverseValidationError,
  ProductState,
  RateGovernor,
  ensurePriceListItem,
  provisionDataverse,
  publishProduct,
  qbListKey,
  type DataverseRow,
  type ProvisioningReport,
} from '../../src/dataverse';

/** Records, in client time, every start and every Retry-After the governor is told about. */
class RecordingGovernor extends RateGovernor {
  /** One ordered log, so "after a 429" means after it in real order, not merely in a later millisecond. */
  readonly events: Array<{ kind: 'start' | 'throttled'; at: number; retryAfterMs: number }> = [];
  override run<T>(fn: () => Promise<T>): Promise<T> {
    return super.run(() => {
      this.events.push({ kind: 'start', at: Date.now(), retryAfterMs: 0 });
      return fn();
    });
  }
  override throttled(retryAfterMs: number): void {
    this.events.push({ kind: 'throttled', at: Date.now(), retryAfterMs });
    super.throttled(retryAfterMs);
  }
}

const quiet = pino({ level: 'silent' });

const EXPECTED_ITEMS = [
  'account.key.qbsync_sourcekey',
  'account.qbsync_companyfile',
  'account.qbsync_qbdeletedon',
  'account.qbsync_qblistid',
  'account.qbsync_syncbase',
  'contact.key.qbsync_sourcekey',
  'contact.qbsync_companyfile',
  'contact.qbsync_qblistid',
  'invoice.qbsync_balance',
  'invoice.qbsync_companyfile',
  'invoice.qbsync_invoicenumber',
  'invoice.qbsync_invoicestatus',
  'invoice.qbsync_qbtxnid',
  'opportunity.qbsync_companyfile',
  'opportunity.qbsync_estimatenumber',
  'opportunity.qbsync_estimatetxnid',
  'product.key.qbsync_sourcekey',
  'product.qbsync_companyfile',
  'product.qbsync_qbdeletedon',
  'product.qbsync_qblistid',
  'product.qbsync_syncbase',
  'salesorder.qbsync_balance',
  'salesorder.qbsync_companyfile',
  'salesorder.qbsync_invoicenumber',
  'salesorder.qbsync_invoicestatus',
  'salesorder.qbsync_qbtxnid',
  'salesorder.qbsync_salesordernumber',
  'salesorder.qbsync_salesordertxnid',
];

describe('Dataverse client against the Dataverse sandbox', () => {
  let sandbox: DataverseSandbox;
  let dataDir: string;
  let firstRun: ProvisioningReport;
  const closers: Array<() => Promise<void> | void> = [];

  const connect = (
    overrides: { clientSecret?: string; connection?: string; governor?: RateGovernor } = {},
  ): { client: DataverseClient; tokens: DataverseTokenProvider } => {
    const connection = overrides.connection ?? 'east';
    const tokens = new DataverseTokenProvider({
      connection,
      tenantId: sandbox.tenantId,
      clientId: sandbox.clientId,
      clientSecret: overrides.clientSecret ?? sandbox.clientSecret,
      environmentUrl: sandbox.environmentUrl,
      authority: sandbox.authority,
      caPem: sandbox.caCertPem,
    });
    const client = new DataverseClient({
      connection,
      webApiUrl: sandbox.webApiUrl,
      tokenProvider: tokens,
      caPem: sandbox.caCertPem,
      governor: overrides.governor ?? new RateGovernor(),
    });
    closers.push(
      () => tokens.close(),
      () => client.close(),
    );
    return { client, tokens };
  };

  before(async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'dataverse-client-it-'));
    sandbox = await startDataverseSandbox({ port: 0, dataDir, seed: false, keyActivationDelayMs: 50 });
    const { client } = connect();
    firstRun = await provisionDataverse(client, { log: quiet });
    // Writes by key need the alternate keys Active.
    for (let i = 0; i < 50; i += 1) {
      const report = await provisionDataverse(client, { log: quiet });
      if (Object.keys(report.keysNotActive).length === 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }
  });
  after(async () => {
    for (const close of closers) await close();
    await sandbox.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('provisioning a second time creates nothing and sees every item', async () => {
    const { client } = connect();
    // The first run (in before) created everything; the second finds everything.
    assert.deepEqual([...firstRun.created].sort(), EXPECTED_ITEMS);
    assert.deepEqual(firstRun.existing, []);
    const report = await provisionDataverse(client, { log: quiet });
    assert.deepEqual(report.created, []);
    assert.deepEqual(report.keysNotActive, {});
    assert.deepEqual([...report.existing].sort(), EXPECTED_ITEMS);
    assert.equal(typeof report.createProductsWithoutParentInActiveState, 'boolean');
  });

  it('reuses a cached token and renews it once it enters the renewal window', async () => {
    // 302 s of life: msal treats the token as stale 300 s before expiry, i.e. after ~2 s.
    sandbox.setTokenLifetime(302);
    try {
      const { client } = connect({ connection: 'token-test' });
      const before = sandbox.stats().tokensIssued;
      await client.retrieve('accounts', '00000000-0000-0000-0000-000000000001');
      await client.retrieve('accounts', '00000000-0000-0000-0000-000000000002');
      assert.equal(sandbox.stats().tokensIssued - before, 1, 'second call served from the cache');
      await new Promise((r) => setTimeout(r, 3200));
      await client.retrieve('accounts', '00000000-0000-0000-0000-000000000003');
      assert.equal(sandbox.stats().tokensIssued - before, 2, 'renewed after entering the window');
    } finally {
      sandbox.setTokenLifetime(3600);
    }
  });

  it('a wrong secret gives an auth error naming the connection, never the secret', async () => {
    const wrong = 'definitely-not-the-secret-42';
    const { client } = connect({ clientSecret: wrong, connection: 'west-wrong-secret' });
    const err = await client.retrieve('accounts', '00000000-0000-0000-0000-000000000001').catch((e: unknown) => e);
    assert.ok(err instanceof DataverseAuthError, String(err));
    assert.match(err.message, /west-wrong-secret/);
    assert.ok(err.message.includes(sandbox.authority), err.message);
    assert.ok(!err.message.includes(wrong));
    assert.ok(!err.message.includes(sandbox.clientSecret));
  });

  it('upserting the same key twice leaves one row', async () => {
    const { client } = connect();
    const key = qbListKey('east', '80000001-1700000000');
    const a = await client.upsertByKey('accounts', key, { name: "O'Brien Supply" }, { returnRepresentation: true });
    const b = await client.upsertByKey('accounts', key, { name: "O'Brien Supply Co" }, { returnRepresentation: true });
    assert.equal(a.created, true);
    assert.equal(b.created, false);
    assert.equal(a.id, b.id);
    const rows: DataverseRow[] = [];
    for await (const row of client.queryRows('accounts', {
      select: ['name', 'qbsync_qblistid'],
      filter: "qbsync_qblistid eq '80000001-1700000000'",
    })) {
      rows.push(row);
    }
    assert.equal(rows.length, 1);
    assert.equal(rows[0]?.name, "O'Brien Supply Co");
    const sameKeyOtherFile = await client.upsertByKey('accounts', qbListKey('west', '80000001-1700000000'), {
      name: 'West twin',
    });
    assert.notEqual(sameKeyOtherFile.id, a.id, 'the company file is part of the key');
  });

  it('a stale ETag gives 412, and updateWithRetry re-reads and succeeds', async () => {
    const { client } = connect();
    const { id } = await client.create('accounts', { name: 'Concurrency Ltd', telephone1: '555-0100' });
    assert.ok(id);
    const stale = await client.retrieve('accounts', id, { select: ['name'] });
    await client.update('accounts', id, { telephone1: '555-0101' });
    await assert.rejects(
      client.update('accounts', id, { name: 'lost update' }, { etag: String(stale?.['@odata.etag']) }),
      DataverseConcurrencyError,
    );

    const table = sandbox.records.tableBySet('accounts');
    let calls = 0;
    const result = await client.updateWithRetry('accounts', id, (row) => {
      calls += 1;
      if (calls === 1) {
        // Another writer lands between our read and our PATCH.
        const existing = sandbox.records.store.get(table.logicalName, id);
        assert.ok(existing);
        sandbox.records.update(table, existing, { telephone1: '555-0199' }, { events: [] });
      }
      return row.name === 'Concurrency Plc' ? null : { name: 'Concurrency Plc' };
    });
    assert.deepEqual(result, { changed: true, attempts: 2 });
    const final = await client.retrieve('accounts', id, { select: ['name', 'telephone1'] });
    assert.deepEqual(
      { name: final?.name, telephone1: final?.telephone1 },
      { name: 'Concurrency Plc', telephone1: '555-0199' },
    );
  });

  it('pages through a 2,500-row table reading every row exactly once', async () => {
    const { client } = connect();
    const table = sandbox.records.tableBySet('contacts');
    for (let i = 0; i < 2500; i += 1) {
      sandbox.records.create(
        table,
        { lastname: `Paged ${String(i).padStart(4, '0')}`, qbsync_companyfile: 'paging' },
        { events: [] },
      );
    }
    const seen = new Map<string, number>();
    let pages = 0;
    for await (const page of client.query('contacts', {
      select: ['contactid', 'lastname'],
      filter: "qbsync_companyfile eq 'paging'",
      pageSize: 1000,
    })) {
      pages += 1;
      for (const row of page) seen.set(String(row.contactid), (seen.get(String(row.contactid)) ?? 0) + 1);
    }
    assert.equal(pages, 3);
    assert.equal(seen.size, 2500);
    assert.ok(
      [...seen.values()].every((n) => n === 1),
      'no row twice',
    );
  });

  it('commits a $batch change set with Content-ID references', async () => {
    const { client } = connect();
    const results = await client.batch([
      { method: 'POST', path: 'accounts', body: { name: 'Batch Parent' } },
      {
        method: 'POST',
        path: 'contacts',
        body: { lastname: 'Batch Child', 'parentcustomerid_account@odata.bind': '$1' },
      },
      { method: 'GET', path: "accounts?$select=name&$filter=name eq 'Batch Parent'" },
    ]);
    assert.deepEqual(
      results.map((r) => r.status),
      [204, 204, 200],
    );
    const parentId = results[0]?.id;
    const childId = results[1]?.id;
    assert.ok(parentId && childId);
    const child = await client.retrieve('contacts', childId, { select: ['_parentcustomerid_value'] });
    assert.equal(child?._parentcustomerid_value, parentId);
  });

  it('a failed $batch change set throws its operation error with the Dataverse code, and commits nothing', async () => {
    const { client } = connect();
    await client.upsertByKey('accounts', qbListKey('east', '80000B01-1700000000'), { name: 'Batch existing' });
    const err = await client
      .batch([
        { method: 'POST', path: 'accounts', body: { name: 'Batch rolled back' } },
        {
          method: 'POST',
          path: 'accounts',
          body: { name: 'Batch duplicate', qbsync_companyfile: 'east', qbsync_qblistid: '80000B01-1700000000' },
        },
      ])
      .catch((e: unknown) => e);
    assert.ok(err instanceof DataverseDuplicateKeyError, String(err));
    assert.equal(err.code, '0x80060892');
    assert.equal(err.path, 'accounts');
    const rolledBack = await client.query('accounts', { filter: "name eq 'Batch rolled back'" }).next();
    assert.deepEqual(rolledBack.value, []);

    const results = await client.batch(
      [
        { method: 'POST', path: 'accounts', body: { name: 'Batch alone 1' } },
        { method: 'POST', path: 'accounts', body: { name: 'x'.repeat(200) } },
        { method: 'POST', path: 'accounts', body: { name: 'Batch alone 3' } },
      ],
      { atomic: false },
    );
    assert.deepEqual(
      results.map((r) => r.status),
      [204, 400, 204],
    );
    assert.ok(results[1]?.error instanceof DataverseValidationError);
    assert.equal(results[1]?.error?.code, '0x80044331');
  });

  it('publishes a Draft product and prices it on a price list once', async () => {
    const { client } = connect();
    const schedule = await client.create('uomschedules', { name: 'Unit Group IT', baseuomname: 'Each' });
    assert.ok(schedule.id);
    const uoms: DataverseRow[] = [];
    for await (const row of client.queryRows('uoms', {
      select: ['uomid'],
      filter: `_uomscheduleid_value eq ${schedule.id}`,
    })) {
      uoms.push(row);
    }
    // Dynamics creates the base unit with the group; the sandbox may not, so make one when it is missing.
    const uomId =
      uoms[0] !== undefined
        ? String(uoms[0].uomid)
        : ((
            await client.create('uoms', {
              name: 'Each',
              quantity: 1,
              'uomscheduleid@odata.bind': `/uomschedules(${schedule.id})`,
            })
          ).id ?? '');
    assert.ok(uomId, 'a unit group comes with its base unit');
    const priceList = await client.create('pricelevels', { name: 'Retail IT' });
    assert.ok(priceList.id);
    const product = await client.upsertByKey(
      'products',
      qbListKey('east', '80000055-1700000000'),
      {
        name: 'Widget',
        productnumber: 'W-IT-1',
        'defaultuomscheduleid@odata.bind': `/uomschedules(${schedule.id})`,
        'defaultuomid@odata.bind': `/uoms(${uomId})`,
      },
      { returnRepresentation: true },
    );
    assert.ok(product.id);
    const published = await publishProduct(client, product.id);
    assert.ok(
      [ProductState.Draft.statecode, ProductState.Active.statecode].includes(published.previousState as 0 | 2),
      `unexpected initial state ${published.previousState}`,
    );
    assert.equal(published.changed, published.previousState === ProductState.Draft.statecode);
    const live = await client.retrieve('products', product.id, { select: ['statecode', 'statuscode'] });
    assert.deepEqual({ statecode: live?.statecode, statuscode: live?.statuscode }, ProductState.Active);
    const again = await publishProduct(client, product.id);
    assert.deepEqual(again, { changed: false, previousState: ProductState.Active.statecode });

    const item = { priceLevelId: priceList.id, productId: product.id, uomId, amount: '19.99' };
    const first = await ensurePriceListItem(client, item);
    const second = await ensurePriceListItem(client, item);
    const third = await ensurePriceListItem(client, { ...item, amount: '21.50' });
    assert.equal(first.outcome, 'created');
    assert.deepEqual(second, { id: first.id, outcome: 'unchanged' });
    assert.deepEqual(third, { id: first.id, outcome: 'updated' });
    const row = await client.retrieve('productpricelevels', first.id, { select: ['amount'] });
    assert.equal(row?.amount, 21.5);
  });

  it('a 429 storm completes every write, and no request starts before Retry-After has passed', async () => {
    sandbox.setLimits({ requestsPerWindow: 15, windowSeconds: 1, concurrent: 52 });
    try {
      const governor = new RecordingGovernor({ maxConcurrent: 8 });
      const { client } = connect({ governor, connection: 'storm' });
      const throttledBefore = sandbox.stats().throttled;
      const writes = Array.from({ length: 60 }, (_, i) =>
        client.upsertByKey('accounts', qbListKey('storm', `8000${String(i).padStart(4, '0')}-1700000000`), {
          name: `Storm ${i}`,
        }),
      );
      const results = await Promise.allSettled(writes);
      const failures = results.filter((r) => r.status === 'rejected');
      assert.deepEqual(failures, [], 'every write completed');
      assert.ok(sandbox.stats().throttled > throttledBefore, 'the sandbox did throttle');
      const events = governor.events;
      assert.ok(events.some((e) => e.kind === 'throttled'));
      events.forEach((t, i) => {
        if (t.kind !== 'throttled') return;
        for (const s of events.slice(i + 1).filter((e) => e.kind === 'start')) {
          assert.ok(
            s.at - t.at >= t.retryAfterMs,
            `request started ${s.at - t.at} ms after a 429 asking for ${t.retryAfterMs} ms`,
          );
        }
      });
      let stored = 0;
      for await (const _row of client.queryRows('accounts', {
        select: ['accountid'],
        filter: "qbsync_companyfile eq 'storm'",
      })) {
        stored += 1;
      }
      assert.equal(stored, 60);
    } finally {
      sandbox.setLimits({ requestsPerWindow: 6000, windowSeconds: 300, concurrent: 52 });
    }
  });
});
