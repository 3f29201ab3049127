import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { customerToAccount, type ChoiceMaps } from '../../src/mapping';
import type { CustomerRet, InvoiceRet, ItemServiceRet, QbRecord, VendorRet } from '../../src/qbxml/requests';
import {
  compareListEntity,
  compareOrders,
  type DynamicsRow,
  type InvoiceProjection,
  type OrderProjection,
  ordersNeedingLineCheck,
  projectCustomer,
  projectInvoice,
  projectItem,
  projectOrder,
  projectVendor,
  reconcileConnection,
  type ReconcileInput,
} from '../../src/reconcile/compare';
import { formatReconcileReport } from '../../src/reconcile/report';

const noChoices: ChoiceMaps = { customerTypes: {}, classes: {}, terms: {} };
const ctx = { companyFile: 'east', choices: { ...noChoices, terms: { 'Net 30': 1 } } };

function customer(listId: string, name: string, extra: Partial<CustomerRet> = {}): CustomerRet {
  return { kind: 'Customer', listId, editSequence: '1', name, fullName: name, ...extra };
}

/** The account the sync would have written for a customer, as Dataverse returns it. */
function accountOf(c: CustomerRet, id: string, change: Record<string, string | number | null> = {}): DynamicsRow {
  const mapped = customerToAccount(c, ctx);
  assert.ok(mapped.ok);
  const row: Record<string, string | number | null> = { accountid: id };
  for (const [k, v] of Object.entries(mapped.value)) if (!k.endsWith('@odata.bind')) row[k] = v as string | null;
  return { ...row, ...change };
}

function emptyInput(): ReconcileInput {
  return {
    connection: 'east',
    generatedAt: '2026-01-31T23:00:00.000Z',
    customers: [],
    vendors: [],
    items: [],
    accounts: [],
    products: [],
    orders: [],
    invoices: [],
    orderIdsWithLines: new Set(),
  };
}

const ORDER_A = '11111111-1111-1111-1111-111111111111';
const ORDER_B = '22222222-2222-2222-2222-222222222222';
const ORDER_C = '33333333-3333-3333-3333-333333333333';
const ORDER_D = '44444444-4444-4444-4444-444444444444';
const ORDER_E = '55555555-5555-5555-5555-555555555555';

function order(id: string, extra: Partial<OrderProjection> = {}): OrderProjection {
  return {
    id,
    orderNumber: `ORD-${id.slice(0, 4)}`,
    name: `Order ${id.slice(0, 4)}`,
    totalamount: '100.00',
    statecode: 0,
    customerListId: 'C1',
    txnId: '',
    invoiceNumber: '',
    ...extra,
  };
}

function invoice(txnId: string, extra: Partial<InvoiceProjection> = {}): InvoiceProjection {
  return {
    txnId,
    refNumber: `INV-${txnId}`,
    customerListId: 'C1',
    subtotal: '100.00',
    salesTaxTotal: '0.00',
    ...extra,
  };
}

describe('reconcile: customers and vendors', () => {
  const alice = customer('C1', 'Alice Ltd', {
    phone: '555-0101',
    creditLimit: '5000',
    termsRef: { fullName: 'Net 30' },
  });
  const bob = customer('C2', 'Bob & Co');
  const carol = customer('C3', 'Carol Inc', { email: 'carol@example.com' });

  const cases: {
    name: string;
    quickbooks: CustomerRet[];
    accounts: DynamicsRow[];
    expect: {
      matched: number;
      onlyQb?: string[];
      onlyD?: string[];
      differ?: Record<string, string[]>;
      unmappable?: string[];
    };
  }[] = [
    {
      name: 'identical records agree, money "5000" equals "5000.00"',
      quickbooks: [alice],
      accounts: [accountOf(alice, 'a1', { creditlimit: '5000' })],
      expect: { matched: 1 },
    },
    {
      name: 'a customer without account is only in QuickBooks',
      quickbooks: [alice, bob],
      accounts: [accountOf(alice, 'a1')],
      expect: { matched: 1, onlyQb: ['C2'] },
    },
    {
      name: 'an account whose ListID QuickBooks lacks, and one without ListID, are only in Dynamics',
      quickbooks: [alice],
      accounts: [accountOf(alice, 'a1'), accountOf(bob, 'a2'), { accountid: 'a3', name: 'New in D365' }],
      expect: { matched: 1, onlyD: ['', 'C2'] },
    },
    {
      name: 'a changed phone and credit limit are field differences; blank equals absent',
      quickbooks: [alice, carol],
      accounts: [
        accountOf(alice, 'a1', { telephone1: '555-9999', creditlimit: '4000' }),
        accountOf(carol, 'a3', { fax: '' }),
      ],
      expect: { matched: 2, differ: { C1: ['creditlimit', 'telephone1'] } },
    },
    {
      name: 'a record the mapping refuses is unmappable, not a difference nor missing',
      quickbooks: [customer('C4', 'Dave', { termsRef: { fullName: 'Net 90' } })],
      accounts: [{ accountid: 'a4', name: 'Dave', qbsync_qblistid: 'C4', telephone1: '1' }],
      expect: { matched: 1, unmappable: ['C4'] },
    },
  ];

  for (const c of cases) {
    it(c.name, () => {
      const report = reconcileConnection({
        ...emptyInput(),
        customers: c.quickbooks.map((q) => projectCustomer(q, ctx)),
        accounts: c.accounts,
      });
      const e = report.entities.customers;
      assert.equal(e.quickbooks, c.quickbooks.length);
      assert.equal(e.dynamics, c.accounts.length);
      assert.equal(e.matched, c.expect.matched);
      assert.deepEqual(e.onlyInQuickBooks.map((r) => r.key).sort(), c.expect.onlyQb ?? []);
      assert.deepEqual(e.onlyInDynamics.map((r) => r.key).sort(), c.expect.onlyD ?? []);
      const differ = Object.fromEntries(e.fieldDifferences.map((d) => [d.key, Object.keys(d.columns).sort()]));
      assert.deepEqual(differ, c.expect.differ ?? {});
      assert.deepEqual(
        e.unmappable.map((u) => u.key),
        c.expect.unmappable ?? [],
      );
      const agrees = !c.expect.onlyQb && !c.expect.onlyD && !c.expect.differ && !c.expect.unmappable;
      assert.equal(report.inAgreement, agrees);
    });
  }

  it('reports both values of a difference, the Dataverse row id, and the mapping errors', () => {
    const report = reconcileConnection({
      ...emptyInput(),
      customers: [
        projectCustomer(alice, ctx),
        projectCustomer(customer('C4', 'Dave', { termsRef: { fullName: 'Net 90' } }), ctx),
      ],
      accounts: [accountOf(alice, 'a1', { telephone1: '555-9999' })],
    });
    const [difference] = report.entities.customers.fieldDifferences;
    assert.deepEqual(difference, {
      key: 'C1',
      name: 'Alice Ltd',
      id: 'a1',
      columns: { telephone1: { quickbooks: '555-0101', dynamics: '555-9999' } },
    });
    const [unmappable] = report.entities.customers.unmappable;
    assert.equal(unmappable?.errors[0]?.rule, 'unmapped-choice');
  });

  it('a category Dynamics owns (no customer type in QuickBooks) is not a difference', () => {
    const report = reconcileConnection({
      ...emptyInput(),
      customers: [projectCustomer(bob, ctx)],
      accounts: [accountOf(bob, 'a2', { accountcategorycode: 2 })],
    });
    assert.equal(report.inAgreement, true);
  });

  it('compares a sub-customer’s parent as ListIDs', () => {
    const job = customer('C9', 'Job', { fullName: 'Alice Ltd:Job', parentRef: { listId: 'C1' }, sublevel: 1 });
    const report = reconcileConnection({
      ...emptyInput(),
      customers: [projectCustomer(alice, ctx), projectCustomer(job, ctx)],
      accounts: [accountOf(alice, 'a1'), accountOf(job, 'a9', { _parentaccountid_value: null })],
    });
    assert.deepEqual(report.entities.customers.fieldDifferences[0]?.columns, {
      parentaccountid: { quickbooks: 'C1', dynamics: null },
    });
    const fixed = reconcileConnection({
      ...emptyInput(),
      customers: [projectCustomer(alice, ctx), projectCustomer(job, ctx)],
      accounts: [accountOf(alice, 'a1'), accountOf(job, 'a9', { _parentaccountid_value: 'a1' })],
    });
    assert.equal(fixed.inAgreement, true);
  });

  it('an account marked deleted in QuickBooks is not reported as only in Dynamics', () => {
    const gone = customer('C9', 'Gone Co');
    const result = compareListEntity({
      quickbooks: [],
      dynamics: [accountOf(gone, 'acc-9', { qbsync_qbdeletedon: '2026-01-30T10:00:00-08:00', statecode: 1 })],
      idColumn: 'accountid',
      fieldsOf: () => ({}),
    });
    assert.deepEqual(result.onlyInDynamics, []);
    const kept = compareListEntity({
      quickbooks: [],
      dynamics: [accountOf(gone, 'acc-9')],
      idColumn: 'accountid',
      fieldsOf: () => ({}),
    });
    assert.equal(kept.onlyInDynamics.length, 1);
  });

  it('puts vendor accounts with vendors, by pairing or by relationship type', () => {
    const vendor: VendorRet = { kind: 'Vendor', listId: 'V1', editSequence: '1', name: 'Supplies Inc' };
    const report = reconcileConnection({
      ...emptyInput(),
      customers: [projectCustomer(alice, ctx)],
      vendors: [projectVendor(vendor, ctx)],
      accounts: [
        accountOf(alice, 'a1'),
        { accountid: 'v1', name: 'Supplies Inc', customertypecode: 11, qbsync_qblistid: 'V1' },
        { accountid: 'v2', name: 'Gone Vendor', customertypecode: 11, qbsync_qblistid: 'V2' },
      ],
    });
    assert.equal(report.entities.customers.dynamics, 1);
    assert.equal(report.entities.vendors.dynamics, 2);
    assert.equal(report.entities.vendors.matched, 1);
    assert.deepEqual(
      report.entities.vendors.onlyInDynamics.map((r) => r.name),
      ['Gone Vendor'],
    );
    assert.equal(report.entities.customers.totals.onlyInDynamics, 0);
  });

  it('keeps the report of a badly drifted 10,000-customer file far below the 2 MB payload limit', () => {
    const address = { addr1: '1 A Rather Long Street Name For Testing', city: 'Springfield', postalCode: '12345' };
    const quickbooks: CustomerRet[] = [];
    const accounts: DynamicsRow[] = [];
    for (let i = 0; i < 10_000; i++) {
      const c = customer(`C${i}`, `Customer number ${i} with a long name`, { billAddress: address, phone: '555-0100' });
      quickbooks.push(c);
      if (i % 2 === 0) accounts.push(accountOf(c, `a${i}`, { telephone1: '555-0199', address1_city: 'Shelbyville' }));
      else accounts.push({ accountid: `x${i}`, name: `Stray ${i}`, qbsync_qblistid: `X${i}` });
    }
    const report = reconcileConnection({
      ...emptyInput(),
      customers: quickbooks.map((c) => projectCustomer(c, ctx)),
      accounts,
    });
    const e = report.entities.customers;
    assert.deepEqual(e.totals, { onlyInQuickBooks: 5000, onlyInDynamics: 5000, fieldDifferences: 5000, unmappable: 0 });
    assert.equal(e.fieldDifferences.length, 200);
    assert.ok(JSON.stringify(report).length < 256 * 1024, `${JSON.stringify(report).length} bytes`);
  });

  it('caps every list but keeps the full count', () => {
    const many = Array.from({ length: 7 }, (_, i) => projectCustomer(customer(`C${i}`, `Customer ${i}`), ctx));
    const entity = compareListEntity({
      quickbooks: many,
      dynamics: [],
      idColumn: 'accountid',
      fieldsOf: () => ({}),
      listLimit: 3,
    });
    assert.equal(entity.onlyInQuickBooks.length, 3);
    assert.equal(entity.totals.onlyInQuickBooks, 7);
  });
});

describe('reconcile: items', () => {
  const service: ItemServiceRet = {
    kind: 'ItemService',
    listId: 'I1',
    editSequence: '1',
    name: 'Consulting',
    fullName: 'Consulting',
    salesOrPurchase: { desc: 'Hourly consulting', price: '150' },
  };

  it('only service, non-inventory and inventory items are compared', () => {
    const discount = { kind: 'ItemDiscount', listId: 'I9', editSequence: '1', name: 'Discount' } as QbRecord;
    assert.equal(projectItem(discount, ctx), undefined);
    assert.ok(projectItem(service, ctx));
  });

  it('price "150" equals "150.0000"; a changed price differs', () => {
    const item = projectItem(service, ctx)!;
    const row = { productid: 'p1', qbsync_qblistid: 'I1', name: 'Consulting', description: 'Hourly consulting' };
    const same = reconcileConnection({ ...emptyInput(), items: [item], products: [{ ...row, price: '150.0000' }] });
    assert.equal(same.inAgreement, true);
    const changed = reconcileConnection({ ...emptyInput(), items: [item], products: [{ ...row, price: '149.99' }] });
    assert.deepEqual(changed.entities.items.fieldDifferences[0]?.columns, {
      price: { quickbooks: '150.00', dynamics: '149.99' },
    });
  });
});

describe('reconcile: orders and invoices', () => {
  const run = (orders: OrderProjection[], invoices: InvoiceProjection[], withLines: string[] = []) =>
    compareOrders({ orders, invoices, orderIdsWithLines: new Set(withLines) });

  it('an active order with lines and no invoice is reported; without lines or canceled it is not due', () => {
    const orders = [order(ORDER_A), order(ORDER_B), order(ORDER_C, { statecode: 2 })];
    assert.deepEqual(ordersNeedingLineCheck(orders), [ORDER_A, ORDER_B]);
    const result = run(orders, [], [ORDER_A, ORDER_C]);
    assert.deepEqual(
      result.ordersWithoutInvoice.map((o) => o.id),
      [ORDER_A],
    );
    assert.equal(result.orders.dynamics, 1);
  });

  it('invoiced orders match their invoice; totals equal to the cent agree', () => {
    const result = run(
      [order(ORDER_A, { txnId: 'T1', invoiceNumber: 'INV-T1', statecode: 4, totalamount: '107.5' })],
      [invoice('T1', { subtotal: '100.00', salesTaxTotal: '7.50' }), invoice('T-native', { customerListId: 'C2' })],
    );
    assert.equal(result.orders.matched, 1);
    assert.equal(result.orders.quickbooks, 1, 'an invoice typed in QuickBooks is outside the sync');
    assert.equal(result.totals.amountDifferences, 0);
    assert.deepEqual(result.orders.fieldDifferences, []);
  });

  it('reports amount differences, invoice-number and state differences, and invoices gone from QuickBooks', () => {
    // The order carries tax of its own (7.00), which QuickBooks computed differently (8.25): a real difference. Before
    // orders read their tax, this case had an order without tax, whose difference is now QuickBooks' sales tax alone.
    const result = run(
      [
        order(ORDER_A, {
          txnId: 'T1',
          invoiceNumber: 'INV-T1',
          statecode: 4,
          totalamount: '107.00',
          totaltax: '7.00',
        }),
        order(ORDER_B, { txnId: 'T2', invoiceNumber: 'OLD', statecode: 0 }),
        order(ORDER_C, { txnId: 'T3', invoiceNumber: 'INV-T3', statecode: 4 }),
      ],
      [invoice('T1', { subtotal: '100.00', salesTaxTotal: '8.25' }), invoice('T2')],
    );
    assert.deepEqual(result.amountDifferences, [
      {
        id: ORDER_A,
        orderNumber: 'ORD-1111',
        txnId: 'T1',
        invoiceNumber: 'INV-T1',
        orderTotal: '107.00',
        invoiceTotal: '108.25',
        difference: '1.25',
      },
    ]);
    assert.deepEqual(result.salesTaxOnlyInQuickBooks, []);
    assert.deepEqual(result.orders.fieldDifferences[0]?.columns, {
      qbsync_invoicenumber: { quickbooks: 'INV-T2', dynamics: 'OLD' },
      statecode: { quickbooks: 4, dynamics: 0 },
    });
    assert.deepEqual(result.orders.onlyInDynamics, [{ key: 'T3', id: ORDER_C, name: 'ORD-3333' }]);
  });

  it('an invoice above an order without tax by exactly the sales tax QuickBooks added is explained, not a mismatch', () => {
    const orders = [
      order(ORDER_A, { txnId: 'T1', invoiceNumber: 'INV-T1', statecode: 4, totalamount: '100.00' }),
      order(ORDER_B, { txnId: 'T2', invoiceNumber: 'INV-T2', statecode: 4, totalamount: '100', totaltax: '0' }),
    ];
    const result = run(orders, [
      invoice('T1', { subtotal: '100.00', salesTaxTotal: '8.25' }),
      invoice('T2', { subtotal: '100.00', salesTaxTotal: '7.25' }),
    ]);
    assert.deepEqual(result.amountDifferences, []);
    assert.equal(result.totals.amountDifferences, 0);
    assert.deepEqual(result.salesTaxOnlyInQuickBooks, [
      {
        id: ORDER_A,
        orderNumber: 'ORD-1111',
        txnId: 'T1',
        invoiceNumber: 'INV-T1',
        orderTotal: '100.00',
        invoiceTotal: '108.25',
        salesTax: '8.25',
      },
      {
        id: ORDER_B,
        orderNumber: 'ORD-2222',
        txnId: 'T2',
        invoiceNumber: 'INV-T2',
        orderTotal: '100.00',
        invoiceTotal: '107.25',
        salesTax: '7.25',
      },
    ]);
    assert.equal(result.totals.salesTaxOnlyInQuickBooks, 2);
    const report = reconcileConnection({
      ...emptyInput(),
      orders,
      invoices: [invoice('T1', { salesTaxTotal: '8.25' })],
    });
    assert.equal(report.totals.salesTaxOnlyInQuickBooks, 1);
    assert.equal(report.entities.orders.totals.onlyInDynamics, 1);
    assert.match(
      formatReconcileReport(report),
      /sales tax only in QuickBooks[^\n]*\n {4}ORD-1111 \/ invoice INV-T1: order 100\.00, invoice 108\.25, sales tax 8\.25/,
    );
  });

  it('sales tax explains nothing more than itself: a different amount, or tax on both sides, is an amount difference', () => {
    const result = run(
      [
        // QuickBooks' subtotal differs as well: the difference is not the tax.
        order(ORDER_A, { txnId: 'T1', invoiceNumber: 'INV-T1', statecode: 4, totalamount: '100.00' }),
        // Dynamics taxed the order itself (its total includes 5.00 of tax) and QuickBooks added its own on top.
        order(ORDER_B, { txnId: 'T2', invoiceNumber: 'INV-T2', statecode: 4, totalamount: '100.00', totaltax: '5.00' }),
        // No tax at all in QuickBooks: a plain difference.
        order(ORDER_C, { txnId: 'T3', invoiceNumber: 'INV-T3', statecode: 4, totalamount: '90.00' }),
      ],
      [
        invoice('T1', { subtotal: '101.00', salesTaxTotal: '8.25' }),
        invoice('T2', { subtotal: '100.00', salesTaxTotal: '7.25' }),
        invoice('T3', { subtotal: '100.00', salesTaxTotal: '0.00' }),
      ],
    );
    assert.deepEqual(result.salesTaxOnlyInQuickBooks, []);
    assert.deepEqual(
      result.amountDifferences.map((a) => [a.txnId, a.difference]),
      [
        ['T1', '9.25'],
        ['T2', '7.25'],
        ['T3', '10.00'],
      ],
    );
  });

  it('an order showing that its invoice was deleted in QuickBooks expects no invoice', () => {
    const row = { salesorderid: ORDER_A, qbsync_qbtxnid: 'T9', qbsync_invoicestatus: 'Deleted', statecode: 4 };
    const projected = projectOrder(row, new Map());
    assert.equal(projected.invoiceDeleted, true);
    const result = run([projected, order(ORDER_B, { txnId: 'T8', statecode: 4 })], []);
    assert.deepEqual(
      result.orders.onlyInDynamics.map((o) => o.key),
      ['T8'],
    );
    assert.equal(result.orders.dynamics, 1);
  });

  it('an invoice created for an order that does not record it is only in QuickBooks, not a missing invoice', () => {
    const result = run(
      [order(ORDER_D), order(ORDER_E)],
      [invoice('T9', { externalGuid: `{${ORDER_D.toUpperCase()}}` })],
      [ORDER_D, ORDER_E],
    );
    assert.deepEqual(
      result.orders.onlyInQuickBooks.map((r) => r.key),
      ['T9'],
    );
    assert.deepEqual(
      result.ordersWithoutInvoice.map((o) => o.id),
      [ORDER_E],
    );
  });

  it('an order total that cannot be read is unmappable', () => {
    const result = run(
      [order(ORDER_A, { txnId: 'T1', invoiceNumber: 'INV-T1', statecode: 4, totalamount: null })],
      [invoice('T1')],
    );
    assert.equal(result.orders.unmappable[0]?.errors[0]?.field, 'totalamount');
  });

  it('projects rows and invoices from their wire shapes', () => {
    const projected = projectOrder(
      {
        salesorderid: ORDER_A.toUpperCase(),
        ordernumber: 'ORD-01001-AB12CD',
        name: 'First',
        totalamount: '59.97',
        statecode: 4,
        _customerid_value: 'A1',
        qbsync_qbtxnid: 'T1',
        qbsync_invoicenumber: '01001',
      },
      new Map([['a1', 'C1']]),
    );
    assert.equal(projected.id, ORDER_A);
    assert.equal(projected.customerListId, 'C1');
    const inv: InvoiceRet = {
      kind: 'Invoice',
      txnId: 'T1',
      editSequence: '1',
      refNumber: '01001',
      customerRef: { listId: 'C1', fullName: 'Alice' },
      subtotal: '59.97',
    };
    assert.deepEqual(projectInvoice(inv), { txnId: 'T1', refNumber: '01001', customerListId: 'C1', subtotal: '59.97' });
  });
});

describe('reconcile: the summary', () => {
  it('prints counts per entity, then each difference', () => {
    const alice = customer('C1', 'Alice Ltd', { phone: '555-0101' });
    const report = reconcileConnection({
      ...emptyInput(),
      customers: [projectCustomer(alice, ctx), projectCustomer(customer('C2', 'Bob'), ctx)],
      accounts: [accountOf(alice, 'a1', { telephone1: '555-9999' })],
      orders: [order(ORDER_A)],
      orderIdsWithLines: new Set([ORDER_A]),
    });
    const text = formatReconcileReport(report);
    assert.match(text, /customers\s+2\s+1\s+1\s+1\s+0\s+1\s+0/);
    assert.match(text, /Bob \(C2\)/);
    assert.match(text, /telephone1: "555-0101" ≠ "555-9999"/);
    assert.match(text, /orders without invoice: 1/);
    assert.match(text, /OUT OF AGREEMENT/);
  });
});
