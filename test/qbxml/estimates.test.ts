import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildQbxmlMessage } from '../../src/qbxml/build';
import type { EstimateRet, QbxmlRequest } from '../../src/qbxml/requests';
import type { CompanyFileSimulator } from '../../src/sandbox/quickbooks/companyFile';
import { RECORD_GUID, assertRefusedBeforeSending, companyFileWith, send } from '../support/transactionCodec';
import { bodyOf, childNames, requestElements } from './elementOrder';

/** Estimates through the codec and the QuickBooks simulator: what the won-opportunity flow sends and reads back. */

const simulator = (): CompanyFileSimulator => companyFileWith('estimates', ['Buyer']);

const estimateAdd = (refNumber: string): QbxmlRequest => ({
  type: 'EstimateAdd',
  requestId: 'a',
  fields: {
    customerRef: { fullName: 'Buyer' },
    refNumber,
    memo: 'Won opportunity',
    externalGuid: RECORD_GUID,
    lines: [
      { itemRef: { fullName: 'Labor' }, desc: 'Fitting', quantity: '3', rate: '40.00', amount: '120.00' },
      { itemRef: { fullName: 'Labor' }, quantity: '1.5' },
    ],
  },
});

describe('EstimateAdd / EstimateMod / EstimateQuery in the codec', () => {
  it('writes an EstimateAdd in qbXML 13 order: CustomerRef first, IsActive after the addresses, ExternalGUID before the lines', () => {
    const xml = buildQbxmlMessage([
      {
        type: 'EstimateAdd',
        requestId: 'a',
        fields: {
          externalGuid: RECORD_GUID,
          lines: [{ amount: '1.00', itemRef: { listId: '80000001-1' }, quantity: '1', rate: '1.00' }],
          memo: 'm',
          poNumber: 'PO',
          isActive: true,
          billAddress: { addr1: 'x' },
          refNumber: '1001',
          customerRef: { listId: '80000002-1' },
        },
      },
    ]);
    const [rq] = requestElements(xml);
    assert.deepEqual(childNames(bodyOf(rq!)), [
      'CustomerRef',
      'RefNumber',
      'BillAddress',
      'IsActive',
      'PONumber',
      'Memo',
      'ExternalGUID',
      'EstimateLineAdd',
    ]);
    const line = bodyOf(rq!).children.find((c) => c.name === 'EstimateLineAdd')!;
    assert.deepEqual(childNames(line), ['ItemRef', 'Quantity', 'Rate', 'Amount']);
  });

  it('refuses what QuickBooks refuses before anything is sent: no customer, a rate and a percentage, a long number, a Mod without its TxnID', () => {
    const refused: Array<[QbxmlRequest, RegExp]> = [
      [{ type: 'EstimateAdd', requestId: 'a', fields: {} as never }, /customerRef/],
      [
        {
          type: 'EstimateAdd',
          requestId: 'a',
          fields: { customerRef: { fullName: 'B' }, lines: [{ rate: '1.00', ratePercent: '10' }] },
        },
        /rate/,
      ],
      [
        { type: 'EstimateAdd', requestId: 'a', fields: { customerRef: { fullName: 'B' }, refNumber: '123456789012' } },
        /refNumber/,
      ],
      [{ type: 'EstimateMod', requestId: 'm', fields: { editSequence: '1' } as never }, /txnId/],
    ];
    assertRefusedBeforeSending(refused);
  });

  it('writes an EstimateQuery by RefNumber with its lines', () => {
    const xml = buildQbxmlMessage([
      { type: 'EstimateQuery', requestId: 'q', refNumbers: ['1001'], includeLineItems: true },
    ]);
    const [rq] = requestElements(xml);
    assert.equal(rq!.name, 'EstimateQueryRq');
    assert.deepEqual(childNames(rq!), ['RefNumber', 'IncludeLineItems']);
  });
});

describe('estimates in the QuickBooks simulator', () => {
  it('adds an estimate with its lines priced like QuickBooks (item price when no rate) and finds it by number', () => {
    const s = simulator();
    const [added] = send(s, estimateAdd('1001'));
    assert.equal(added!.statusCode, 0, added!.statusMessage);
    const estimate = added!.records[0] as EstimateRet;
    assert.equal(estimate.kind, 'Estimate');
    assert.equal(estimate.refNumber, '1001');
    assert.equal(estimate.isActive, true);
    assert.equal(estimate.externalGuid, RECORD_GUID);
    assert.deepEqual(
      estimate.lines?.map((l) => [l.quantity, l.rate, l.amount]),
      [
        ['3', '40.00', '120.00'],
        ['1.5', '33.33', '50.00'],
      ],
    );
    assert.equal(estimate.totalAmount, '170.00');

    const [found] = send(s, { type: 'EstimateQuery', requestId: 'q', refNumbers: ['1001'], includeLineItems: true });
    assert.deepEqual(
      found!.records.map((r) => (r as EstimateRet).txnId),
      [estimate.txnId],
    );
    const [none] = send(s, { type: 'EstimateQuery', requestId: 'q', refNumbers: ['9999'] });
    assert.equal(none!.statusCode, 1, 'nothing matched is status 1, not an error');
    // Invoices are another list: the estimate's number finds no invoice.
    const [invoices] = send(s, { type: 'InvoiceQuery', requestId: 'q', refNumbers: ['1001'] });
    assert.equal(invoices!.records.length, 0);
  });

  it('refuses an estimate for a customer the file does not have (3140) and a Mod on an old EditSequence (3200)', () => {
    const s = simulator();
    const [unknown] = send(s, {
      type: 'EstimateAdd',
      requestId: 'a',
      fields: { customerRef: { fullName: 'Nobody' }, lines: [{ itemRef: { fullName: 'Labor' }, quantity: '1' }] },
    });
    assert.equal(unknown!.statusCode, 3140, unknown!.statusMessage);

    const [added] = send(s, estimateAdd('1002'));
    const estimate = added!.records[0] as EstimateRet;
    const [modded] = send(s, {
      type: 'EstimateMod',
      requestId: 'm',
      fields: { txnId: estimate.txnId, editSequence: estimate.editSequence, memo: 'Revised', isActive: false },
    });
    assert.equal(modded!.statusCode, 0, modded!.statusMessage);
    const after = modded!.records[0] as EstimateRet;
    assert.equal(after.memo, 'Revised');
    assert.equal(after.isActive, false);
    assert.equal(after.lines?.length, 2, 'a Mod that sends no line keeps every line');

    const [stale] = send(s, {
      type: 'EstimateMod',
      requestId: 'm',
      fields: { txnId: estimate.txnId, editSequence: estimate.editSequence, memo: 'Again' },
    });
    assert.equal(stale!.statusCode, 3200, stale!.statusMessage);
  });

  it('refuses an EstimateAdd whose elements are out of qbXML order, as QuickBooks does, and saves nothing', () => {
    const s = simulator();
    const xml =
      '<?xml version="1.0" encoding="utf-8"?>\n<?qbxml version="13.0"?>\n<QBXML><QBXMLMsgsRq onError="continueOnError">' +
      '<EstimateAddRq requestID="1"><EstimateAdd><RefNumber>1003</RefNumber><CustomerRef><FullName>Buyer</FullName></CustomerRef>' +
      '</EstimateAdd></EstimateAddRq></QBXMLMsgsRq></QBXML>';
    assert.throws(() => s.processRequest(xml), /parse|order|CustomerRef|RefNumber/i);
    const [found] = send(s, { type: 'EstimateQuery', requestId: 'q', refNumbers: ['1003'] });
    assert.equal(found!.records.length, 0);
  });
});
