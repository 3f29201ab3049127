import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type InvoiceMappingContext,
  invoiceBalanceAfterRecord,
  invoiceLinesTotal,
  invoiceToOrderStatus,
  invoiceTotalsDifference,
  type SalesOrderLineRecord,
  type SalesOrderRecord,
  salesOrderToInvoice,
} from '../../src/mapping';
import { assertError, value } from './mappingResults';

const P1 = '11111111-1111-1111-1111-111111111111';
const P2 = '22222222-2222-2222-2222-222222222222';
const ctx: InvoiceMappingContext = {
  customerListId: '80000001-1',
  itemListIdByProductId: { [P1]: 'ITEM-1', [P2]: 'ITEM-2' },
  writeInItem: { fullName: 'Write-in' },
  discountItem: { fullName: 'Discount' },
  freightItem: { fullName: 'Freight' },
  refNumber: { kind: 'orderNumber' },
};
const order: SalesOrderRecord = {
  salesorderid: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee',
  ordernumber: 'SO-1001',
  name: 'Order',
};
const line = (extra: SalesOrderLineRecord): SalesOrderLineRecord => ({
  _productid_value: P1,
  quantity: '1',
  priceperunit: '1',
  ...extra,
});

describe('salesOrderToInvoice: lines and money', () => {
  const cases: {
    title: string;
    lines: SalesOrderLineRecord[];
    o?: SalesOrderRecord;
    expectedLines: unknown[];
    total: string;
  }[] = [
    {
      title: '3 × 19.99 = 59.97 exactly',
      lines: [line({ quantity: '3', priceperunit: '19.99' })],
      expectedLines: [{ itemRef: { listId: 'ITEM-1' }, quantity: '3', rate: '19.99', amount: '59.97' }],
      total: '59.97',
    },
    {
      title: '0.1 + 0.2 = 0.30, not 0.30000000000000004',
      lines: [line({ priceperunit: '0.1' }), line({ _productid_value: P2, priceperunit: '0.2' })],
      expectedLines: [
        { itemRef: { listId: 'ITEM-1' }, quantity: '1', rate: '0.1', amount: '0.10' },
        { itemRef: { listId: 'ITEM-2' }, quantity: '1', rate: '0.2', amount: '0.20' },
      ],
      total: '0.30',
    },
    {
      title: 'half a cent rounds up (2.5 × 0.333 = 0.8325 → 0.83; 1.5 × 0.01 = 0.015 → 0.02)',
      lines: [line({ quantity: '2.5', priceperunit: '0.333' }), line({ quantity: '1.5', priceperunit: '0.01' })],
      expectedLines: [
        { itemRef: { listId: 'ITEM-1' }, quantity: '2.5', rate: '0.333', amount: '0.83' },
        { itemRef: { listId: 'ITEM-1' }, quantity: '1.5', rate: '0.01', amount: '0.02' },
      ],
      total: '0.85',
    },
    {
      title: 'write-in line goes to the write-in item with its text',
      lines: [{ isproductoverridden: true, productdescription: 'Custom engraving', quantity: '2', priceperunit: '15' }],
      expectedLines: [
        { itemRef: { fullName: 'Write-in' }, desc: 'Custom engraving', quantity: '2', rate: '15', amount: '30.00' },
      ],
      total: '30.00',
    },
    {
      title: 'line discount follows its line as a negative discount line',
      lines: [line({ quantity: '2', priceperunit: '50', manualdiscountamount: '10' })],
      expectedLines: [
        { itemRef: { listId: 'ITEM-1' }, quantity: '2', rate: '50', amount: '100.00' },
        { itemRef: { fullName: 'Discount' }, desc: 'Discount on line 1', amount: '-10.00' },
      ],
      total: '90.00',
    },
    {
      title: 'order discount (amount + percentage) and freight close the invoice',
      lines: [line({ quantity: '4', priceperunit: '25' })],
      o: { ...order, discountamount: '5', discountpercentage: '10', freightamount: '7.5' },
      expectedLines: [
        { itemRef: { listId: 'ITEM-1' }, quantity: '4', rate: '25', amount: '100.00' },
        { itemRef: { fullName: 'Discount' }, desc: 'Order discount', amount: '-15.00' },
        { itemRef: { fullName: 'Freight' }, desc: 'Freight', amount: '7.50' },
      ],
      total: '92.50',
    },
    {
      title: 'lines follow lineitemnumber, not arrival order',
      lines: [line({ lineitemnumber: 2, _productid_value: P2 }), line({ lineitemnumber: 1 })],
      expectedLines: [
        { itemRef: { listId: 'ITEM-1' }, quantity: '1', rate: '1', amount: '1.00' },
        { itemRef: { listId: 'ITEM-2' }, quantity: '1', rate: '1', amount: '1.00' },
      ],
      total: '2.00',
    },
    {
      title: 'numeric JSON amounts are read exactly',
      lines: [line({ quantity: 3, priceperunit: 19.99 })],
      expectedLines: [{ itemRef: { listId: 'ITEM-1' }, quantity: '3', rate: '19.99', amount: '59.97' }],
      total: '59.97',
    },
  ];
  for (const c of cases) {
    it(c.title, () => {
      const fields = value(salesOrderToInvoice(c.o ?? order, c.lines, ctx));
      assert.deepEqual(fields.lines, c.expectedLines);
      assert.equal(invoiceLinesTotal(fields), c.total);
    });
  }
});

describe('salesOrderToInvoice: header', () => {
  it('customer, RefNumber, addresses, PO number, memo and the order id as ExternalGUID', () => {
    const fields = value(
      salesOrderToInvoice(
        {
          ...order,
          description: 'Deliver before noon',
          billto_line1: '1 Main St',
          billto_city: 'Springfield',
          shipto_line1: 'Dock 4',
          shipto_postalcode: '62701',
        },
        [line({})],
        { ...ctx, poNumber: 'PO-77' },
      ),
    );
    assert.deepEqual(fields.customerRef, { listId: '80000001-1' });
    assert.equal(fields.refNumber, 'SO-1001');
    assert.deepEqual(fields.billAddress, { addr1: '1 Main St', city: 'Springfield' });
    assert.deepEqual(fields.shipAddress, { addr1: 'Dock 4', postalCode: '62701' });
    assert.equal(fields.poNumber, 'PO-77');
    assert.equal(fields.memo, 'Deliver before noon');
    assert.equal(fields.externalGuid, '{AAAAAAAA-BBBB-CCCC-DDDD-EEEEEEEEEEEE}');
  });

  const refCases: {
    title: string;
    ordernumber: string;
    rule: InvoiceMappingContext['refNumber'];
    expected: string | undefined;
  }[] = [
    { title: 'verbatim', ordernumber: 'SO-1001', rule: { kind: 'orderNumber' }, expected: 'SO-1001' },
    {
      title: 'exactly 11 characters',
      ordernumber: 'ABCDEFGHIJK',
      rule: { kind: 'orderNumber' },
      expected: 'ABCDEFGHIJK',
    },
    {
      title: 'segment of a Dynamics auto number',
      ordernumber: 'ORD-01001-X4Y5Z6',
      rule: { kind: 'orderNumberSegment', separator: '-', index: 1 },
      expected: '01001',
    },
    {
      title: 'left to QuickBooks',
      ordernumber: 'ORD-01001-X4Y5Z6',
      rule: { kind: 'assignedByQuickBooks' },
      expected: undefined,
    },
  ];
  for (const c of refCases) {
    it(`RefNumber: ${c.title}`, () => {
      const fields = value(
        salesOrderToInvoice({ ...order, ordernumber: c.ordernumber }, [line({})], { ...ctx, refNumber: c.rule }),
      );
      assert.equal(fields.refNumber, c.expected);
    });
  }
});

describe('salesOrderToInvoice: refusals', () => {
  const cases: {
    title: string;
    o?: SalesOrderRecord;
    lines?: SalesOrderLineRecord[];
    c?: Partial<InvoiceMappingContext>;
    field: string;
    rule: string;
  }[] = [
    {
      title: 'order number of 16 characters',
      o: { ...order, ordernumber: 'ORD-01001-X4Y5Z6' },
      field: 'ordernumber',
      rule: 'max-length',
    },
    { title: 'no order number', o: { ...order, ordernumber: null }, field: 'ordernumber', rule: 'required' },
    {
      title: 'missing segment',
      o: { ...order, ordernumber: 'SO1001' },
      c: { refNumber: { kind: 'orderNumberSegment', separator: '-', index: 1 } },
      field: 'ordernumber',
      rule: 'required',
    },
    { title: 'PO number of 26 characters', c: { poNumber: 'P'.repeat(26) }, field: 'poNumber', rule: 'max-length' },
    { title: 'no customer ListID', c: { customerListId: '' }, field: 'customerid', rule: 'required' },
    {
      title: 'product without a QuickBooks item',
      lines: [line({ _productid_value: 'ffff' })],
      field: 'lines[0]._productid_value',
      rule: 'unmapped-product',
    },
    {
      title: 'prototype key is not an item',
      lines: [line({ _productid_value: 'toString' })],
      field: 'lines[0]._productid_value',
      rule: 'unmapped-product',
    },
    {
      title: 'catalog line without product',
      lines: [line({ _productid_value: null })],
      field: 'lines[0]._productid_value',
      rule: 'required',
    },
    {
      title: 'write-in without text',
      lines: [{ isproductoverridden: true, quantity: '1', priceperunit: '1' }],
      field: 'lines[0].productdescription',
      rule: 'required',
    },
    { title: 'missing quantity', lines: [line({ quantity: null })], field: 'lines[0].quantity', rule: 'required' },
    { title: 'zero quantity', lines: [line({ quantity: '0' })], field: 'lines[0].quantity', rule: 'positive' },
    {
      title: 'malformed price',
      lines: [line({ priceperunit: '12,50' })],
      field: 'lines[0].priceperunit',
      rule: 'decimal',
    },
    { title: 'missing price', lines: [line({ priceperunit: null })], field: 'lines[0].priceperunit', rule: 'required' },
    { title: 'no lines', lines: [], field: 'lines', rule: 'required' },
    {
      title: 'discount without a configured discount item',
      lines: [line({ manualdiscountamount: '1' })],
      c: { discountItem: {} },
      field: 'discountItem',
      rule: 'required',
    },
    {
      title: 'freight without a freight item',
      o: { ...order, freightamount: '3' },
      c: { freightItem: {} },
      field: 'freightItem',
      rule: 'required',
    },
    {
      title: 'billing city of 32 characters',
      o: { ...order, billto_city: 'C'.repeat(32) },
      field: 'billto_city',
      rule: 'max-length',
    },
  ];
  for (const c of cases) {
    it(c.title, () =>
      assertError(salesOrderToInvoice(c.o ?? order, c.lines ?? [line({})], { ...ctx, ...c.c }), c.field, c.rule),
    );
  }
});

describe('invoiceTotalsDifference', () => {
  const cases: { title: string; total: string | number; subtotal: string; tax?: string; difference: string }[] = [
    { title: 'agreeing totals', total: '92.50', subtotal: '92.5', difference: '0.00' },
    { title: 'tax included', total: '107.90', subtotal: '100.00', tax: '7.90', difference: '0.00' },
    { title: 'a cent of rounding is reported', total: '59.96', subtotal: '59.97', difference: '0.01' },
    { title: 'invoice lower than order is negative', total: 100, subtotal: '90', difference: '-10.00' },
  ];
  for (const c of cases) {
    it(c.title, () => {
      const d = value(
        invoiceTotalsDifference({ totalamount: c.total }, { subtotal: c.subtotal, salesTaxTotal: c.tax }),
      );
      assert.equal(d.difference, c.difference);
    });
  }
  it('refuses a missing order total', () =>
    assertError(invoiceTotalsDifference({}, { subtotal: '1' }), 'totalamount', 'required'));
});

describe('invoiceToOrderStatus', () => {
  const cases: { title: string; balance: string; isPaid?: boolean; paid: boolean; state: string }[] = [
    { title: 'open invoice', balance: '92.50', paid: false, state: 'invoiced' },
    { title: 'nothing left to pay', balance: '0.00', paid: true, state: 'paid' },
    { title: 'QuickBooks says paid', balance: '0.00', isPaid: true, paid: true, state: 'paid' },
    {
      title: 'QuickBooks says not paid wins over balance',
      balance: '0.00',
      isPaid: false,
      paid: false,
      state: 'invoiced',
    },
    { title: 'partly paid', balance: '10', isPaid: false, paid: false, state: 'invoiced' },
  ];
  for (const c of cases) {
    it(c.title, () => {
      const s = value(
        invoiceToOrderStatus({ txnId: 'C5-1', refNumber: 'SO-1001', balanceRemaining: c.balance, isPaid: c.isPaid }),
      );
      assert.deepEqual(s, {
        invoiceNumber: 'SO-1001',
        txnId: 'C5-1',
        balance: s.balance,
        paid: c.paid,
        state: c.state,
      });
      assert.match(s.balance, /^\d+\.\d{2}$/);
    });
  }
  it('refuses an invoice without number or balance', () => {
    const result = invoiceToOrderStatus({ txnId: 'C5-1' });
    assertError(result, 'refNumber', 'required');
    assertError(result, 'balanceRemaining', 'required');
  });
});

describe('invoiceBalanceAfterRecord', () => {
  const recorded = { balance: '258.00', paid: false };
  const now = (balanceRemaining: string, isPaid?: boolean) => ({
    txnId: 'C5-1',
    refNumber: 'SO-1001',
    balanceRemaining,
    ...(isPaid === undefined ? {} : { isPaid }),
  });

  it('paid in full since the Add: the row is told nothing is owed, and paid', () => {
    assert.deepEqual(invoiceBalanceAfterRecord(recorded, now('0.00', true)), { balance: '0.00', paid: true });
  });
  it('paid in part since the Add: the new balance, still open', () => {
    assert.deepEqual(invoiceBalanceAfterRecord(recorded, now('58', false)), { balance: '58.00', paid: false });
  });
  it('nothing paid since: nothing more to write, however QuickBooks writes the amount', () => {
    assert.equal(invoiceBalanceAfterRecord(recorded, now('258', false)), null);
    assert.equal(invoiceBalanceAfterRecord(recorded, now('258.00')), null);
  });
  it('QuickBooks now says paid with the balance unchanged: its IsPaid is written', () => {
    assert.deepEqual(invoiceBalanceAfterRecord(recorded, now('258.00', true)), { balance: '258.00', paid: true });
  });
  it('the invoice is gone from QuickBooks, or unreadable: nothing, its deletion is the poll’s', () => {
    assert.equal(invoiceBalanceAfterRecord(recorded, undefined), null);
    assert.equal(invoiceBalanceAfterRecord(recorded, { txnId: 'C5-1', refNumber: 'SO-1001' }), null);
  });
});
