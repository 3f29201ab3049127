import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CompanyFileSimulator, QuickBooksParseError } from '../../../src/sandbox/quickbooks/companyFile';

function msg(body: string): string {
  return `<?xml version="1.0" encoding="utf-8"?>\n<?qbxml version="13.0"?>\n<QBXML><QBXMLMsgsRq onError="continueOnError">${body}</QBXMLMsgsRq></QBXML>`;
}
/** The first `*Rs` of the answer: its status attributes and whole text. */
function answer(s: CompanyFileSimulator, body: string): { code: number; message: string; xml: string } {
  const xml = s.processRequest(msg(body));
  const m = /<\w+Rs\b[^>]*statusCode="(\d+)"[^>]*statusMessage="([^"]*)"/.exec(xml);
  assert.ok(m, xml);
  return { code: Number(m[1]), message: (m[2] ?? '').replace(/&quot;/g, '"').replace(/&amp;/g, '&'), xml };
}

function setup(): CompanyFileSimulator {
  const s = new CompanyFileSimulator({ name: 'strict', now: () => new Date('2024-03-01T17:00:00Z') });
  assert.equal(answer(s, '<CustomerAddRq><CustomerAdd><Name>Buyer</Name></CustomerAdd></CustomerAddRq>').code, 0);
  const item =
    '<ItemServiceAddRq><ItemServiceAdd><Name>Labor</Name><SalesOrPurchase><Price>33.33</Price>' +
    '<AccountRef><FullName>Service Income</FullName></AccountRef></SalesOrPurchase></ItemServiceAdd></ItemServiceAddRq>';
  assert.equal(answer(s, item).code, 0);
  return s;
}
const invoice = (header: string, line: string) =>
  `<InvoiceAddRq><InvoiceAdd><CustomerRef><FullName>Buyer</FullName></CustomerRef>${header}` +
  `<InvoiceLineAdd><ItemRef><FullName>Labor</FullName></ItemRef>${line}</InvoiceLineAdd></InvoiceAdd></InvoiceAddRq>`;

describe('the simulator refuses value formats QuickBooks refuses, never fixing a value', () => {
  const refused: Array<{ name: string; body: string; code: number; message: RegExp }> = [
    {
      name: 'an amount with one decimal',
      body: invoice('', '<Amount>500.5</Amount>'),
      code: 3040,
      message: /amount "500.5" in the field "Amount"/,
    },
    {
      name: 'an amount with three decimals',
      body: invoice('', '<Amount>500.125</Amount>'),
      code: 3040,
      message: /500.125/,
    },
    {
      name: 'an amount of 14 integer digits',
      body: invoice('', '<Amount>12345678901234</Amount>'),
      code: 3040,
      message: /12345678901234/,
    },
    {
      name: 'a price with 6 decimals',
      body: invoice('', '<Quantity>1</Quantity><Rate>1.123456</Rate>'),
      code: 3040,
      message: /price "1.123456" in the field "Rate"/,
    },
    {
      name: 'a quantity with 6 decimals',
      body: invoice('', '<Quantity>1.000001</Quantity>'),
      code: 3040,
      message: /quantity/,
    },
    {
      name: 'a percent with 6 decimals',
      body: invoice('', '<RatePercent>1.000001</RatePercent>'),
      code: 3040,
      message: /percent/,
    },
    {
      name: 'an impossible transaction date',
      body: invoice('<TxnDate>2024-02-30</TxnDate>', '<Amount>1.00</Amount>'),
      code: 3020,
      message: /2024-02-30/,
    },
    {
      name: 'a GUID that is not one',
      body: '<CustomerAddRq><CustomerAdd><Name>G</Name><ExternalGUID>abc</ExternalGUID></CustomerAdd></CustomerAddRq>',
      code: 3000,
      message: /"abc" in the field "ExternalGUID"/,
    },
    {
      name: 'a sales tax code name over 3 characters',
      body: '<CustomerAddRq><CustomerAdd><Name>T</Name><SalesTaxCodeRef><FullName>Taxable</FullName></SalesTaxCodeRef></CustomerAdd></CustomerAddRq>',
      code: 3070,
      message: /"Taxable" in the field "FullName" is too long/,
    },
    {
      name: 'a sales rep over 5 characters',
      body: invoice('<SalesRepRef><FullName>ABCDEF</FullName></SalesRepRef>', '<Amount>1.00</Amount>'),
      code: 3070,
      message: /ABCDEF/,
    },
    {
      name: 'terms over 31 characters',
      body: `<CustomerAddRq><CustomerAdd><Name>U</Name><TermsRef><FullName>${'t'.repeat(32)}</FullName></TermsRef></CustomerAdd></CustomerAddRq>`,
      code: 3070,
      message: /too long/,
    },
  ];
  for (const c of refused) {
    it(`answers ${c.code} for ${c.name} and stores nothing`, () => {
      const s = setup();
      const before = { invoices: s.count('Invoice'), customers: s.count('Customer') };
      const rs = answer(s, c.body);
      assert.equal(rs.code, c.code, rs.xml);
      assert.match(rs.message, c.message);
      assert.deepEqual({ invoices: s.count('Invoice'), customers: s.count('Customer') }, before);
    });
  }

  it('keeps accepted forms as sent: two-decimal and whole amounts, five-decimal prices, GUID 0', () => {
    const s = setup();
    const rs = answer(
      s,
      invoice('<TxnDate>2024-02-29</TxnDate>', '<Quantity>2.5</Quantity><Rate>1.12345</Rate><Amount>2.81</Amount>'),
    );
    assert.equal(rs.code, 0, rs.xml);
    assert.match(rs.xml, /<Rate>1.12345<\/Rate>/);
    assert.match(rs.xml, /<Amount>2.81<\/Amount>/);
    assert.match(rs.xml, /<TxnDate>2024-02-29<\/TxnDate>/);
    const whole = answer(s, invoice('', '<Amount>500</Amount>'));
    assert.equal(whole.code, 0, whole.xml);
    assert.match(whole.xml, /<Amount>500.00<\/Amount>/);
  });
});

describe('the simulator reads messages as Windows-1252, as QuickBooks does', () => {
  it('fails the whole message with 0x80040400 when it holds text outside Windows-1252', () => {
    const s = setup();
    const before = s.count('Customer');
    const greek = '<CustomerAddRq><CustomerAdd><Name>Ελληνικά ΑΕ</Name></CustomerAdd></CustomerAddRq>';
    const fine = '<CustomerAddRq><CustomerAdd><Name>Fine Ltd</Name></CustomerAdd></CustomerAddRq>';
    assert.throws(
      () => s.processRequest(msg(fine + greek)),
      (err: unknown) =>
        err instanceof QuickBooksParseError &&
        err.hresult === '0x80040400' &&
        err.message === 'QuickBooks found an error when parsing the provided XML text stream.',
    );
    assert.equal(s.count('Customer'), before, 'nothing of the message was applied');
  });

  it('stores a character Windows-1252 lacks as "?" when it arrives as a numeric reference, keeping € and é', () => {
    const s = setup();
    const rs = answer(
      s,
      '<CustomerAddRq><CustomerAdd><Name>&#x3A3;igma &#233; &#8364; &#x5317;</Name></CustomerAdd></CustomerAddRq>',
    );
    assert.equal(rs.code, 0, rs.xml);
    assert.match(rs.xml, /<Name>\?igma é € \?<\/Name>/);
  });
});

describe('smaller corrections', () => {
  it('knows PreferredDeliveryMethod as None, Email or Fax (Mail fails the message as an unknown value)', () => {
    const s = setup();
    const add = (method: string) =>
      `<CustomerAddRq><CustomerAdd><Name>By ${method}</Name><PreferredDeliveryMethod>${method}</PreferredDeliveryMethod></CustomerAdd></CustomerAddRq>`;
    assert.equal(answer(s, add('Fax')).code, 0);
    assert.throws(() => s.processRequest(msg(add('Mail'))), QuickBooksParseError);
  });

  it('answers 3120 for a Mod of a transaction that is not in the company file', () => {
    const s = setup();
    const rs = answer(
      s,
      '<InvoiceModRq><InvoiceMod><TxnID>ABC-123</TxnID><EditSequence>1</EditSequence></InvoiceMod></InvoiceModRq>',
    );
    assert.equal(rs.code, 3120, rs.xml);
  });
});
