import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { ENTITY_SETS } from '../../src/dataverse/entities';
import { buildQbxmlMessage } from '../../src/qbxml/build';
import { parseQbxmlResponse } from '../../src/qbxml/parse';
import type { InvoiceRet, QbxmlRequest, QbxmlResponse, SalesOrderRet } from '../../src/qbxml/requests';
import { DEMO_UNIT_ID, demoAccountId, demoProductId } from '../../src/sandbox/dataverse/demoOrganisation';
import {
  announceOrder,
  dynamicsRow,
  invoiceRowsOf as invoiceRowsOfOrder,
  loseAnswerTo,
  syncStackSuite,
} from '../support/syncStackSuite';

/**
 * Issue 16 item 3 end to end on the sandboxes: with `invoices.via: salesOrder` (here the east office), a Dynamics order
 * becomes one QuickBooks sales order, even when the SalesOrderAdd's answer is lost; accounting invoices it in QuickBooks
 * in two parts, each invoice linked to the sales order, and the connector follows: the order stays Active showing the
 * first invoice, then turns Invoiced once QuickBooks says the sales order is fully invoiced, with one invoice row per
 * QuickBooks invoice carrying its balance and paid status.
 */
describe('sales-order mode (real Temporal, both sandboxes, Web Connector simulator)', () => {
  const suite = syncStackSuite(async ({ stack }) => {
    await stack.cycle('east');
    // The first sync of the seeded office invoices its seeded orders directly; the mode changes only after it.
    await stack.settle(120);
    stack.settings.get('east')!.invoices.via = 'salesOrder';
  });

  const quickbooks = (request: QbxmlRequest): QbxmlResponse =>
    parseQbxmlResponse(suite.stack.quickbooks.files.east!.processRequest(buildQbxmlMessage([request])))[0]!;
  const order = (id: string): Promise<Record<string, unknown>> => dynamicsRow(suite.stack, 'salesorder', id);
  const invoiceRowsOf = async (orderId: string): Promise<Record<string, unknown>[]> =>
    (await invoiceRowsOfOrder(suite.stack, orderId)).sort((a, b) =>
      String(a.qbsync_invoicenumber).localeCompare(String(b.qbsync_invoicenumber)),
    );
  /** What accounting does in QuickBooks: an invoice made from the sales order. */
  const invoiceInQuickBooks = (fields: Extract<QbxmlRequest, { type: 'InvoiceAdd' }>['fields']): InvoiceRet => {
    const answer = quickbooks({ type: 'InvoiceAdd', requestId: 'accounting', fields });
    assert.equal(answer.statusCode, 0, answer.statusMessage);
    return answer.records[0] as InvoiceRet;
  };

  it('an order becomes one QuickBooks sales order (answer lost once), then follows a partial and a full invoice made from it in QuickBooks', async () => {
    const orderId = randomUUID();
    const customer = demoAccountId('Blue Yonder Airlines');
    await suite.stack.dataverse.create(ENTITY_SETS.salesorder, {
      salesorderid: orderId,
      name: 'Hangar fit-out',
      'customerid_account@odata.bind': `/accounts(${customer})`,
    });
    for (const [product, quantity, price] of [
      ['HW-1003', 4, 129],
      ['SV-2001', 2, 199],
    ] as const) {
      await suite.stack.dataverse.create(ENTITY_SETS.salesorderdetail, {
        'salesorderid@odata.bind': `/salesorders(${orderId})`,
        'productid@odata.bind': `/products(${demoProductId(product)})`,
        'uomid@odata.bind': `/uoms(${DEMO_UNIT_ID})`,
        quantity,
        priceperunit: price,
        ispriceoverridden: true,
      });
    }
    await announceOrder(suite.stack, orderId);

    // QuickBooks has the sales order, and nobody is left to hear that it does.
    assert.equal(await loseAnswerTo(suite.stack, '<SalesOrderAddRq', 30), true, 'the SalesOrderAdd reached QuickBooks');
    await suite.stack.cycle('east'); // the poll sees the order too
    await suite.stack.settle();

    let row = await order(orderId);
    const number = String(row.qbsync_salesordernumber);
    const salesOrders = quickbooks({
      type: 'SalesOrderQuery',
      requestId: 'so',
      refNumbers: [number],
      includeLineItems: true,
    }).records as SalesOrderRet[];
    assert.equal(salesOrders.length, 1, 'exactly one sales order');
    const salesOrder = salesOrders[0]!;
    assert.equal(row.qbsync_salesordertxnid, salesOrder.txnId);
    assert.equal(row.qbsync_companyfile, 'east');
    assert.equal(salesOrder.subtotal, '914.00');
    assert.equal(salesOrder.isFullyInvoiced, false);
    assert.equal(row.statecode, 0, 'a sales order is not an invoice: the order stays Active');
    assert.equal(row.qbsync_qbtxnid ?? null, null);
    const noInvoice = quickbooks({ type: 'InvoiceQuery', requestId: 'i', refNumbers: [number] });
    assert.equal(noInvoice.records.length, 0, 'no invoice is made in sales-order mode');
    assert.deepEqual(await invoiceRowsOf(orderId), []);

    // Accounting invoices one of the four hangar kits.
    const [kits, service] = salesOrder.lines!;
    const first = invoiceInQuickBooks({
      customerRef: { listId: salesOrder.customerRef!.listId! },
      refNumber: 'SO-INV-1',
      lines: [{ quantity: '1', linkToTxn: { txnId: salesOrder.txnId, txnLineId: kits!.txnLineId } }],
    });
    assert.equal(first.balanceRemaining, '129.00');
    const partly = await suite.stack.cycle('east');
    assert.equal(partly.salesOrdersInvoiced, 1);
    row = await order(orderId);
    assert.equal(row.statecode, 0, 'partly invoiced: still Active');
    assert.equal(row.qbsync_invoicestatus, 'PartlyInvoiced');
    assert.equal(row.qbsync_invoicenumber, 'SO-INV-1');
    let rows = await invoiceRowsOf(orderId);
    assert.equal(rows.length, 1, 'one invoice row');
    assert.equal(rows[0]!.qbsync_qbtxnid, first.txnId);
    assert.equal(rows[0]!.qbsync_balance, '129.00');
    assert.equal(rows[0]!.qbsync_companyfile, 'east');
    assert.equal(rows[0]!.statecode, 0, 'unpaid: the invoice row is Active');

    // Then the rest: the remaining kits and the service, by linking the whole sales order.
    const second = invoiceInQuickBooks({
      customerRef: { listId: salesOrder.customerRef!.listId! },
      refNumber: 'SO-INV-2',
      linkToTxnIds: [salesOrder.txnId],
    });
    assert.equal(second.balanceRemaining, '785.00');
    assert.ok(service);
    const full = await suite.stack.cycle('east');
    assert.equal(full.salesOrdersInvoiced, 1);
    row = await order(orderId);
    assert.equal(row.statecode, 4, 'fully invoiced in QuickBooks: Invoiced');
    assert.equal(row.statuscode, 100003);
    assert.equal(row.qbsync_invoicestatus, 'Invoiced');
    assert.equal(row.qbsync_invoicenumber, 'SO-INV-1, SO-INV-2');
    rows = await invoiceRowsOf(orderId);
    assert.deepEqual(
      rows.map((r) => [r.qbsync_invoicenumber, r.qbsync_qbtxnid, r.qbsync_balance]),
      [
        ['SO-INV-1', first.txnId, '129.00'],
        ['SO-INV-2', second.txnId, '785.00'],
      ],
    );

    // The customer pays the first invoice: its row shows it Paid; the order stays Invoiced.
    suite.stack.quickbooks.files.east!.payInvoice(first.txnId, '129.00');
    const paid = await suite.stack.cycle('east');
    assert.equal(paid.salesOrdersInvoiced, 1);
    rows = await invoiceRowsOf(orderId);
    assert.deepEqual(
      rows.map((r) => [r.qbsync_invoicenumber, r.qbsync_balance, r.qbsync_invoicestatus, r.statecode, r.statuscode]),
      [
        ['SO-INV-1', '0.00', 'Paid', 2, 100001],
        ['SO-INV-2', '785.00', 'Open', 0, 1],
      ],
    );
    assert.equal((await order(orderId)).statecode, 4, 'still Invoiced');

    // A later poll with nothing new writes nothing.
    const quiet = await suite.stack.cycle('east');
    assert.equal(quiet.salesOrdersInvoiced ?? 0, 0);
    assert.equal((await invoiceRowsOf(orderId)).length, 2);
  });
});
