import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { matchInvoice, orderReadiness } from '../../src/mapping/salesOrderInvoice';
import type { InvoiceRet } from '../../src/qbxml/requests';

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
