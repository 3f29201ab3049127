import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { ENTITY_SETS, qbListKey } from '../../src/dataverse/entities';
import type { CustomerRet, InvoiceRet, QbRecord } from '../../src/qbxml/requests';
import { DEMO_UNIT_ID, demoAccountId, demoOrderId, demoProductId } from '../../src/sandbox/dataverse/demoOrganisation';
import { createDataverseSalesOrderActivities } from '../../src/activities/dataverseSalesOrders';
import { temporalRecordSyncStarter } from '../../src/gateway/webhooks/recordSyncStarter';
import { dataverseRecordWorkflowId } from '../../src/mapping/entityRegistry';
import type { QuickBooksRecordSyncResult } from '../../src/workflows/sync/quickbooksRecordSync';
import { pollProgressQuery } from '../../src/workflows/pollProgress';
import {
  announceOrder,
  dynamicsRow,
  enterOrder,
  orderCreated,
  invoiceRowsOf as invoiceRowsOfOrder,
  loseAnswerTo,
  quickbooksRecords,
  syncStackSuite,
  workflowFailure,
} from '../support/syncStackSuite';

describe('sync flows end to end (real Temporal, both sandboxes, Web Connector simulator)', () => {
  const suite = syncStackSuite();

  const qb = (office: 'east' | 'west', body: string): QbRecord[] => quickbooksRecords(suite.stack, office, body);
  const customerNamed = (office: 'east' | 'west', name: string): CustomerRet | undefined =>
    qb(office, `<CustomerQueryRq><FullName>${name}</FullName></CustomerQueryRq>`)[0] as CustomerRet | undefined;
  const invoicesNumbered = (office: 'east' | 'west', ref: string): InvoiceRet[] =>
    qb(office, `<InvoiceQueryRq><RefNumber>${ref}</RefNumber></InvoiceQueryRq>`) as InvoiceRet[];
  const account = (id: string): Promise<Record<string, unknown>> => dynamicsRow(suite.stack, 'account', id);
  const order = (id: string): Promise<Record<string, unknown>> => dynamicsRow(suite.stack, 'salesorder', id);
  /** The invoice rows made from an order (the QuickBooks invoice in Dynamics). */
  const invoiceRowsOf = (orderId: string): Promise<Record<string, unknown>[]> =>
    invoiceRowsOfOrder(suite.stack, orderId);
  const failureOf = (workflowId: string): Promise<string> => workflowFailure(suite.env, workflowId);

  it('initial sync of both offices: reconcile finds nothing out of agreement, to the cent', async () => {
    const east = await suite.stack.cycle('east');
    const west = await suite.stack.cycle('west');
    await suite.stack.settle();
    assert.deepEqual(east.failed, []);
    assert.deepEqual(west.failed, []);
    assert.equal(east.handedOff['qb:customer'], 15);
    // The cycle answers how far it got: here, everything it found.
    const progress = await suite.env.client.workflow.getHandle('poll/west').query(pollProgressQuery);
    assert.equal(progress.phase, 'done');
    assert.ok(progress.total > 0);
    assert.equal(progress.done, progress.total);
    assert.deepEqual(await suite.stack.recordRuns("ExecutionStatus = 'Failed'"), []);

    for (const office of ['east', 'west']) {
      const report = await suite.stack.reconcile(office);
      if (!report.inAgreement) console.log(JSON.stringify(report, null, 1).slice(0, 6000));
      assert.equal(report.inAgreement, true);
    }
    // Every seeded Dynamics order is an invoice in the company file of its customer, and the order says so.
    const orders = [];
    for await (const row of suite.stack.dataverse.queryRows(ENTITY_SETS.salesorder, {
      select: ['salesorderid', 'ordernumber', 'statecode', 'qbsync_qbtxnid', 'qbsync_invoicenumber', 'totalamount'],
    })) {
      orders.push(row);
    }
    assert.ok(orders.length >= 3);
    for (const row of orders) {
      assert.equal(row.statecode, 4, `order ${String(row.ordernumber)} is Invoiced`);
      const invoices = invoicesNumbered('east', String(row.qbsync_invoicenumber));
      assert.equal(invoices.length, 1);
      assert.equal(invoices[0]?.txnId, row.qbsync_qbtxnid);
      // …and an invoice row in Dynamics, made from the order, carrying the QuickBooks number and TxnID.
      const rows = await invoiceRowsOf(String(row.salesorderid));
      assert.equal(rows.length, 1, `order ${String(row.ordernumber)} has one invoice row`);
      assert.equal(rows[0]?.qbsync_qbtxnid, row.qbsync_qbtxnid);
      assert.equal(rows[0]?.qbsync_invoicenumber, row.qbsync_invoicenumber);
      assert.equal(rows[0]?.qbsync_companyfile, 'east');
      assert.equal(rows[0]?.qbsync_balance, invoices[0]?.balanceRemaining);
      assert.equal(rows[0]?.qbsync_invoicestatus, 'Open');
      assert.equal(rows[0]?.statecode, 0);
    }
  });

  it('an account created in Dynamics becomes a QuickBooks customer with its ListID written back', async () => {
    const adventure = await account(demoAccountId('Adventure Works Cycles'));
    const customer = customerNamed('east', 'Adventure Works Cycles');
    assert.ok(customer);
    assert.equal(adventure.qbsync_companyfile, 'east');
    assert.equal(adventure.qbsync_qblistid, customer.listId);
  });

  it('two company files feed one organisation without mixing: a customer in both is two accounts', async () => {
    const rows = [];
    for await (const row of suite.stack.dataverse.queryRows(ENTITY_SETS.account, {
      select: ['accountid', 'qbsync_companyfile', 'qbsync_qblistid'],
      filter: "name eq 'Northwind Traders'",
    })) {
      rows.push(row);
    }
    assert.deepEqual(rows.map((r) => r.qbsync_companyfile).sort(), ['east', 'west']);
    assert.equal(
      rows.find((r) => r.qbsync_companyfile === 'west')?.qbsync_qblistid,
      customerNamed('west', 'Northwind Traders')?.listId,
    );
  });

  it('an edit in QuickBooks reaches Dynamics within one cycle, and its echo writes nothing', async () => {
    const customer = customerNamed('east', 'Harbor Lights Cafe')!;
    qb(
      'east',
      `<CustomerModRq><CustomerMod><ListID>${customer.listId}</ListID><EditSequence>${customer.editSequence}</EditSequence><Phone>617-555-0199</Phone></CustomerMod></CustomerModRq>`,
    );
    const cycle = await suite.stack.cycle('east');
    assert.equal(cycle.outcomes['customer:updated'], 1);
    const row = await suite.stack.dataverse.retrieve(ENTITY_SETS.account, qbListKey('east', customer.listId));
    assert.equal(row?.telephone1, '617-555-0199');

    const echo = await suite.stack.cycle('east');
    assert.equal(echo.handedOff['d365:account'] ?? 0, 0, JSON.stringify(echo.dynamicsIds));
    assert.equal(echo.handedOff['qb:customer'] ?? 0, 0);
  });

  it('an edit in Dynamics reaches QuickBooks within one cycle, and its echo writes nothing', async () => {
    const customer = customerNamed('east', 'Cape Cod Marine')!;
    const row = await suite.stack.dataverse.retrieve(ENTITY_SETS.account, qbListKey('east', customer.listId));
    await suite.stack.dataverse.update(ENTITY_SETS.account, String(row?.accountid), {
      emailaddress1: 'orders@capecod.example',
    });
    const cycle = await suite.stack.cycle('east');
    assert.equal(cycle.handedOff['d365:account'], 1);
    await suite.stack.settle();
    assert.equal(customerNamed('east', 'Cape Cod Marine')?.email, 'orders@capecod.example');

    // QuickBooks now reports the customer as modified, but it is the connector's own write: no record is synced.
    const echo = await suite.stack.cycle('east');
    assert.equal(echo.handedOff['qb:customer'] ?? 0, 0);
    assert.deepEqual(echo.outcomes, {});
    assert.equal(echo.handedOff['d365:account'] ?? 0, 0);
  });

  it('both sides changed the same field: the later change wins and the run records both versions', async () => {
    const customer = customerNamed('east', 'Brandywine Florist')!;
    const row = await suite.stack.dataverse.retrieve(ENTITY_SETS.account, qbListKey('east', customer.listId));
    await suite.stack.dataverse.update(ENTITY_SETS.account, String(row?.accountid), { telephone1: '302-555-0001' });
    await new Promise((r) => setTimeout(r, 1100)); // QuickBooks times are to the second: make its change clearly later
    qb(
      'east',
      `<CustomerModRq><CustomerMod><ListID>${customer.listId}</ListID><EditSequence>${customer.editSequence}</EditSequence><Phone>302-555-0002</Phone></CustomerMod></CustomerModRq>`,
    );
    const cycle = await suite.stack.cycle('east');
    assert.equal(cycle.outcomes['customer:conflict'], 1);
    const run = (await suite.env.client.workflow
      .getHandle(`qb/east/customer/${customer.listId}`)
      .result()) as QuickBooksRecordSyncResult;
    const phone = run.conflicts.find((c) => c.field === 'phone');
    assert.equal(phone?.winner, 'quickbooks');
    assert.equal(phone?.quickbooks.telephone1, '302-555-0002');
    assert.equal(phone?.dynamics.telephone1, '302-555-0001');
    const after = await suite.stack.dataverse.retrieve(ENTITY_SETS.account, qbListKey('east', customer.listId));
    assert.equal(after?.telephone1, '302-555-0002');
    await suite.stack.settle();
  });

  it('a sales order announced twice by webhook and seen by the poll becomes exactly one invoice, even when the worker dies between the InvoiceAdd and its answer', async () => {
    const orderId = await enterOrder(suite.stack, demoAccountId('Blue Yonder Airlines'), 'Webhook order', 3);
    const start = temporalRecordSyncStarter(suite.env.client, 'sync-e2e', { quietPeriodMs: 500 });
    // The same delivery twice: one operation id.
    const change = orderCreated(orderId);
    const first = await start(change, 'east');
    const second = await start(change, 'east');
    assert.equal(first.workflowId, second.workflowId);

    // QuickBooks has the invoice; nobody is left to hear that it does.
    assert.equal(await loseAnswerTo(suite.stack, '<InvoiceAddRq', 20), true, 'the InvoiceAdd reached QuickBooks');
    await suite.stack.cycle('east'); // the poll sees the order too
    await suite.stack.settle();

    const row = await order(orderId);
    assert.equal(row.statecode, 4);
    const invoices = invoicesNumbered('east', String(row.qbsync_invoicenumber));
    assert.equal(invoices.length, 1, 'exactly one invoice');
    assert.equal(invoices[0]?.txnId, row.qbsync_qbtxnid);
    const rows = await invoiceRowsOf(orderId);
    assert.equal(rows.length, 1, 'exactly one invoice row');
    assert.equal(rows[0]?.qbsync_qbtxnid, row.qbsync_qbtxnid);
    assert.equal(invoices[0]?.subtotal, '387.00');
  });

  it('orders of an account new in Dynamics start once its own run made the customer: no order makes it again', async () => {
    const accountId = randomUUID();
    await suite.stack.dataverse.create(ENTITY_SETS.account, { accountid: accountId, name: 'Fresh Orders Outfitters' });
    const orderIds = [randomUUID(), randomUUID(), randomUUID()];
    for (const [i, orderId] of orderIds.entries()) {
      await suite.stack.dataverse.create(ENTITY_SETS.salesorder, {
        salesorderid: orderId,
        name: `First order ${i + 1}`,
        'customerid_account@odata.bind': `/accounts(${accountId})`,
      });
      await suite.stack.dataverse.create(ENTITY_SETS.salesorderdetail, {
        'salesorderid@odata.bind': `/salesorders(${orderId})`,
        'productid@odata.bind': `/products(${demoProductId('HW-1003')})`,
        'uomid@odata.bind': `/uoms(${DEMO_UNIT_ID})`,
        quantity: i + 1,
        priceperunit: 129,
        ispriceoverridden: true,
      });
    }
    // QuickBooks takes its time over the account's look-up (a large company file): orders started beside the
    // account's run would read their unpaired customer meanwhile and make it themselves.
    let held = false;
    suite.stack.hooks.beforeProcess = async (_connection, xml) => {
      if (held || !xml.includes('Fresh Orders Outfitters')) return;
      held = true;
      await new Promise((r) => setTimeout(r, 4000));
    };
    try {
      await suite.stack.cycle('east');
      await suite.stack.settle();
    } finally {
      delete suite.stack.hooks.beforeProcess;
    }
    assert.ok(held, "the account's look-up reached QuickBooks");

    const customer = customerNamed('east', 'Fresh Orders Outfitters');
    assert.ok(customer, 'the account became a customer');
    assert.equal((await account(accountId)).qbsync_qblistid, customer.listId);
    for (const orderId of orderIds) {
      const row = await order(orderId);
      assert.equal(row.statecode, 4, `order ${orderId} is invoiced`);
      const history = await suite.env.client.workflow
        .getHandle(dataverseRecordWorkflowId('salesorder', orderId))
        .fetchHistory();
      const activities = (history.events ?? []).flatMap(
        (e) => e.activityTaskScheduledEventAttributes?.activityType?.name ?? [],
      );
      assert.ok(
        !activities.includes('readAccountForQuickBooks'),
        `the order's run made the customer itself: ${activities.join(', ')}`,
      );
    }
  });

  it('payments in QuickBooks follow onto the order’s invoice row: balance, then Paid (Complete); the order stays Invoiced', async () => {
    const orderId = demoOrderId('Spring fleet refresh');
    const adventureOrder = await order(orderId);
    const txnId = String(adventureOrder.qbsync_qbtxnid);
    const [invoice] = qb('east', `<InvoiceQueryRq><TxnID>${txnId}</TxnID></InvoiceQueryRq>`) as InvoiceRet[];
    assert.ok(invoice?.balanceRemaining);
    suite.stack.quickbooks.files.east!.payInvoice(txnId, '1000.00');
    let cycle = await suite.stack.cycle('east');
    assert.equal(cycle.invoicesRecorded, 1);
    const [partly] = await invoiceRowsOf(orderId);
    const expected = (Number(invoice.balanceRemaining) - 1000).toFixed(2);
    assert.equal(partly?.qbsync_balance, expected);
    assert.equal(partly?.qbsync_invoicestatus, 'Open');
    assert.equal(partly?.statecode, 0, 'a partly paid invoice stays Active');

    suite.stack.quickbooks.files.east!.payInvoice(txnId, expected);
    cycle = await suite.stack.cycle('east');
    assert.equal(cycle.invoicesRecorded, 1);
    const [paid, ...more] = await invoiceRowsOf(orderId);
    assert.equal(more.length, 0);
    assert.equal(paid?.qbsync_balance, '0.00');
    assert.equal(paid?.qbsync_invoicestatus, 'Paid');
    assert.deepEqual([paid?.statecode, paid?.statuscode], [2, 100001], 'Paid / Complete');
    assert.equal((await order(orderId)).statecode, 4, 'still Invoiced');
    const again = await suite.stack.cycle('east');
    assert.equal(again.invoicesRecorded, 0, 'a paid invoice seen again writes nothing');
  });

  it('a payment QuickBooks takes before the order’s invoice row exists still reaches the row', async () => {
    const orderId = await enterOrder(suite.stack, demoAccountId('Blue Yonder Airlines'), 'Paid at once', 2);
    // The customer pays the moment QuickBooks has the invoice, before the order's run has its answer; the poll sees the
    // payment then, while the invoice has no row in Dynamics yet: its payment activity finds nothing to write on.
    const pollPayments = createDataverseSalesOrderActivities({ dataverse: suite.stack.dataverse });
    let pollFound: { changed: boolean } | undefined;
    suite.stack.hooks.afterProcess = async (office, xml) => {
      if (pollFound || office !== 'east' || !xml.includes('<InvoiceAddRq')) return;
      const ref = /<RefNumber>([^<]+)<\/RefNumber>/.exec(xml)?.[1] ?? '';
      const [invoice] = invoicesNumbered('east', ref);
      assert.ok(invoice?.balanceRemaining, `QuickBooks has invoice ${ref}`);
      suite.stack.quickbooks.files.east!.payInvoice(invoice.txnId, invoice.balanceRemaining);
      const [paid] = invoicesNumbered('east', ref);
      pollFound = await pollPayments.recordInvoicePayment({
        orderId,
        txnId: invoice.txnId,
        balance: paid?.balanceRemaining ?? '',
        paid: paid?.isPaid ?? false,
        connection: 'east',
      });
    };
    try {
      await announceOrder(suite.stack, orderId);
      await suite.stack.settle();
    } finally {
      suite.stack.hooks.afterProcess = undefined;
    }
    assert.deepEqual(pollFound, { changed: false }, 'the poll found no invoice row to record the payment on');

    const row = await order(orderId);
    const [invoice] = invoicesNumbered('east', String(row.qbsync_invoicenumber));
    assert.equal(invoice?.balanceRemaining, '0.00');
    const rows = await invoiceRowsOf(orderId);
    assert.equal(rows.length, 1, 'exactly one invoice row');
    assert.equal(rows[0]?.qbsync_qbtxnid, invoice.txnId);
    assert.equal(rows[0]?.qbsync_balance, '0.00', 'the row shows what QuickBooks says is owed');
    assert.equal(rows[0]?.qbsync_invoicestatus, 'Paid');
    assert.deepEqual([rows[0]?.statecode, rows[0]?.statuscode], [2, 100001], 'Paid / Complete');
  });

  it('bad data fails that record alone with a clear reason; once fixed, a reset completes it without a duplicate', async () => {
    const longName = 'Consolidated Interstellar Logistics and Freight Incorporated';
    const created = await suite.stack.dataverse.create(ENTITY_SETS.account, { name: longName, customertypecode: 3 });
    const good = await suite.stack.dataverse.create(ENTITY_SETS.account, {
      name: 'Tailspin Toys',
      customertypecode: 3,
    });
    const cycle = await suite.stack.cycle('east');
    assert.equal(cycle.handedOff['d365:account'], 2);
    await suite.stack.settle();

    const badId = `d365/account/${String(created.id)}`;
    assert.match(await failureOf(badId), /name.*41/);
    assert.ok(customerNamed('east', 'Tailspin Toys'), 'the other record still synced');
    const described = await suite.env.client.workflow.getHandle(badId).describe();
    assert.equal(described.status.name, 'FAILED');

    // The operator shortens the name in Dynamics, then resets the failed run (what `temporal workflow reset` does).
    await suite.stack.dataverse.update(ENTITY_SETS.account, String(created.id), { name: 'Consolidated Interstellar' });
    const history = await suite.env.client.workflow.getHandle(badId).fetchHistory();
    const firstTask = history.events?.find((e) => e.workflowTaskCompletedEventAttributes);
    await suite.env.client.workflowService.resetWorkflowExecution({
      namespace: 'default',
      workflowExecution: { workflowId: badId, runId: described.runId },
      reason: 'name shortened in Dynamics',
      workflowTaskFinishEventId: firstTask?.eventId,
      requestId: randomUUID(),
    });
    await suite.stack.settle();
    assert.equal(await failureOf(badId), '');
    const customer = customerNamed('east', 'Consolidated Interstellar');
    assert.ok(customer);
    assert.equal((await account(String(created.id))).qbsync_qblistid, customer.listId);
    void good;
  });
});
