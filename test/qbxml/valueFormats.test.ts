import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildQbxmlMessage, QbxmlFieldError, type QbxmlRequest } from '../../src/qbxml';

/** Builds one request and returns the QbxmlFieldError it raises, failing the test when it builds. */
function refusal(req: QbxmlRequest): QbxmlFieldError {
  let caught: unknown;
  try {
    buildQbxmlMessage([req]);
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof QbxmlFieldError, `expected a QbxmlFieldError, got ${String(caught)}`);
  return caught;
}

const invoiceLine = (line: Record<string, unknown>): QbxmlRequest =>
  ({
    type: 'InvoiceAdd',
    requestId: 'r',
    fields: { customerRef: { fullName: 'c' }, lines: [{ itemRef: { fullName: 'i' }, ...line }] },
  }) as QbxmlRequest;

describe('value formats QuickBooks refuses are refused by the builder, naming field and rule', () => {
  const refused: Array<{ name: string; req: QbxmlRequest; field: string; rule: RegExp }> = [
    {
      name: 'amount with one decimal',
      req: invoiceLine({ amount: '500.5' }),
      field: 'lines[0].amount',
      rule: /AMTTYPE/,
    },
    {
      name: 'amount with three decimals',
      req: invoiceLine({ amount: '500.125' }),
      field: 'lines[0].amount',
      rule: /exactly two/,
    },
    {
      name: 'amount with 14 integer digits',
      req: invoiceLine({ amount: '12345678901234' }),
      field: 'lines[0].amount',
      rule: /13 digits/,
    },
    {
      name: 'price with 6 decimals',
      req: invoiceLine({ rate: '1.123456' }),
      field: 'lines[0].rate',
      rule: /PRICETYPE/,
    },
    {
      name: 'quantity with 6 decimals',
      req: invoiceLine({ quantity: '1.000001' }),
      field: 'lines[0].quantity',
      rule: /QUANTYPE/,
    },
    {
      name: 'percent with 6 decimals',
      req: invoiceLine({ ratePercent: '10.000001' }),
      field: 'lines[0].ratePercent',
      rule: /PERCENTTYPE/,
    },
    {
      name: 'an impossible date',
      req: invoiceLine({ serviceDate: '2024-02-30' }),
      field: 'lines[0].serviceDate',
      rule: /exists/,
    },
    {
      name: 'a GUID that is not one',
      req: { type: 'CustomerAdd', requestId: 'r', fields: { name: 'n', externalGuid: 'abc' } },
      field: 'externalGuid',
      rule: /\{XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX\}/,
    },
    {
      name: 'a GUID without braces',
      req: {
        type: 'CustomerAdd',
        requestId: 'r',
        fields: { name: 'n', externalGuid: '6B29FC40-CA47-1067-B31D-00DD010662DA' },
      },
      field: 'externalGuid',
      rule: /GUID/,
    },
    {
      name: 'an impossible modified date in a query',
      req: { type: 'CustomerQuery', requestId: 'r', fromModifiedDate: '2024-13-01T00:00:00' },
      field: 'fromModifiedDate',
      rule: /YYYY-MM-DD/,
    },
  ];
  for (const c of refused) {
    it(`refuses ${c.name}`, () => {
      const err = refusal(c.req);
      assert.equal(err.field, c.field);
      assert.match(err.message, c.rule);
      assert.ok(err.message.includes(c.field));
    });
  }

  const narrowRefs: Array<[string, number, (fullName: string) => QbxmlRequest]> = [
    [
      'salesTaxCodeRef',
      3,
      (n) => ({ type: 'CustomerAdd', requestId: 'r', fields: { name: 'n', salesTaxCodeRef: { fullName: n } } }),
    ],
    [
      'salesRepRef',
      5,
      (n) => ({ type: 'CustomerAdd', requestId: 'r', fields: { name: 'n', salesRepRef: { fullName: n } } }),
    ],
    ['termsRef', 31, (n) => ({ type: 'VendorAdd', requestId: 'r', fields: { name: 'n', termsRef: { fullName: n } } })],
    [
      'currencyRef',
      64,
      (n) => ({ type: 'CustomerAdd', requestId: 'r', fields: { name: 'n', currencyRef: { fullName: n } } }),
    ],
    [
      'shipMethodRef',
      15,
      (n) => ({
        type: 'InvoiceAdd',
        requestId: 'r',
        fields: { customerRef: { fullName: 'c' }, shipMethodRef: { fullName: n } },
      }),
    ],
    [
      'templateRef',
      31,
      (n) => ({
        type: 'InvoiceAdd',
        requestId: 'r',
        fields: { customerRef: { fullName: 'c' }, templateRef: { fullName: n } },
      }),
    ],
    [
      'customerMsgRef',
      101,
      (n) => ({
        type: 'InvoiceAdd',
        requestId: 'r',
        fields: { customerRef: { fullName: 'c' }, customerMsgRef: { fullName: n } },
      }),
    ],
    [
      'salesAndPurchase.prefVendorRef',
      41,
      (n) =>
        ({
          type: 'ItemNonInventoryAdd',
          requestId: 'r',
          fields: { name: 'n', salesAndPurchase: { prefVendorRef: { fullName: n } } },
        }) as QbxmlRequest,
    ],
  ];
  for (const [field, limit, build] of narrowRefs) {
    it(`limits ${field} names to ${limit} characters`, () => {
      assert.doesNotThrow(() => buildQbxmlMessage([build('x'.repeat(limit))]));
      const err = refusal(build('x'.repeat(limit + 1)));
      assert.equal(err.field, `${field}.fullName`);
      assert.equal(err.limit, limit);
    });
  }

  it('accepts the forms QuickBooks accepts, unchanged', () => {
    const xml = buildQbxmlMessage([
      invoiceLine({ amount: '1234567890123.45', rate: '1.12345', quantity: '-2.5', serviceDate: '2024-02-29' }),
      {
        type: 'CustomerAdd',
        requestId: 's',
        fields: { name: 'n', externalGuid: '{6B29FC40-CA47-1067-B31D-00DD010662DA}' },
      },
      { type: 'CustomerAdd', requestId: 't', fields: { name: 'm', creditLimit: '500' } },
    ]);
    for (const value of [
      '1234567890123.45',
      '1.12345',
      '-2.5',
      '2024-02-29',
      '{6B29FC40-CA47-1067-B31D-00DD010662DA}',
      '>500<',
    ]) {
      assert.ok(xml.includes(value), value);
    }
  });
});
