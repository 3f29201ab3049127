import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { Client, Connection } from '@temporalio/client';
import pino from 'pino';
import { createActivities } from '../../src/activities';
import type { DataverseActivities } from '../../src/activities/dataverse';
import type { PartyToDataverseInput, ToDataverseResult } from '../../src/activities/dataverseListRecords';
import type { DataverseClient } from '../../src/dataverse/client';
import type { DataverseConnection } from '../../src/dataverse/connect';
import { SalesOrderStateCode } from '../../src/dataverse/entities';
import { provisionDataverse } from '../../src/dataverse/provisioning';
import { customerContact, customerToAccount, DEFAULT_OWNERSHIP, itemToProduct } from '../../src/mapping';
import type { SyncedItem } from '../../src/mapping/itemProduct';
import type { CustomerRet } from '../../src/qbxml/requests';
import { DEMO_PRICE_LIST_ID, seedGeneratedSalesOrders } from '../../src/sandbox/dataverse/demoOrganisation';
import { DataverseFaults } from '../../src/sandbox/dataverse/faults';
import { startDataverseSandbox, type DataverseSandbox } from '../../src/sandbox/dataverse/server';
import { choices, value } from '../mapping/mappingResults';
import { calls, runAttempt, runWithRetries } from '../support/activityAttempts';
import { connectToSandbox } from '../support/dataverseSandbox';

// Issue 15, item 3: the reads of concurrent record activities (a row by key, an unpaired account by name) travel in
// one query per page of values, and new products in shared UpsertMultiple calls; each activity still gets its own
// row, and a lost answer or a refused row loses nothing and doubles nothing.
describe('record activities read their rows in shared queries', () => {
  let dir: string;
  let sandbox: DataverseSandbox;
  let connection: DataverseConnection;
  const faults = new DataverseFaults();
  /** Values per query and rows per call: a call leaves when this many have gathered, so grouping is not timing. */
  const ROWS = 6;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'qbsync-bulk-reads-'));
    sandbox = await startDataverseSandbox({ port: 0, dataDir: dir, seed: true, faults, keyActivationDelayMs: 0 });
    connection = connectToSandbox(sandbox);
    await provisionDataverse(connection.client, { log: pino({ level: 'silent' }) });
  });

  after(async () => {
    await connection.close();
    await sandbox.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function activities(bulk: boolean): DataverseActivities {
    // Never dialled: these activities reach only Dataverse.
    const temporal = new Client({ connection: Connection.lazy({ address: '127.0.0.1:7233' }) });
    const all = createActivities({
      client: temporal,
      taskQueue: 'bulk-reads-test',
      dataverse: connection.client,
      // Not all of a test's records reach their price-list item, update or publishing read (a refused one stops
      // before): those leave on time; the first read and the create of all of them fill a call and leave at once.
      bulkWrites: bulk && { maxRows: ROWS, gatherMs: 2_000 },
      bulkReads: bulk && { maxValues: ROWS, gatherMs: 2_000 },
      bulkUpdates: bulk && { maxRows: ROWS, gatherMs: 200 },
    });
    assert.ok('syncItemToDataverse' in all);
    return all as unknown as DataverseActivities;
  }

  function customerInput(listId: string, name: string, phone = '555-0100'): PartyToDataverseInput {
    const record: CustomerRet = {
      kind: 'Customer',
      listId,
      editSequence: '1',
      name,
      fullName: name,
      phone,
      timeModified: '2026-12-01T10:00:00Z',
    };
    const ctx = { companyFile: 'east', choices };
    return {
      desired: value(customerToAccount(record, ctx)),
      contact: value(customerContact(record, ctx)),
      qbModifiedAt: record.timeModified!,
      ownership: DEFAULT_OWNERSHIP,
      returnsToQuickBooks: true,
    };
  }

  function itemInput(listId: string, name: string, price: string) {
    const item: SyncedItem = {
      kind: 'ItemService',
      listId,
      editSequence: '1',
      name,
      fullName: name,
      isActive: true,
      salesOrPurchase: { desc: `${name} service`, price },
      timeModified: '2026-12-01T10:00:00Z',
    } as SyncedItem;
    return {
      desired: value(itemToProduct(item, { companyFile: 'east' })),
      qbModifiedAt: '2026-12-01T10:00:00Z',
      ownership: DEFAULT_OWNERSHIP,
      returnsToQuickBooks: true,
    };
  }

  const table = (name: string) => sandbox.records.tableBySet(name);
  const rowsWhere = (entitySet: string, match: (row: Record<string, unknown>) => boolean) =>
    sandbox.records.store.all(table(entitySet).logicalName).filter(match);
  const productsOf = (listId: string) =>
    rowsWhere('products', (r) => r.qbsync_companyfile === 'east' && r.qbsync_qblistid === listId);
  const priceListItemsOf = (productId: string) =>
    rowsWhere('productpricelevels', (r) => (r.productid as { id?: string } | undefined)?.id === productId);

  it('items of concurrent activities: one query reads them, one UpsertMultiple creates them, each gets its product', async () => {
    const { syncItemToDataverse } = activities(true);
    const inputs = Array.from({ length: ROWS }, (_, i) => itemInput(`8000D${i}-1700000000`, `Bulk Item ${i}`, '12.50'));
    const before = sandbox.stats();

    const results = await Promise.all(inputs.map((input) => runAttempt(syncItemToDataverse, input)));

    const after = sandbox.stats();
    assert.equal(calls(before, after, 'products/UpsertMultiple'), 1, 'the products did not travel in one call');
    // One query for all the keys, one UpsertMultiple, the products table's definition and the catalog (price list,
    // unit group, unit) once; then the price-list items (no look: the products are new) in one shared $batch; the
    // reads before publishing travel in one shared query and the publishing updates in one shared call. One request a
    // step, as before, was 8 a product.
    const kinds = (kind: string) => (after.requestsByKind[kind] ?? 0) - (before.requestsByKind[kind] ?? 0);
    assert.equal(kinds('GET products()'), 0, 'a product was read for publishing by a request of its own');
    assert.equal(kinds('GET products?'), 2, 'the keys and the products to publish were not read in two queries');
    assert.equal(kinds('POST productpricelevels'), 0, 'a price-list item was created by a request of its own');
    const publishing = after.requests - before.requests - (1 + 1 + 1 + 3 + 1 + 1);
    assert.ok(publishing >= 1 && publishing <= 2, `${publishing} requests published ${ROWS} products`);
    inputs.forEach((input, i) => {
      const [product, ...others] = productsOf(input.desired.qbsync_qblistid);
      assert.ok(product, `product ${i} was not written`);
      assert.equal(others.length, 0);
      assert.equal(results[i]!.outcome, 'created');
      assert.equal(results[i]!.rowId, product.productid, `activity ${i} got another row's id`);
      assert.equal(product.statecode, 0, 'published');
      assert.deepEqual(product.pricelevelid, { table: 'pricelevel', id: DEMO_PRICE_LIST_ID });
      assert.equal(priceListItemsOf(String(product.productid)).length, 1);
    });
  });

  it('a lost answer of the shared product call doubles nothing: the retries find the products and price them once', async () => {
    const { syncItemToDataverse } = activities(true);
    const inputs = Array.from({ length: ROWS }, (_, i) => itemInput(`8000E${i}-1700000000`, `Lost Item ${i}`, '7.25'));
    const before = sandbox.stats();
    faults.loseAnswersAfterCommit(1);

    const results = await runWithRetries(syncItemToDataverse, inputs);

    assert.equal(faults.injected.answerLostAfterCommit, 1, 'the UpsertMultiple answer was not lost');
    assert.ok(calls(before, sandbox.stats(), 'products/UpsertMultiple') >= 1);
    inputs.forEach((input, i) => {
      const found = productsOf(input.desired.qbsync_qblistid);
      assert.equal(found.length, 1, `product ${i} is there ${found.length} times`);
      assert.equal(results[i]!.rowId, found[0]!.productid);
      assert.equal(priceListItemsOf(String(found[0]!.productid)).length, 1, `product ${i} has a second price`);
      assert.equal(found[0]!.statecode, 0, 'published');
    });
  });

  it('a product Dataverse refuses fails its record alone with Dataverse reason; the others are written', async () => {
    const { syncItemToDataverse } = activities(true);
    const bad = 2;
    const inputs = Array.from({ length: ROWS }, (_, i) => {
      const input = itemInput(`8000F${i}-1700000000`, `Split Item ${i}`, '3.00');
      // A product type Dynamics does not have: Dataverse refuses the row, and the call is all or nothing.
      return i === bad ? { ...input, desired: { ...input.desired, producttypecode: 999_999 } } : input;
    });
    const before = sandbox.stats();

    const settled = await Promise.allSettled(inputs.map((input) => runAttempt(syncItemToDataverse, input)));

    settled.forEach((outcome, i) => {
      const listId = inputs[i]!.desired.qbsync_qblistid;
      if (i === bad) {
        assert.equal(outcome.status, 'rejected');
        const failure = (outcome as PromiseRejectedResult).reason as unknown;
        assert.ok(failure instanceof ApplicationFailure, `not an ApplicationFailure: ${String(failure)}`);
        assert.equal(failure.nonRetryable, true);
        assert.match(failure.message, /creating the products row: .*valid range/);
        assert.equal(productsOf(listId).length, 0, 'the refused row was written');
        return;
      }
      assert.equal(outcome.status, 'fulfilled', `record ${i} failed with the bad row`);
      const [product] = productsOf(listId);
      assert.equal((outcome as PromiseFulfilledResult<ToDataverseResult>).value.rowId, product?.productid);
    });
    // Halving until the culprit is alone: 6, then 3 + 3, then 2 + 1 around it, then 1 + 1.
    assert.ok(calls(before, sandbox.stats(), 'products/UpsertMultiple') >= 4);
  });

  /** Activities whose bulk readers count their queries by table (the writers leave after 50 ms: not counted). */
  function countingActivities(): { sync: DataverseActivities['syncPartyToDataverse']; queries: Map<string, number> } {
    const queries = new Map<string, number>();
    const counting = Object.create(connection.client) as DataverseClient;
    counting.query = (entitySet, options) => {
      queries.set(entitySet, (queries.get(entitySet) ?? 0) + 1);
      return connection.client.query(entitySet, options);
    };
    const temporal = new Client({ connection: Connection.lazy({ address: '127.0.0.1:7233' }) });
    const all = createActivities({
      client: temporal,
      taskQueue: 'bulk-reads-test',
      dataverse: counting,
      bulkWrites: { gatherMs: 50 },
      bulkReads: { maxValues: ROWS, gatherMs: 2_000 },
    });
    return { sync: (all as unknown as DataverseActivities).syncPartyToDataverse, queries };
  }

  it('rows already synced are read in one query and each updated', async () => {
    const per = activities(false).syncPartyToDataverse;
    const listIds = Array.from({ length: ROWS }, (_, i) => `8000G${i}-1700000000`);
    const first = await Promise.all(listIds.map((id, i) => runAttempt(per, customerInput(id, `Kept Buyer ${i}`))));
    const { sync, queries } = countingActivities();

    // The phone changed in QuickBooks.
    const results = await Promise.all(
      listIds.map((id, i) => runAttempt(sync, customerInput(id, `Kept Buyer ${i}`, `555-02${i}0`))),
    );

    assert.deepEqual(Object.fromEntries(queries), { accounts: 1 }, 'the rows were not read in one query');
    results.forEach((result, i) => {
      assert.equal(result.rowId, first[i]!.rowId, `activity ${i} got another row`);
      assert.equal(result.outcome, 'updated');
      const [row, ...others] = rowsWhere('accounts', (r) => r.qbsync_qblistid === listIds[i]);
      assert.equal(others.length, 0);
      assert.equal(row!.telephone1, `555-02${i}0`);
    });
  });

  it('unpaired accounts are looked for by name in one query: a lone namesake is adopted whatever its case, two never', async () => {
    // Entered in Dynamics before the connector ran: one account for one customer, two with another's name.
    const lone = await connection.client.create('accounts', { name: 'Lone Namesake Ltd', customertypecode: 3 });
    await connection.client.create('accounts', { name: 'Twin Namesake Ltd', customertypecode: 3 });
    await connection.client.create('accounts', { name: 'Twin Namesake Ltd', customertypecode: 3 });
    const inputs = [
      customerInput('8000H0-1700000000', 'LONE NAMESAKE LTD'),
      customerInput('8000H1-1700000000', 'Twin Namesake Ltd'),
      ...Array.from({ length: ROWS - 2 }, (_, i) => customerInput(`8000H${i + 2}-1700000000`, `Fresh Buyer ${i}`)),
    ];
    const { sync, queries } = countingActivities();

    const results = await Promise.all(inputs.map((input) => runAttempt(sync, input)));

    // One by key (none found), one by name.
    assert.deepEqual(Object.fromEntries(queries), { accounts: 2 });
    assert.equal(results[0]!.rowId, lone.id, 'the lone namesake was not adopted');
    const twins = rowsWhere('accounts', (r) => String(r.name).toLowerCase() === 'twin namesake ltd');
    assert.equal(twins.length, 3, 'a twin was adopted instead of a new account made');
    assert.equal(twins.filter((r) => r.qbsync_qblistid === '8000H1-1700000000').length, 1);
    for (const [i, input] of inputs.entries()) {
      const rows = rowsWhere('accounts', (r) => r.qbsync_qblistid === input.desired.qbsync_qblistid);
      assert.equal(rows.length, 1, `customer ${i} has ${rows.length} accounts`);
      assert.equal(results[i]!.rowId, rows[0]!.accountid);
    }
  });

  it('orders of concurrent runs are read with their lines, customers and products in shared queries, as one by one', async () => {
    const orderIds = seedGeneratedSalesOrders(sandbox, ROWS, 5, 7);
    const perRow = activities(false);
    const expected = [];
    for (const orderId of orderIds) expected.push(await perRow.readSalesOrderForInvoice({ orderId }));
    const temporal = new Client({ connection: Connection.lazy({ address: '127.0.0.1:7233' }) });
    const bulk = createActivities({
      client: temporal,
      taskQueue: 'bulk-reads-test',
      dataverse: connection.client,
      bulkReads: { gatherMs: 200 },
    }) as unknown as DataverseActivities;
    const before = sandbox.stats();

    const [read, versions] = await Promise.all([
      Promise.all(orderIds.map((orderId) => runAttempt(bulk.readSalesOrderForInvoice, { orderId }))),
      Promise.all(orderIds.map((orderId) => runAttempt(bulk.readSalesOrderVersion, { orderId }))),
    ]);

    const requests = sandbox.stats().requests - before.requests;
    assert.deepEqual(read, expected, 'an order read in a shared query differs from its own read');
    assert.deepEqual(
      versions,
      expected.map((e) => e && { order: e.order, lines: e.lines }),
    );
    assert.ok(expected.every((e) => e && e.lines.length === 5 && e.customer !== null));
    // One by one: 4 requests an order for its invoice, 2 for a version. Together: a query per table and page of ids.
    assert.ok(requests < 6 * ROWS, `${requests} requests for ${ROWS} orders read twice`);
    const missing = await runAttempt(bulk.readSalesOrderForInvoice, {
      orderId: '0f0e0d0c-0b0a-4909-8807-060504030201',
    });
    assert.equal(missing, null);

    // The invoices onto the orders: each update starts from a read shared with the other orders'.
    const recorded = await Promise.all(
      orderIds.map((orderId, i) =>
        runAttempt(bulk.recordInvoiceOnOrder, {
          orderId,
          txnId: `7E-${i}`,
          invoiceNumber: `0100${i}`,
          balance: '10.00',
          paid: false,
        }),
      ),
    );
    orderIds.forEach((orderId, i) => {
      assert.deepEqual(recorded[i], { changed: true, state: SalesOrderStateCode.Invoiced });
      const order = sandbox.records.store.get('salesorder', orderId);
      assert.equal(order?.qbsync_qbtxnid, `7E-${i}`);
      assert.equal(order?.qbsync_invoicenumber, `0100${i}`);
      assert.equal(order?.statecode, SalesOrderStateCode.Invoiced);
    });
    // Run again (a lost answer's retry): nothing left to write.
    const again = await runAttempt(bulk.recordInvoiceOnOrder, {
      orderId: orderIds[0]!,
      txnId: '7E-0',
      invoiceNumber: '01000',
      balance: '10.00',
      paid: false,
    });
    assert.deepEqual(again, { changed: false, state: SalesOrderStateCode.Invoiced });
  });
});
