import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { MockActivityEnvironment } from '@temporalio/testing';
import pino from 'pino';
import { createActivities } from '../../src/activities';
import { createDataverseSalesOrderActivities } from '../../src/activities/dataverseSalesOrders';
import type { DataverseConnection } from '../../src/dataverse/connect';
import { provisionDataverse } from '../../src/dataverse/provisioning';
import { demoAccountId } from '../../src/sandbox/dataverse/demoOrganisation';
import { DataverseFaults } from '../../src/sandbox/dataverse/faults';
import { startDataverseSandbox, type DataverseSandbox } from '../../src/sandbox/dataverse/server';
import { runWithRetries } from '../support/activityAttempts';
import { connectToSandbox } from '../support/dataverseSandbox';

/** Loses the answer of the next write only, once armed, after it committed. */
class LoseNextAnswer extends DataverseFaults {
  armed = false;

  override loseAnswer(method: string, tag: string | undefined): boolean {
    if (!this.armed || method === 'GET' || tag === undefined) return false;
    this.armed = false;
    return true;
  }
}

type Activities = ReturnType<typeof createDataverseSalesOrderActivities>;

// Issue 13 item 1: an invoiced order is read-only in Dataverse, so the QuickBooks invoice lives in Dynamics as an
// invoice row made from its order (ConvertSalesOrderToInvoice), and payments and deletions go to that row.
describe('the QuickBooks invoice as the order’s invoice row (activities against the Dataverse sandbox)', () => {
  let dir: string;
  let sandbox: DataverseSandbox;
  let connection: DataverseConnection;
  let activities: Activities;
  const faults = new LoseNextAnswer();

  const onOrder = (input: Parameters<Activities['recordInvoiceOnOrder']>[0]) =>
    new MockActivityEnvironment().run(activities.recordInvoiceOnOrder, input);
  const payment = (input: Parameters<Activities['recordInvoicePayment']>[0]): Promise<{ changed: boolean }> =>
    new MockActivityEnvironment().run(activities.recordInvoicePayment, input);
  const deletion = (
    input: Parameters<Activities['recordInvoiceDeleted']>[0],
  ): Promise<{ orderId: string | null; changed: boolean }> =>
    new MockActivityEnvironment().run(activities.recordInvoiceDeleted, input);

  const newOrder = async (name: string): Promise<string> => {
    const orderId = randomUUID();
    await connection.client.create('salesorders', {
      salesorderid: orderId,
      name,
      'customerid_account@odata.bind': `/accounts(${demoAccountId('Blue Yonder Airlines')})`,
    });
    await connection.client.create('salesorderdetails', {
      'salesorderid@odata.bind': `/salesorders(${orderId})`,
      isproductoverridden: true,
      productdescription: 'Cabin refit survey',
      quantity: 2,
      priceperunit: 250,
    });
    return orderId;
  };

  const invoiceRowsOf = async (orderId: string): Promise<Record<string, unknown>[]> => {
    const rows = [];
    for await (const row of connection.client.queryRows('invoices', {
      select: [
        'invoiceid',
        'statecode',
        'statuscode',
        'totalamount',
        'qbsync_companyfile',
        'qbsync_qbtxnid',
        'qbsync_invoicenumber',
        'qbsync_balance',
        'qbsync_invoicestatus',
      ],
      filter: `_salesorderid_value eq ${orderId}`,
    })) {
      rows.push(row);
    }
    return rows;
  };

  const order = async (orderId: string) =>
    connection.client.retrieve('salesorders', orderId, {
      select: ['salesorderid', 'statecode', 'statuscode', 'qbsync_qbtxnid', 'qbsync_invoicenumber', 'qbsync_balance'],
    });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'qbsync-invoice-rows-'));
    sandbox = await startDataverseSandbox({ port: 0, dataDir: dir, seed: true, faults, keyActivationDelayMs: 10 });
    connection = connectToSandbox(sandbox);
    await provisionDataverse(connection.client, { log: pino({ level: 'silent' }) });
    activities = createDataverseSalesOrderActivities({ dataverse: connection.client });
  });

  after(async () => {
    await connection?.close();
    await sandbox?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('records the invoice as an invoice row with its number and TxnID, then the order Invoiced; a replay writes nothing', async () => {
    const orderId = await newOrder('Invoice row order');
    const input = {
      orderId,
      txnId: 'TX-100-1',
      invoiceNumber: '1001',
      balance: '500.00',
      paid: false,
      connection: 'east',
    };
    const first = await onOrder(input);
    assert.deepEqual(first, { changed: true, state: 4 });
    const [row, ...more] = await invoiceRowsOf(orderId);
    assert.equal(more.length, 0, 'one invoice row');
    assert.equal(row?.qbsync_qbtxnid, 'TX-100-1');
    assert.equal(row?.qbsync_invoicenumber, '1001');
    assert.equal(row?.qbsync_balance, '500.00');
    assert.equal(row?.qbsync_invoicestatus, 'Open');
    assert.equal(row?.qbsync_companyfile, 'east');
    assert.equal(row?.statecode, 0);
    assert.equal(Number(row?.totalamount), 500, 'the order lines came with it');
    const invoiced = await order(orderId);
    assert.equal(invoiced?.statecode, 4);
    assert.equal(invoiced?.qbsync_qbtxnid, 'TX-100-1');
    assert.equal(invoiced?.qbsync_invoicenumber, '1001');

    const again = await onOrder(input);
    assert.deepEqual(again, { changed: false, state: 4 });
    assert.equal((await invoiceRowsOf(orderId)).length, 1);
  });

  it('a lost answer to ConvertSalesOrderToInvoice makes no second invoice row: the retry finds the converted one', async () => {
    const orderId = await newOrder('Lost answer order');
    const input = { orderId, txnId: 'TX-200-1', invoiceNumber: '1002', balance: '500.00', paid: false };
    faults.armed = true;
    await assert.rejects(onOrder(input), 'the attempt whose answer was lost fails');
    assert.equal(faults.armed, false, 'a write lost its answer');
    assert.equal((await invoiceRowsOf(orderId)).length, 1, 'the conversion committed');
    await onOrder(input);
    const rows = await invoiceRowsOf(orderId);
    assert.equal(rows.length, 1, 'still one invoice row');
    assert.equal(rows[0]?.qbsync_qbtxnid, 'TX-200-1');
    assert.equal((await order(orderId))?.statecode, 4);
  });

  it('payments go to the invoice row: balance while partly paid, then Paid (Complete); a reversed payment reactivates it', async () => {
    const orderId = await newOrder('Paid order');
    await onOrder({
      orderId,
      txnId: 'TX-300-1',
      invoiceNumber: '1003',
      balance: '500.00',
      paid: false,
    });
    const partly = await payment({ orderId, txnId: 'TX-300-1', balance: '200.00', paid: false });
    assert.equal(partly.changed, true);
    let [row] = await invoiceRowsOf(orderId);
    assert.deepEqual([row?.qbsync_balance, row?.qbsync_invoicestatus, row?.statecode], ['200.00', 'Open', 0]);

    const paid = await payment({ orderId, txnId: 'TX-300-1', balance: '0.00', paid: true });
    assert.equal(paid.changed, true);
    [row] = await invoiceRowsOf(orderId);
    assert.deepEqual(
      [row?.qbsync_balance, row?.qbsync_invoicestatus, row?.statecode, row?.statuscode],
      ['0.00', 'Paid', 2, 100001],
    );
    const same = await payment({ orderId, txnId: 'TX-300-1', balance: '0.00', paid: true });
    assert.equal(same.changed, false, 'a paid invoice seen again writes nothing');

    const reversed = await payment({ orderId, txnId: 'TX-300-1', balance: '500.00', paid: false });
    assert.equal(reversed.changed, true);
    [row] = await invoiceRowsOf(orderId);
    assert.deepEqual([row?.qbsync_balance, row?.qbsync_invoicestatus, row?.statecode], ['500.00', 'Open', 0]);
    const theOrder = await order(orderId);
    assert.equal(theOrder?.statecode, 4, 'the order stays Invoiced');
  });

  it('a deleted QuickBooks invoice cancels its invoice row (status Deleted, nothing owed), once', async () => {
    const orderId = await newOrder('Deleted invoice order');
    await onOrder({
      orderId,
      txnId: 'TX-400-1',
      invoiceNumber: '1004',
      balance: '0.00',
      paid: true,
    });
    const deleted = await deletion({ txnId: 'TX-400-1' });
    assert.deepEqual(deleted, { orderId, changed: true });
    const [row] = await invoiceRowsOf(orderId);
    assert.deepEqual(
      [row?.qbsync_balance, row?.qbsync_invoicestatus, row?.statecode, row?.statuscode, row?.qbsync_qbtxnid],
      ['0.00', 'Deleted', 3, 100003, 'TX-400-1'],
    );
    assert.deepEqual(await deletion({ txnId: 'TX-400-1' }), { orderId, changed: false });
    assert.deepEqual(await deletion({ txnId: 'TX-unknown' }), { orderId: null, changed: false });
  });

  it('an order invoiced the old way (numbers on the order, no invoice row) gets its row at its next payment, never refused', async () => {
    const orderId = await newOrder('Legacy order');
    // What the connector wrote before invoice rows: the invoice onto the order while Active, then the order Invoiced.
    await connection.client.update('salesorders', orderId, {
      qbsync_qbtxnid: 'TX-500-1',
      qbsync_invoicenumber: '1005',
      qbsync_balance: '500.00',
      qbsync_invoicestatus: 'Open',
    });
    await connection.client.update('salesorders', orderId, { statecode: 4, statuscode: 100003 });

    const paid = await payment({ orderId, txnId: 'TX-500-1', balance: '100.00', paid: false });
    assert.equal(paid.changed, true);
    const rows = await invoiceRowsOf(orderId);
    assert.equal(rows.length, 1);
    assert.deepEqual(
      [rows[0]?.qbsync_qbtxnid, rows[0]?.qbsync_invoicenumber, rows[0]?.qbsync_balance, rows[0]?.qbsync_invoicestatus],
      ['TX-500-1', '1005', '100.00', 'Open'],
    );
    const legacy = await order(orderId);
    assert.equal(legacy?.qbsync_balance, '500.00', 'the read-only order is left as it was');

    await payment({ orderId, txnId: 'TX-500-1', balance: '0.00', paid: true });
    assert.equal((await invoiceRowsOf(orderId)).length, 1, 'no second row');
    const other = await payment({ orderId, txnId: 'TX-other', balance: '1.00', paid: false });
    assert.equal(other.changed, false, 'an order not linked to the invoice is left to its own sync');

    const legacyDeleted = await newOrder('Legacy deleted order');
    await connection.client.update('salesorders', legacyDeleted, {
      qbsync_qbtxnid: 'TX-600-1',
      qbsync_invoicenumber: '1006',
    });
    await connection.client.update('salesorders', legacyDeleted, { statecode: 4, statuscode: 100003 });
    assert.deepEqual(await deletion({ txnId: 'TX-600-1' }), {
      orderId: legacyDeleted,
      changed: true,
    });
    const [row] = await invoiceRowsOf(legacyDeleted);
    assert.deepEqual([row?.qbsync_invoicestatus, row?.statecode], ['Deleted', 3]);
  });

  /**
   * The sales order activities as the worker builds them, reads and updates gathered. A call leaves only once `rows`
   * items have gathered (the quiet period is far longer than the test), so what travels together is not timing.
   */
  const gathered = (rows: number): Activities => {
    // Never dialled: these activities reach only Dataverse.
    const temporal = new Client({ connection: Connection.lazy({ address: '127.0.0.1:7233' }) });
    const all = createActivities({
      client: temporal,
      taskQueue: 'invoice-rows-test',
      dataverse: connection.client,
      bulkWrites: { maxRows: rows, gatherMs: 60_000, maxGatherMs: 120_000 },
      bulkReads: { maxValues: rows, gatherMs: 60_000, maxGatherMs: 120_000 },
      bulkUpdates: { maxRows: rows, gatherMs: 60_000, maxGatherMs: 120_000 },
    });
    assert.ok('recordInvoiceOnOrder' in all);
    return all as unknown as Activities;
  };

  const requestsSince = (before: Record<string, number>): Record<string, number> => {
    const now = sandbox.stats().requestsByKind;
    return Object.fromEntries(
      Object.entries(now)
        .map(([kind, count]) => [kind, count - (before[kind] ?? 0)] as const)
        .filter(([, count]) => count > 0),
    );
  };

  // Issue 15: the invoice write-back was six requests of its own an order (the order read, two invoice look-ups,
  // the conversion, the order's link and its state in two PATCHes), besides the invoice rows' shared update.
  it('concurrent orders record their invoices in shared reads and writes: no request is an order’s own', async () => {
    const ORDERS = 4;
    const orderIds = await Promise.all(Array.from({ length: ORDERS }, (_, i) => newOrder(`Gathered order ${i}`)));
    const { recordInvoiceOnOrder } = gathered(ORDERS);
    const before = { ...sandbox.stats().requestsByKind };

    const results = await Promise.all(
      orderIds.map((orderId, i) =>
        new MockActivityEnvironment().run(recordInvoiceOnOrder, {
          orderId,
          txnId: `TX-700-${i}`,
          invoiceNumber: `170${i}`,
          balance: '500.00',
          paid: false,
          connection: 'east',
        }),
      ),
    );

    assert.deepEqual(
      results,
      orderIds.map(() => ({ changed: true, state: 4 })),
    );
    assert.deepEqual(requestsSince(before), {
      // The orders' state and invoice links, one query; the invoice rows by TxnID and the unstamped rows of the
      // orders, one query each.
      'GET salesorders?': 1,
      'GET invoices?': 2,
      // The conversions, the invoice rows' columns, then the orders' links with their state: one $batch each.
      'POST $batch': 3,
    });
    for (const [i, orderId] of orderIds.entries()) {
      const rows = await invoiceRowsOf(orderId);
      assert.equal(rows.length, 1);
      assert.equal(rows[0]?.qbsync_qbtxnid, `TX-700-${i}`);
      const invoiced = await order(orderId);
      assert.deepEqual(
        [invoiced?.statecode, invoiced?.qbsync_qbtxnid, invoiced?.qbsync_invoicenumber],
        [4, `TX-700-${i}`, `170${i}`],
      );
    }
  });

  it('a conversion Dataverse refuses fails its own order alone; the others sharing its $batch are invoiced', async () => {
    const orderIds = await Promise.all([0, 1, 2].map((i) => newOrder(`Shared conversion order ${i}`)));
    // Canceled in Dynamics before its invoice came back: the platform will not convert it.
    await connection.client.update('salesorders', orderIds[1]!, { statecode: 2, statuscode: 4 });
    const { recordInvoiceOnOrder } = gathered(orderIds.length);
    const before = { ...sandbox.stats().requestsByKind };
    const settled = await Promise.allSettled(
      orderIds.map((orderId, i) =>
        new MockActivityEnvironment().run(recordInvoiceOnOrder, {
          orderId,
          txnId: `TX-900-${i}`,
          invoiceNumber: `190${i}`,
          balance: '500.00',
          paid: false,
        }),
      ),
    );
    assert.deepEqual(
      settled.map((s) => s.status),
      ['fulfilled', 'rejected', 'fulfilled'],
    );
    assert.match(String((settled[1] as PromiseRejectedResult).reason), /canceled order cannot be converted/);
    assert.equal(requestsSince(before)['POST ConvertSalesOrderToInvoice'], undefined, 'no conversion of its own');
    assert.deepEqual(
      await Promise.all(orderIds.map(async (orderId) => (await invoiceRowsOf(orderId)).length)),
      [1, 0, 1],
    );
  });

  it('with shared reads, a lost answer to one conversion still makes no second invoice row', async () => {
    const ORDERS = 3;
    const orderIds = await Promise.all(Array.from({ length: ORDERS }, (_, i) => newOrder(`Lost gathered order ${i}`)));
    const inputs = orderIds.map((orderId, i) => ({
      orderId,
      txnId: `TX-800-${i}`,
      invoiceNumber: `180${i}`,
      balance: '500.00',
      paid: false,
    }));
    faults.armed = true;
    // Every attempt of a round gathers with the others; a retry round is as many items as it has attempts.
    const { recordInvoiceOnOrder } = gathered(1);
    await runWithRetries(recordInvoiceOnOrder, inputs);
    assert.equal(faults.armed, false, 'a conversion lost its answer');
    for (const [i, orderId] of orderIds.entries()) {
      const rows = await invoiceRowsOf(orderId);
      assert.equal(rows.length, 1, `order ${i} has ${rows.length} invoice rows`);
      assert.equal(rows[0]?.qbsync_qbtxnid, `TX-800-${i}`);
      assert.equal((await order(orderId))?.statecode, 4);
    }
  });
});
