import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  invoiceGate,
  invoiceRowPlan,
  matchInvoice,
  orderChanges,
  orderReadiness,
  quietWait,
} from '../../src/mapping/salesOrderInvoice';
import type { InvoiceRet } from '../../src/qbxml/requests';
import { withDeletedInvoiceRows, type OrderProjection } from '../../src/reconcile/compare';

const ORDER = '9a1c5e2f-6b7d-4e8f-a0b1-c2d3e4f5a6b7';
const OTHER_ORDER = '11111111-2222-3333-4444-555555555555';

function invoice(txnId: string, customer: string, externalGuid?: string): InvoiceRet {
  return {
    kind: 'Invoice',
    txnId,
    refNumber: '1001',
    customerRef: { listId: customer },
    ...(externalGuid === undefined ? {} : { externalGuid }),
  } as InvoiceRet;
}

describe('sales order → invoice: is the order due an invoice', () => {
  const cases: {
    name: string;
    order: Parameters<typeof orderReadiness>[0];
    want: ReturnType<typeof orderReadiness>;
  }[] = [
    { name: 'an active order', order: { statecode: 0 }, want: { kind: 'invoice' } },
    { name: 'a submitted order', order: { statecode: 1, qbsync_qbtxnid: null }, want: { kind: 'invoice' } },
    {
      name: 'already invoiced (a later webhook, a replay)',
      order: { statecode: 4, qbsync_qbtxnid: 'T-7' },
      want: { kind: 'skip', note: 'already invoiced', targetId: 'T-7' },
    },
    {
      name: 'already invoiced wins over canceled: the invoice exists',
      order: { statecode: 2, qbsync_qbtxnid: 'T-7' },
      want: { kind: 'skip', note: 'already invoiced', targetId: 'T-7' },
    },
    { name: 'a canceled order', order: { statecode: 2 }, want: { kind: 'skip', note: 'the order is canceled' } },
  ];
  for (const { name, order, want } of cases) {
    it(name, () => assert.deepEqual(orderReadiness(order), want));
  }
});

describe('sales order → invoice: the invoice already carrying the order number', () => {
  const cases: { name: string; found: InvoiceRet[]; want: string; txnId?: string }[] = [
    { name: 'none: the invoice is due (first time, or after a lost answer)', found: [], want: 'none' },
    {
      name: 'ours by customer and ExternalGUID (an Add whose answer was lost)',
      found: [invoice('T-1', 'C-1', `{${ORDER.toUpperCase()}}`)],
      want: 'ours',
      txnId: 'T-1',
    },
    {
      name: 'ours by customer, made before the link was written',
      found: [invoice('T-2', 'C-1')],
      want: 'ours',
      txnId: 'T-2',
    },
    {
      name: 'ours among others with the same number',
      found: [invoice('T-3', 'C-9'), invoice('T-4', 'C-1', `{${ORDER}}`)],
      want: 'ours',
      txnId: 'T-4',
    },
    { name: 'the number is another customer’s', found: [invoice('T-5', 'C-9')], want: 'numberTaken' },
    {
      name: 'same customer, another order’s invoice',
      found: [invoice('T-6', 'C-1', `{${OTHER_ORDER.toUpperCase()}}`)],
      want: 'numberTaken',
    },
  ];
  for (const { name, found, want, txnId } of cases) {
    it(`${name} → ${want}`, () => {
      const match = matchInvoice(found, 'C-1', ORDER.toUpperCase());
      assert.equal(match.kind, want);
      if (match.kind === 'ours') assert.equal(match.invoice.txnId, txnId);
    });
  }
});

describe('sales order → invoice: the order held to the read its invoice was built from', () => {
  const line = {
    salesorderdetailid: 'L1',
    lineitemnumber: 1,
    _productid_value: 'P1',
    quantity: '2',
    priceperunit: '15',
  };
  const built = {
    order: { salesorderid: 'O1', ordernumber: 'ORD-1', description: 'bikes', modifiedon: '2024-03-01T09:00:00Z' },
    lines: [line],
  };
  const now = (order: object = {}, lines = built.lines) => ({
    order: { ...built.order, statecode: 0, ...order },
    lines,
  });

  const cases: { name: string; current: ReturnType<typeof now> | null; want: ReturnType<typeof invoiceGate> }[] = [
    { name: 'unchanged: add', current: now(), want: { kind: 'add' } },
    {
      name: 'only the connector columns and save time moved: add',
      current: now({ modifiedon: '2024-03-02T09:00:00Z', qbsync_invoicenumber: null }),
      want: { kind: 'add' },
    },
    {
      name: 'a line added: build again',
      current: now({}, [line, { ...line, salesorderdetailid: 'L2', quantity: '1' }]),
      want: { kind: 'rebuild', changes: ['lines[L2] added'] },
    },
    {
      name: 'a quantity and the memo changed: build again, naming both',
      current: now({ description: 'bikes and helmets' }, [{ ...line, quantity: '3' }]),
      want: { kind: 'rebuild', changes: ['description', 'lines[L1].quantity'] },
    },
    {
      name: 'a line removed: build again',
      current: now({}, []),
      want: { kind: 'rebuild', changes: ['lines[L1] removed'] },
    },
    {
      name: 'invoiced by another run meanwhile: no Add',
      current: now({ qbsync_qbtxnid: 'T-5', statecode: 4 }),
      want: { kind: 'skip', note: 'already invoiced', targetId: 'T-5' },
    },
    {
      name: 'canceled meanwhile: no Add',
      current: now({ statecode: 2 }),
      want: { kind: 'skip', note: 'the order is canceled' },
    },
    { name: 'deleted meanwhile: no Add', current: null, want: { kind: 'skip', note: 'the order no longer exists' } },
  ];
  for (const { name, current, want } of cases) {
    it(name, () => assert.deepEqual(invoiceGate(built, current), want));
  }
});

describe('sales order → invoice: an order still being edited waits its quiet period', () => {
  const at = (iso: string) => Date.parse(iso);
  const snapshot = (orderSaved: string | null, lineSaved: string | null) => ({
    order: { modifiedon: orderSaved },
    lines: [{ salesorderdetailid: 'L1', modifiedon: lineSaved }],
  });
  const cases: { name: string; s: ReturnType<typeof snapshot>; now: string; want: number }[] = [
    {
      name: 'saved long ago: no wait',
      s: snapshot('2024-03-01T09:00:00Z', null),
      now: '2024-03-01T10:00:00Z',
      want: 0,
    },
    {
      name: 'order saved 10 s ago: the rest of 30 s',
      s: snapshot('2024-03-01T09:59:50Z', null),
      now: '2024-03-01T10:00:00Z',
      want: 20_000,
    },
    {
      name: 'a line saved after the order (no totals change moved the order): counted from the line',
      s: snapshot('2024-03-01T09:00:00Z', '2024-03-01T09:59:55Z'),
      now: '2024-03-01T10:00:00Z',
      want: 25_000,
    },
    {
      name: 'saved "in the future" (clock skew): at most one quiet period',
      s: snapshot('2024-03-01T11:00:00Z', null),
      now: '2024-03-01T10:00:00Z',
      want: 30_000,
    },
    { name: 'no save times at all: no wait', s: snapshot(null, null), now: '2024-03-01T10:00:00Z', want: 0 },
  ];
  for (const { name, s, now, want } of cases) {
    it(name, () => assert.equal(quietWait(s, at(now), 30_000), want));
  }

  it('the changes after an invoice name the columns, not their values', () => {
    const before = { order: { description: 'secret memo' }, lines: [] };
    const after = { order: { description: 'another secret' }, lines: [] };
    assert.deepEqual(orderChanges(before, after), ['description']);
  });
});

describe('invoice row plan: the QuickBooks invoice onto its Dynamics invoice row, in the order the platform accepts', () => {
  const open = { txnId: 'T1', invoiceNumber: '1001', balance: '500.00', status: 'Open' as const };
  const written = {
    statecode: 0,
    qbsync_qbtxnid: 'T1',
    qbsync_invoicenumber: '1001',
    qbsync_balance: '500.00',
    qbsync_invoicestatus: 'Open',
  };
  const cases = [
    {
      name: 'a fresh row from the conversion gets every column, stays Active',
      current: { statecode: 0 },
      wanted: open,
      want: {
        reactivate: false,
        columns: {
          qbsync_qbtxnid: 'T1',
          qbsync_invoicenumber: '1001',
          qbsync_balance: '500.00',
          qbsync_invoicestatus: 'Open',
        },
        close: null,
      },
    },
    {
      name: 'a row as wanted gets nothing',
      current: written,
      wanted: open,
      want: { reactivate: false, columns: {}, close: null },
    },
    {
      name: 'paid in full: the columns while Active, then Paid / Complete',
      current: written,
      wanted: { ...open, balance: '0.00', status: 'Paid' as const },
      want: {
        reactivate: false,
        columns: { qbsync_balance: '0.00', qbsync_invoicestatus: 'Paid' },
        close: { statecode: 2, statuscode: 100001 },
      },
    },
    {
      name: 'a paid row seen paid again gets nothing',
      current: { ...written, statecode: 2, qbsync_balance: '0.00', qbsync_invoicestatus: 'Paid' },
      wanted: { ...open, balance: '0.00', status: 'Paid' as const },
      want: { reactivate: false, columns: {}, close: null },
    },
    {
      name: 'a payment reversed: a Paid row is reactivated before its balance is written',
      current: { ...written, statecode: 2, qbsync_balance: '0.00', qbsync_invoicestatus: 'Paid' },
      wanted: open,
      want: { reactivate: true, columns: { qbsync_balance: '500.00', qbsync_invoicestatus: 'Open' }, close: null },
    },
    {
      name: 'deleted after it was paid: reactivated, marked, then Canceled',
      current: { ...written, statecode: 2, qbsync_balance: '0.00', qbsync_invoicestatus: 'Paid' },
      wanted: { txnId: 'T1', balance: '0.00', status: 'Deleted' as const },
      want: {
        reactivate: true,
        columns: { qbsync_invoicestatus: 'Deleted' },
        close: { statecode: 3, statuscode: 100003 },
      },
    },
  ];
  for (const c of cases) {
    it(c.name, () => assert.deepEqual(invoiceRowPlan(c.current, c.wanted), c.want));
  }

  it('reconcile takes an order whose invoice row shows the deletion as deleted, matched by TxnID', () => {
    const order = (txnId: string): OrderProjection => ({
      id: txnId,
      orderNumber: '',
      name: '',
      totalamount: null,
      statecode: 4,
      customerListId: '',
      txnId,
      invoiceNumber: '',
    });
    const marked = withDeletedInvoiceRows(
      [order('T1'), order('T2')],
      [
        { invoiceid: 'a', qbsync_qbtxnid: 'T1', qbsync_invoicestatus: 'Deleted' },
        { invoiceid: 'b', qbsync_qbtxnid: 'T2', qbsync_invoicestatus: 'Paid' },
      ],
    );
    assert.deepEqual(
      marked.map((o) => o.invoiceDeleted === true),
      [true, false],
    );
  });
});
