import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildQbxmlMessage } from '../../src/qbxml/build';
import type { InvoiceRet, QbxmlRequest, SalesOrderRet } from '../../src/qbxml/requests';
import type { CompanyFileSimulator } from '../../src/sandbox/quickbooks/companyFile';
import { RECORD_GUID, assertRefusedBeforeSending, companyFileWith, send } from '../support/transactionCodec';
import { bodyOf, childNames, requestElements } from './elementOrder';

/**
 * Sales orders through the codec and the QuickBooks simulator, and invoices linked to them as accounting makes them in
 * QuickBooks: what the sales-order mode sends and then follows.
 */

const simulator = (): CompanyFileSimulator => companyFileWith('sales-orders', ['Buyer', 'Other buyer']);

const salesOrderAdd = (refNumber: string): QbxmlRequest => ({
  type: 'SalesOrderAdd',
  requestId: 'a',
  fields: {
    customerRef: { fullName: 'Buyer' },
    refNumber,
    externalGuid: RECORD_GUID,
    lines: [
      { itemRef: { fullName: 'Labor' }, desc: 'Fitting', quantity: '4', rate: '40.00', amount: '160.00' },
      { itemRef: { fullName: 'Labor' }, desc: 'Survey', quantity: '1', rate: '100.00' },
    ],
  },
});

function addSalesOrder(s: CompanyFileSimulator, refNumber: string): SalesOrderRet {
  const [added] = send(s, salesOrderAdd(refNumber));
  assert.equal(added!.statusCode, 0, added!.statusMessage);
  return added!.records[0] as SalesOrderRet;
}

function readSalesOrder(s: CompanyFileSimulator, txnId: string): SalesOrderRet {
  const [read] = send(s, {
    type: 'SalesOrderQuery',
    requestId: 'q',
    txnIds: [txnId],
    includeLineItems: true,
    includeLinkedTxns: true,
  });
  return read!.records[0] as SalesOrderRet;
}

describe('SalesOrderAdd / SalesOrderMod in the codec', () => {
  it('writes a SalesOrderAdd in qbXML 13 order: IsManuallyClosed after ItemSalesTaxRef, ExternalGUID before the lines', () => {
    const xml = buildQbxmlMessage([
      {
        type: 'SalesOrderAdd',
        requestId: 'a',
        fields: {
          lines: [{ isManuallyClosed: false, amount: '1.00', itemRef: { listId: '80000001-1' }, quantity: '1' }],
          externalGuid: RECORD_GUID,
          memo: 'm',
          isManuallyClosed: false,
          shipDate: '2024-03-02',
          poNumber: 'PO',
          refNumber: '1001',
          customerRef: { listId: '80000002-1' },
        },
      },
    ]);
    const [rq] = requestElements(xml);
    assert.equal(rq!.name, 'SalesOrderAddRq');
    assert.deepEqual(childNames(bodyOf(rq!)), [
      'CustomerRef',
      'RefNumber',
      'PONumber',
      'ShipDate',
      'IsManuallyClosed',
      'Memo',
      'ExternalGUID',
      'SalesOrderLineAdd',
    ]);
    const line = bodyOf(rq!).children.find((c) => c.name === 'SalesOrderLineAdd')!;
    assert.deepEqual(childNames(line), ['ItemRef', 'Quantity', 'Amount', 'IsManuallyClosed']);
  });

  it('refuses before sending what QuickBooks refuses: a sales order without lines or customer, a Mod without its TxnID', () => {
    const refused: Array<[QbxmlRequest, RegExp]> = [
      [{ type: 'SalesOrderAdd', requestId: 'a', fields: { customerRef: { fullName: 'B' }, lines: [] } }, /lines/],
      [{ type: 'SalesOrderAdd', requestId: 'a', fields: { customerRef: { fullName: 'B' } } as never }, /lines/],
      [{ type: 'SalesOrderAdd', requestId: 'a', fields: { lines: [{ amount: '1.00' }] } as never }, /customerRef/],
      [{ type: 'SalesOrderMod', requestId: 'm', fields: { editSequence: '1' } as never }, /txnId/],
    ];
    assertRefusedBeforeSending(refused);
  });
});

describe('sales orders and the invoices linked to them in the QuickBooks simulator', () => {
  it('adds a sales order, open and not invoiced, and closes it by SalesOrderMod', () => {
    const s = simulator();
    const order = addSalesOrder(s, 'SO-1');
    assert.equal(order.externalGuid, RECORD_GUID);
    assert.equal(order.isFullyInvoiced, false);
    assert.equal(order.isManuallyClosed, false);
    assert.deepEqual(
      order.lines?.map((l) => [l.quantity, l.amount, l.invoiced]),
      [
        ['4', '160.00', '0'],
        ['1', '100.00', '0'],
      ],
    );
    const [modded] = send(s, {
      type: 'SalesOrderMod',
      requestId: 'm',
      fields: { txnId: order.txnId, editSequence: order.editSequence, isManuallyClosed: true },
    });
    assert.equal(modded!.statusCode, 0, modded!.statusMessage);
    assert.equal((modded!.records[0] as SalesOrderRet).isManuallyClosed, true);
    const [stale] = send(s, {
      type: 'SalesOrderMod',
      requestId: 'm',
      fields: { txnId: order.txnId, editSequence: order.editSequence, memo: 'again' },
    });
    assert.equal(stale!.statusCode, 3200, stale!.statusMessage);
  });

  it('invoices part of a sales order by line (LinkToTxn), then the rest (LinkToTxnID): Invoiced, IsFullyInvoiced and LinkedTxn follow', () => {
    const s = simulator();
    const order = addSalesOrder(s, 'SO-2');
    const [fitting, survey] = order.lines!;

    const [partial] = send(s, {
      type: 'InvoiceAdd',
      requestId: 'p',
      fields: {
        customerRef: { fullName: 'Buyer' },
        refNumber: 'INV-1',
        lines: [{ quantity: '1', linkToTxn: { txnId: order.txnId, txnLineId: fitting!.txnLineId } }],
      },
    });
    assert.equal(partial!.statusCode, 0, partial!.statusMessage);
    const first = partial!.records[0] as InvoiceRet;
    assert.deepEqual(
      first.lines?.map((l) => [l.itemRef?.fullName, l.desc, l.quantity, l.rate, l.amount]),
      [['Labor', 'Fitting', '1', '40.00', '40.00']],
      'the linked line takes the sales-order line item, description and price',
    );
    assert.deepEqual(
      first.linkedTxns?.map((t) => [t.txnId, t.txnType, t.refNumber]),
      [[order.txnId, 'SalesOrder', 'SO-2']],
    );
    let now = readSalesOrder(s, order.txnId);
    assert.equal(now.isFullyInvoiced, false);
    assert.notEqual(now.editSequence, order.editSequence, 'invoicing modifies the sales order');
    assert.deepEqual(
      now.lines?.map((l) => l.invoiced),
      ['1', '0'],
    );
    assert.deepEqual(
      now.linkedTxns?.map((t) => [t.txnId, t.txnType, t.refNumber]),
      [[first.txnId, 'Invoice', 'INV-1']],
    );

    const [rest] = send(s, {
      type: 'InvoiceAdd',
      requestId: 'r',
      fields: { customerRef: { fullName: 'Buyer' }, refNumber: 'INV-2', linkToTxnIds: [order.txnId] },
    });
    assert.equal(rest!.statusCode, 0, rest!.statusMessage);
    const second = rest!.records[0] as InvoiceRet;
    assert.deepEqual(
      second.lines?.map((l) => [l.desc, l.quantity, l.amount]),
      [
        ['Fitting', '3', '120.00'],
        ['Survey', '1', '100.00'],
      ],
      'LinkToTxnID brings what is still open on every line',
    );
    assert.equal(second.balanceRemaining, '220.00');
    now = readSalesOrder(s, order.txnId);
    assert.equal(now.isFullyInvoiced, true);
    assert.deepEqual(
      now.lines?.map((l) => l.invoiced),
      ['4', '1'],
    );
    assert.deepEqual(
      now.linkedTxns?.map((t) => t.refNumber),
      ['INV-1', 'INV-2'],
    );
    assert.equal(survey!.invoiced, '0');

    // Without IncludeLinkedTxns a query leaves the links out.
    const [plain] = send(s, { type: 'SalesOrderQuery', requestId: 'q', txnIds: [order.txnId] });
    assert.equal((plain!.records[0] as SalesOrderRet).linkedTxns, undefined);
    const [invoices] = send(s, {
      type: 'InvoiceQuery',
      requestId: 'q',
      refNumbers: ['INV-1'],
      includeLinkedTxns: true,
    });
    assert.equal((invoices!.records[0] as InvoiceRet).linkedTxns?.[0]?.txnId, order.txnId);
  });

  it('refuses links QuickBooks refuses and leaves the sales order as it was: a fully invoiced order, another customer, an item on a linked line, an unknown order', () => {
    const s = simulator();
    const order = addSalesOrder(s, 'SO-3');
    const line = order.lines![0]!;
    const refusals: Array<[QbxmlRequest, number]> = [
      [
        {
          type: 'InvoiceAdd',
          requestId: 'x',
          fields: { customerRef: { fullName: 'Other buyer' }, linkToTxnIds: [order.txnId] },
        },
        3180,
      ],
      [
        {
          type: 'InvoiceAdd',
          requestId: 'x',
          fields: {
            customerRef: { fullName: 'Buyer' },
            lines: [{ itemRef: { fullName: 'Labor' }, linkToTxn: { txnId: order.txnId, txnLineId: line.txnLineId } }],
          },
        },
        3180,
      ],
      [
        {
          type: 'InvoiceAdd',
          requestId: 'x',
          fields: { customerRef: { fullName: 'Buyer' }, linkToTxnIds: ['FFFF-1709312400'] },
        },
        3120,
      ],
    ];
    for (const [request, status] of refusals) {
      const [refused] = send(s, request);
      assert.equal(refused!.statusCode, status, refused!.statusMessage);
    }
    const untouched = readSalesOrder(s, order.txnId);
    assert.equal(untouched.editSequence, order.editSequence);
    assert.deepEqual(
      untouched.lines?.map((l) => l.invoiced),
      ['0', '0'],
    );
    assert.equal(untouched.linkedTxns, undefined);

    const [whole] = send(s, {
      type: 'InvoiceAdd',
      requestId: 'w',
      fields: { customerRef: { fullName: 'Buyer' }, linkToTxnIds: [order.txnId] },
    });
    assert.equal(whole!.statusCode, 0, whole!.statusMessage);
    const [again] = send(s, {
      type: 'InvoiceAdd',
      requestId: 'w',
      fields: { customerRef: { fullName: 'Buyer' }, linkToTxnIds: [order.txnId] },
    });
    assert.equal(again!.statusCode, 3180, 'a fully invoiced sales order and nothing else is an empty invoice');
    const [invoices] = send(s, { type: 'InvoiceQuery', requestId: 'q', entityListId: order.customerRef!.listId! });
    assert.equal(invoices!.records.length, 1, 'the refused Adds saved nothing');
  });
});
