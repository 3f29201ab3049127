import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { InvoiceRet, SalesOrderRet } from '../../src/qbxml/requests';
import type { InvoiceMappingContext } from '../../src/mapping/salesOrderInvoice';
import {
  linkedSalesOrders,
  matchSalesOrder,
  salesOrderInvoiceFacts,
  salesOrderInvoicing,
  salesOrderModeReadiness,
  salesOrderToQuickBooksSalesOrder,
} from '../../src/mapping/salesOrderToQuickBooksSalesOrder';
import { assertError, value } from './mappingResults';

const ORDER = '3f2504e0-4f89-11d3-9a0c-0305e82c3301';
const P1 = '11111111-1111-1111-1111-111111111111';
const ctx: InvoiceMappingContext = {
  customerListId: '80000001-1',
  itemListIdByProductId: { [P1]: 'ITEM-1' },
  writeInItem: { fullName: 'Write-in' },
  discountItem: { fullName: 'Discount' },
  freightItem: { fullName: 'Freight' },
  refNumber: { kind: 'orderNumberSegment', separator: '-', index: 1 },
};
const order = { salesorderid: ORDER, ordernumber: 'ORD-01042-AB12CD', description: 'Hangar', freightamount: 10 };
const line = { _productid_value: P1, quantity: 4, priceperunit: 129, productdescription: 'Kit' };

const invoice = (txnId: string, refNumber: string, balance: string, linkedTo?: string): InvoiceRet => ({
  kind: 'Invoice',
  txnId,
  editSequence: '1',
  refNumber,
  balanceRemaining: balance,
  isPaid: balance === '0.00',
  ...(linkedTo ? { linkedTxns: [{ txnId: linkedTo, txnType: 'SalesOrder', refNumber: '01042' }] } : {}),
});
const salesOrder = (isFullyInvoiced: boolean, invoices: Array<[string, string]>): SalesOrderRet => ({
  kind: 'SalesOrder',
  txnId: 'SO-1',
  editSequence: '2',
  isFullyInvoiced,
  linkedTxns: invoices.map(([txnId, refNumber]) => ({ txnId, txnType: 'Invoice', refNumber })),
});

describe('the sales-order mode decisions', () => {
  it('sends an order once: one that records its QuickBooks sales order or is canceled is skipped', () => {
    assert.deepEqual(salesOrderModeReadiness({ statecode: 0 }), { kind: 'invoice' });
    assert.deepEqual(salesOrderModeReadiness({ statecode: 0, qbsync_salesordertxnid: 'SO-1' }), {
      kind: 'skip',
      note: 'already a QuickBooks sales order',
      targetId: 'SO-1',
    });
    assert.equal(salesOrderModeReadiness({ statecode: 2 }).kind, 'skip');
  });

  it('maps an order to a SalesOrderAdd with the invoice’s number rule, lines, freight and the order id as ExternalGUID', () => {
    const fields = value(salesOrderToQuickBooksSalesOrder(order, [line], ctx));
    assert.equal(fields.refNumber, '01042');
    assert.equal(fields.memo, 'Hangar');
    assert.equal(fields.externalGuid, `{${ORDER.toUpperCase()}}`);
    assert.deepEqual(
      fields.lines.map((l) => [l.itemRef, l.quantity, l.rate, l.amount]),
      [
        [{ listId: 'ITEM-1' }, '4', '129', '516.00'],
        [{ fullName: 'Freight' }, undefined, undefined, '10.00'],
      ],
    );
    assertError(salesOrderToQuickBooksSalesOrder({ ...order, freightamount: 0 }, [], ctx), 'lines', 'required');
  });

  it('takes as its own only the sales order of this customer carrying this order’s id', () => {
    const ours: SalesOrderRet = {
      kind: 'SalesOrder',
      txnId: 'SO-1',
      editSequence: '1',
      customerRef: { listId: '80000001-1' },
      externalGuid: `{${ORDER.toUpperCase()}}`,
    };
    assert.deepEqual(matchSalesOrder([ours], '80000001-1', ORDER), { kind: 'ours', salesOrder: ours });
    assert.deepEqual(matchSalesOrder([{ ...ours, externalGuid: undefined }], '80000001-1', ORDER), {
      kind: 'numberTaken',
    });
    assert.deepEqual(matchSalesOrder([ours], '80000002-1', ORDER), { kind: 'numberTaken' });
    assert.deepEqual(matchSalesOrder([], '80000001-1', ORDER), { kind: 'none' });
  });

  it('follows the invoices linked to a sales order: partly invoiced, then Invoiced, one invoice row per linked invoice read', () => {
    const first = invoice('INV-T1', 'SO-INV-1', '129.00', 'SO-1');
    const unrelated = invoice('INV-T9', '9999', '5.00');
    assert.deepEqual(linkedSalesOrders([first, unrelated, first]), ['SO-1']);

    const partly = value(salesOrderInvoicing(salesOrder(false, [['INV-T1', 'SO-INV-1']]), [first, unrelated], 'east'));
    assert.equal(partly.state, 'PartlyInvoiced');
    assert.equal(partly.invoiceNumbers, 'SO-INV-1');
    assert.deepEqual(partly.rows, [
      { companyFile: 'east', txnId: 'INV-T1', invoiceNumber: 'SO-INV-1', balance: '129.00', status: 'Open' },
    ]);

    const second = invoice('INV-T2', 'SO-INV-2', '0.00', 'SO-1');
    const full = value(
      salesOrderInvoicing(
        salesOrder(true, [
          ['INV-T1', 'SO-INV-1'],
          ['INV-T2', 'SO-INV-2'],
        ]),
        [second],
        'east',
      ),
    );
    assert.equal(full.state, 'Invoiced');
    assert.equal(full.invoiceNumbers, 'SO-INV-1, SO-INV-2');
    assert.deepEqual(
      full.rows.map((r) => [r.txnId, r.status]),
      [['INV-T2', 'Paid']],
    );

    assert.equal(value(salesOrderInvoicing(salesOrder(false, []), [], 'east')).state, null);
  });

  it('keeps of an invoice what its sales order’s invoicing needs, a tenth of the invoice or less', () => {
    // A poll in sales-order mode carries the invoices it read over continue-as-new until its end: whole, with their
    // lines, a first read of 90 days passed Temporal's 2 MB a payload at about a thousand invoices.
    const whole = (txnId: string, balance: string): InvoiceRet => ({
      ...invoice(txnId, `SO-${txnId}`, balance),
      customerRef: { listId: '80000001-1', fullName: 'Hangar Supplies Ltd' },
      txnDate: '2026-12-01',
      memo: 'Delivered to the north hangar, gate 4. '.repeat(3),
      billAddress: { addr1: 'Hangar Supplies Ltd', addr2: '1 Runway Road', city: 'Leeds', postalCode: 'LS1 1AA' },
      linkedTxns: [
        { txnId: 'SO-1', txnType: 'SalesOrder', refNumber: '01042', txnDate: '2026-11-30', linkType: 'QUANTYPE' },
        { txnId: 'PMT-7', txnType: 'ReceivePayment', refNumber: '77', txnDate: '2026-12-02', amount: '-40.00' },
      ],
      lines: Array.from({ length: 20 }, (_, i) => ({
        txnLineId: `L-${i}`,
        itemRef: { listId: `ITEM-${i}`, fullName: `Hangar kit part ${i}` },
        desc: `Hangar kit part ${i}, galvanised, boxed`,
        quantity: '4',
        rate: '129.00',
        amount: '516.00',
      })),
    });
    const invoices = [whole('INV-T1', '129.00'), whole('INV-T2', '0.00')];
    const facts = invoices.map(salesOrderInvoiceFacts);
    const so = salesOrder(false, [
      ['INV-T1', 'SO-INV-T1'],
      ['INV-T2', 'SO-INV-T2'],
    ]);
    assert.deepEqual(salesOrderInvoicing(so, facts, 'east'), salesOrderInvoicing(so, invoices, 'east'));
    assert.deepEqual(linkedSalesOrders(facts), linkedSalesOrders(invoices));
    assert.deepEqual(linkedSalesOrders(facts), ['SO-1']);
    const bytes = (v: unknown) => JSON.stringify(v).length;
    assert.ok(bytes(facts) * 10 <= bytes(invoices), `${bytes(facts)} B kept of ${bytes(invoices)} B`);
  });

  it('keeps the latest invoice numbers when they outgrow the order’s column', () => {
    const many = Array.from({ length: 20 }, (_, i): [string, string] => [`T${i}`, `INV-${1000 + i}`]);
    const plan = value(salesOrderInvoicing(salesOrder(false, many), [], 'east'));
    assert.ok(plan.invoiceNumbers.length <= 100, plan.invoiceNumbers);
    assert.ok(plan.invoiceNumbers.startsWith('… '));
    assert.ok(plan.invoiceNumbers.endsWith('INV-1019'));
  });
});
