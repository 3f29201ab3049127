import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { ENTITY_SETS } from '../../src/dataverse/entities';
import type { CustomerRet, InvoiceRet, QbRecord, QbxmlRequest } from '../../src/qbxml/requests';
import type { SyncedItem } from '../../src/mapping/itemProduct';
import { DEMO_UNIT_ID, demoAccountId, demoProductId } from '../../src/sandbox/dataverse/demoOrganisation';
import { quickbooksRecords, syncStackSuite } from '../support/syncStackSuite';

/**
 * Sales tax end to end (issue 14): Dynamics computes no US sales tax, so an order carries none of its own; QuickBooks
 * adds the tax its codes and items call for when the connector invoices the order. Reconcile must then not call the
 * invoice an amount mismatch: its total exceeds the order's by exactly QuickBooks' tax, which it reports as such. A
 * real difference next to it is still an amount difference.
 */
describe('sales tax QuickBooks adds to an invoiced order (real Temporal, both sandboxes, Web Connector simulator)', () => {
  const qb = (request: QbxmlRequest): QbRecord[] => quickbooksRecords(suite.stack, 'east', request);
  const listIdOf = async (entitySet: string, id: string): Promise<string> => {
    const row = await suite.stack.dataverse.retrieve(entitySet, id);
    const listId = row?.qbsync_qblistid;
    assert.ok(typeof listId === 'string' && listId !== '', `${entitySet} ${id} is paired`);
    return listId;
  };
  const order = async (id: string): Promise<Record<string, unknown>> => {
    const row = await suite.stack.dataverse.retrieve(ENTITY_SETS.salesorder, id);
    assert.ok(row, `order ${id} exists`);
    return row;
  };
  const newOrder = async (accountId: string, quantity: number, price: number): Promise<string> => {
    const orderId = randomUUID();
    await suite.stack.dataverse.create(ENTITY_SETS.salesorder, {
      salesorderid: orderId,
      name: `Taxed order ${quantity} x ${price}`,
      'customerid_account@odata.bind': `/accounts(${accountId})`,
    });
    await suite.stack.dataverse.create(ENTITY_SETS.salesorderdetail, {
      'salesorderid@odata.bind': `/salesorders(${orderId})`,
      'productid@odata.bind': `/products(${demoProductId('HW-1003')})`,
      'uomid@odata.bind': `/uoms(${DEMO_UNIT_ID})`,
      quantity,
      priceperunit: price,
      ispriceoverridden: true,
    });
    return orderId;
  };

  const suite = syncStackSuite(async ({ stack }) => {
    await stack.cycle('east');
    await stack.settle();
    await stack.cycle('east');
    await stack.settle();

    // The company file charges 6.25 % on taxable sales: the customer is taxable with that rate, the item taxable.
    stack.quickbooks.files.east!.defineSalesTax({ items: [{ name: 'MA Sales Tax', ratePercent: '6.25' }] });
    const customerId = await listIdOf(ENTITY_SETS.account, demoAccountId('Blue Yonder Airlines'));
    const [customer] = qb({ type: 'CustomerQuery', requestId: 'c', listIds: [customerId] }) as CustomerRet[];
    qb({
      type: 'CustomerMod',
      requestId: 'cm',
      fields: {
        listId: customerId,
        editSequence: customer!.editSequence,
        salesTaxCodeRef: { fullName: 'Tax' },
        itemSalesTaxRef: { fullName: 'MA Sales Tax' },
      },
    });
    const itemId = await listIdOf(ENTITY_SETS.product, demoProductId('HW-1003'));
    const [item] = qb({ type: 'ItemQuery', requestId: 'i', listIds: [itemId] }) as SyncedItem[];
    qb({
      type: `${item!.kind}Mod`,
      requestId: 'im',
      fields: { listId: itemId, editSequence: item!.editSequence, salesTaxCodeRef: { fullName: 'Tax' } },
    } as QbxmlRequest);
    await stack.cycle('east'); // the customer and item edits come back once as QuickBooks changes
    await stack.settle();
  });

  it('an order without tax, invoiced with QuickBooks tax, is reported as sales tax only in QuickBooks', async () => {
    const accountId = demoAccountId('Blue Yonder Airlines');
    const orderId = await newOrder(accountId, 2, 129);
    await suite.stack.cycle('east');
    await suite.stack.settle();

    const row = await order(orderId);
    assert.equal(row.statecode, 4, 'the order is invoiced');
    assert.ok(row.totaltax === null || row.totaltax === undefined || Number(row.totaltax) === 0, 'no tax in Dynamics');
    assert.equal(Number(row.totalamount), 258);
    const [invoice] = qb({
      type: 'InvoiceQuery',
      requestId: 'inv',
      txnIds: [String(row.qbsync_qbtxnid)],
    }) as InvoiceRet[];
    assert.equal(invoice?.subtotal, '258.00');
    // 258.00 × 6.25 % = 16.125, rounded half-up once.
    assert.equal(invoice?.salesTaxTotal, '16.13');

    const report = await suite.stack.reconcile('east');
    const ours = <T extends { id: string }>(entries: readonly T[]): T[] =>
      entries.filter((e) => e.id === orderId.toLowerCase());
    assert.deepEqual(ours(report.amountDifferences), []);
    assert.deepEqual(ours(report.salesTaxOnlyInQuickBooks), [
      {
        id: orderId.toLowerCase(),
        orderNumber: String(row.ordernumber),
        txnId: String(row.qbsync_qbtxnid),
        invoiceNumber: String(row.qbsync_invoicenumber),
        orderTotal: '258.00',
        invoiceTotal: '274.13',
        salesTax: '16.13',
      },
    ]);
  });

  it('an invoice that differs from its order by more than the tax is still an amount difference', async () => {
    const orderId = await newOrder(demoAccountId('Blue Yonder Airlines'), 1, 129);
    await suite.stack.cycle('east');
    await suite.stack.settle();
    const row = await order(orderId);
    assert.equal(row.statecode, 4);
    // Someone adds a line to the invoice in QuickBooks: the difference is now the tax and that line.
    const txnId = String(row.qbsync_qbtxnid);
    const [invoice] = qb({
      type: 'InvoiceQuery',
      requestId: 'inv2',
      txnIds: [txnId],
      includeLineItems: true,
    }) as InvoiceRet[];
    const itemId = await listIdOf(ENTITY_SETS.product, demoProductId('HW-1003'));
    qb({
      type: 'InvoiceMod',
      requestId: 'im2',
      fields: {
        txnId,
        editSequence: invoice!.editSequence,
        lines: [
          ...(invoice!.lines ?? []).map((line) => ({ txnLineId: line.txnLineId })),
          { txnLineId: '-1', itemRef: { listId: itemId }, quantity: '1', rate: '10.00' },
        ],
      },
    } as QbxmlRequest);

    const report = await suite.stack.reconcile('east');
    const ours = <T extends { id: string }>(entries: readonly T[]): T[] =>
      entries.filter((e) => e.id === orderId.toLowerCase());
    assert.deepEqual(ours(report.salesTaxOnlyInQuickBooks), []);
    // 139.00 + 8.69 tax (6.25 % of 139.00 = 8.6875) against the order's 129.00.
    assert.deepEqual(
      ours(report.amountDifferences).map((a) => [a.orderTotal, a.invoiceTotal, a.difference]),
      [['129.00', '147.69', '18.69']],
    );
  });
});
