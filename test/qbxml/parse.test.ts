import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { camelCaseElementName, parseQbxmlResponse, QbxmlSyntaxError, type InvoiceRet } from '../../src/qbxml';
import { readQbxmlAnswer } from '../../src/qbxml/parse';
import { checkXmlShape, QBXML_RESPONSE_LIMITS } from '../../src/qbxml/xmlShape';

const wrap = (inner: string) => `<?xml version="1.0" ?><QBXML><QBXMLMsgsRs>${inner}</QBXMLMsgsRs></QBXML>`;

describe('parseQbxmlResponse', () => {
  it('returns one entry per *Rs in document order, failed ones empty, with entity-laden messages intact', () => {
    const res = parseQbxmlResponse(
      wrap(
        '<CustomerAddRs requestID="a" statusCode="3100" statusSeverity="Error" statusMessage="The name &quot;Joe&quot; of the list element is already in use." />' +
          '<ClassQueryRs requestID="b" statusCode="0" statusSeverity="Info" statusMessage="Status OK" retCount="1">' +
          '<ClassRet><ListID>1-1</ListID><EditSequence>9</EditSequence><Name>East</Name><FullName>Region:East</FullName><IsActive>false</IsActive><ParentRef><ListID>1-0</ListID><FullName>Region</FullName></ParentRef><Sublevel>1</Sublevel></ClassRet>' +
          '</ClassQueryRs>' +
          '<VendorQueryRs requestID="c" statusCode="500" statusSeverity="Warn" statusMessage="partial"/>',
      ),
    );
    assert.deepEqual(
      res.map((r) => [r.type, r.requestId, r.statusCode, r.statusSeverity, r.records.length]),
      [
        ['CustomerAddRs', 'a', 3100, 'Error', 0],
        ['ClassQueryRs', 'b', 0, 'Info', 1],
        ['VendorQueryRs', 'c', 500, 'Warn', 0],
      ],
    );
    assert.equal(res[0]?.statusMessage, 'The name "Joe" of the list element is already in use.');
    assert.equal(res[1]?.retCount, 1);
    assert.deepEqual(res[1]?.records[0], {
      kind: 'Class',
      listId: '1-1',
      editSequence: '9',
      name: 'East',
      fullName: 'Region:East',
      isActive: false,
      parentRef: { listId: '1-0', fullName: 'Region' },
      sublevel: 1,
    });
  });

  it('reads an invoice with lines, linked txns and DataExt; money stays a decimal string', () => {
    const [res] = parseQbxmlResponse(
      wrap(`<InvoiceQueryRs requestID="i" statusCode="0" statusSeverity="Info" statusMessage="Status OK" iteratorRemainingCount="3" iteratorID="{it}">
        <InvoiceRet>
          <TxnID>C5-1417118624</TxnID><TimeModified>2015-11-04T14:39:03-08:00</TimeModified><EditSequence>1417118624</EditSequence>
          <TxnNumber>42</TxnNumber>
          <CustomerRef><ListID>80000013-1416570432</ListID><FullName>Joe &amp; Sons</FullName></CustomerRef>
          <ARAccountRef><FullName>Accounts Receivable</FullName></ARAccountRef>
          <RefNumber>1001</RefNumber><PONumber>PO-7</PONumber><FOB>Origin</FOB>
          <Subtotal>1234.50</Subtotal><BalanceRemaining>0.10</BalanceRemaining><IsPaid>false</IsPaid>
          <LinkedTxn><TxnID>SO-1</TxnID><TxnType>SalesOrder</TxnType><LinkType>QUANTYPE</LinkType><Amount>0.00</Amount></LinkedTxn>
          <InvoiceLineRet><TxnLineID>L-1</TxnLineID><ItemRef><FullName>Widget</FullName></ItemRef><Quantity>3</Quantity><Rate>411.50</Rate><Amount>1234.50</Amount><IsTaxable>true</IsTaxable></InvoiceLineRet>
          <InvoiceLineRet><TxnLineID>L-2</TxnLineID><Desc>Note line</Desc></InvoiceLineRet>
          <DataExtRet><OwnerID>0</OwnerID><DataExtName>CRM Id</DataExtName><DataExtType>STR255TYPE</DataExtType><DataExtValue>abc</DataExtValue></DataExtRet>
        </InvoiceRet>
      </InvoiceQueryRs>`),
    );
    assert.ok(res);
    assert.equal(res.iteratorId, '{it}');
    assert.equal(res.iteratorRemainingCount, 3);
    const inv = res.records[0] as InvoiceRet;
    assert.equal(inv.kind, 'Invoice');
    assert.equal(inv.txnId, 'C5-1417118624');
    assert.equal(inv.txnNumber, 42);
    assert.deepEqual(inv.customerRef, { listId: '80000013-1416570432', fullName: 'Joe & Sons' });
    assert.deepEqual(inv.arAccountRef, { fullName: 'Accounts Receivable' });
    assert.equal(inv.poNumber, 'PO-7');
    assert.equal(inv.fob, 'Origin');
    assert.equal(inv.subtotal, '1234.50');
    assert.equal(inv.balanceRemaining, '0.10');
    assert.equal(inv.isPaid, false);
    assert.deepEqual(inv.linkedTxns, [{ txnId: 'SO-1', txnType: 'SalesOrder', linkType: 'QUANTYPE', amount: '0.00' }]);
    assert.deepEqual(inv.lines, [
      {
        txnLineId: 'L-1',
        itemRef: { fullName: 'Widget' },
        quantity: '3',
        rate: '411.50',
        amount: '1234.50',
        isTaxable: true,
      },
      { txnLineId: 'L-2', desc: 'Note line' },
    ]);
    assert.deepEqual(inv.dataExt, [{ ownerId: '0', name: 'CRM Id', type: 'STR255TYPE', value: 'abc' }]);
    // JSON-safe: survives a Temporal payload round trip unchanged.
    assert.deepEqual(JSON.parse(JSON.stringify(res)), res);
  });

  it('ItemQueryRs mixes item kinds; kinds without a record type are skipped', () => {
    const [res] = parseQbxmlResponse(
      wrap(`<ItemQueryRs requestID="q" statusCode="0" statusSeverity="Info" statusMessage="Status OK">
        <ItemServiceRet><ListID>1</ListID><EditSequence>1</EditSequence><Name>Svc</Name><SalesOrPurchase><Desc>d</Desc><Price>10.00</Price><AccountRef><FullName>Income</FullName></AccountRef></SalesOrPurchase></ItemServiceRet>
        <ItemSubtotalRet><ListID>9</ListID><EditSequence>1</EditSequence><Name>Sub</Name></ItemSubtotalRet>
        <ItemInventoryRet><ListID>2</ListID><EditSequence>1</EditSequence><Name>Inv</Name><BarCodeValue>123</BarCodeValue><COGSAccountRef><FullName>COGS</FullName></COGSAccountRef><QuantityOnHand>5</QuantityOnHand><AverageCost>1.25</AverageCost></ItemInventoryRet>
        <ItemNonInventoryRet><ListID>3</ListID><EditSequence>1</EditSequence><Name>Non</Name><SalesAndPurchase><SalesPrice>2.00</SalesPrice><PurchaseCost>1.00</PurchaseCost></SalesAndPurchase></ItemNonInventoryRet>
        <ItemOtherChargeRet><ListID>4</ListID><EditSequence>1</EditSequence><Name>Freight</Name></ItemOtherChargeRet>
        <ItemDiscountRet><ListID>5</ListID><EditSequence>1</EditSequence><Name>Disc</Name><DiscountRatePercent>10.0</DiscountRatePercent></ItemDiscountRet>
      </ItemQueryRs>`),
    );
    assert.ok(res);
    assert.deepEqual(
      res.records.map((r) => r.kind),
      ['ItemService', 'ItemInventory', 'ItemNonInventory', 'ItemOtherCharge', 'ItemDiscount'],
    );
    assert.deepEqual(res.records[0], {
      kind: 'ItemService',
      listId: '1',
      editSequence: '1',
      name: 'Svc',
      salesOrPurchase: { desc: 'd', price: '10.00', accountRef: { fullName: 'Income' } },
    });
    const inv = res.records[1];
    assert.ok(inv?.kind === 'ItemInventory');
    assert.equal(inv.barCodeValue, '123');
    assert.deepEqual(inv.cogsAccountRef, { fullName: 'COGS' });
    assert.equal(inv.quantityOnHand, '5');
    assert.equal(inv.averageCost, '1.25');
  });

  it('reads DataExtAddRs and DataExtDefAddRs records', () => {
    const res = parseQbxmlResponse(
      wrap(
        '<DataExtDefAddRs requestID="d" statusCode="0" statusSeverity="Info" statusMessage="ok"><DataExtDefRet><OwnerID>0</OwnerID><DataExtID>7</DataExtID><DataExtName>CRM Id</DataExtName><DataExtType>STR255TYPE</DataExtType><AssignToObject>Customer</AssignToObject><DataExtListRequire>false</DataExtListRequire></DataExtDefRet></DataExtDefAddRs>' +
          '<DataExtAddRs requestID="e" statusCode="0" statusSeverity="Info" statusMessage="ok"><DataExtRet><OwnerID>0</OwnerID><DataExtName>CRM Id</DataExtName><DataExtType>STR255TYPE</DataExtType><DataExtValue>abc</DataExtValue></DataExtRet></DataExtAddRs>',
      ),
    );
    assert.deepEqual(res[0]?.records[0], {
      kind: 'DataExtDef',
      ownerId: '0',
      dataExtId: 7,
      dataExtName: 'CRM Id',
      dataExtType: 'STR255TYPE',
      assignToObject: ['Customer'],
      dataExtListRequire: false,
    });
    assert.deepEqual(res[1]?.records[0], {
      kind: 'DataExt',
      ownerId: '0',
      name: 'CRM Id',
      type: 'STR255TYPE',
      value: 'abc',
    });
  });

  const badDocs: Array<[string, string]> = [
    ['not QBXML at the root', '<Other/>'],
    ['no QBXMLMsgsRs', '<QBXML><SignonMsgsRs/></QBXML>'],
    ['missing statusCode', wrap('<CustomerQueryRs statusSeverity="Info" statusMessage="x"/>')],
    ['non-numeric statusCode', wrap('<CustomerQueryRs statusCode="OK" statusSeverity="Info"/>')],
    ['unknown severity', wrap('<CustomerQueryRs statusCode="0" statusSeverity="Fatal"/>')],
    [
      'non-numeric iteratorRemainingCount',
      wrap('<CustomerQueryRs statusCode="0" statusSeverity="Info" iteratorRemainingCount="many"/>'),
    ],
    [
      'boolean field with a non-boolean value',
      wrap(
        '<ClassQueryRs statusCode="0" statusSeverity="Info"><ClassRet><ListID>1</ListID><IsActive>yes</IsActive></ClassRet></ClassQueryRs>',
      ),
    ],
    [
      'integer field with a non-integer value',
      wrap(
        '<ClassQueryRs statusCode="0" statusSeverity="Info"><ClassRet><ListID>1</ListID><Sublevel>x</Sublevel></ClassRet></ClassQueryRs>',
      ),
    ],
    ['DOCTYPE in a response', `<!DOCTYPE QBXML>${wrap('')}`],
  ];
  for (const [name, xml] of badDocs) {
    it(`refuses: ${name}`, () => {
      assert.throws(() => parseQbxmlResponse(xml), QbxmlSyntaxError);
    });
  }
});

describe('camelCaseElementName', () => {
  const cases: Array<[string, string]> = [
    ['ListID', 'listId'],
    ['TxnLineID', 'txnLineId'],
    ['EditSequence', 'editSequence'],
    ['ExternalGUID', 'externalGuid'],
    ['COGSAccountRef', 'cogsAccountRef'],
    ['ARAccountRef', 'arAccountRef'],
    ['PONumber', 'poNumber'],
    ['FOB', 'fob'],
    ['OverrideUOMSetRef', 'overrideUomSetRef'],
    ['IsVendorEligibleFor1099', 'isVendorEligibleFor1099'],
    ['Addr1', 'addr1'],
    ['BarCodeValue', 'barCodeValue'],
  ];
  for (const [el, key] of cases) {
    it(`${el} → ${key}`, () => assert.equal(camelCaseElementName(el), key));
  }
});

describe('readQbxmlAnswer', () => {
  const customerRs = (id: string, notes: string) =>
    `<CustomerQueryRs requestID="${id}" statusCode="0" statusSeverity="Info" statusMessage="Status OK"><CustomerRet><ListID>${id}</ListID><Notes>${notes}</Notes></CustomerRet></CustomerQueryRs>`;

  it('reads each response element on its own when one holds a character XML forbids', () => {
    for (const [what, notes, reason] of [
      ['a reference', 'one&#11;two', /&#11;/],
      ['a raw vertical tab', 'one\u000btwo', /character XML does not allow/],
    ] as const) {
      const answer = readQbxmlAnswer(
        wrap(
          `${customerRs('1', 'fine')}${customerRs('2', notes)}<VendorQueryRs requestID="3" statusCode="1" statusSeverity="Info" statusMessage="none"/>`,
        ),
      );
      assert.deepEqual(
        answer.responses.map((r) => r.requestId),
        ['1', '3'],
        what,
      );
      assert.equal(answer.unreadable.length, 1, what);
      assert.equal(answer.unreadable[0]?.requestId, '2', what);
      assert.match(answer.unreadable[0]?.reason ?? '', reason, what);
    }
  });

  it('reads a well-formed answer as parseQbxmlResponse does, and refuses what is not a qbXML answer at all', () => {
    assert.deepEqual(readQbxmlAnswer(wrap(customerRs('1', 'fine'))).unreadable, []);
    assert.throws(() => readQbxmlAnswer('<html>\u000b</html>'), QbxmlSyntaxError);
  });
});

describe('caps on the qbXML inside receiveResponseXML (issue 12)', () => {
  const sample = readFileSync(
    join(__dirname, '..', 'fixtures', 'samples', 'qbxml', 'customer-query-rs.from-qbwc-log.xml'),
    'utf8',
  );
  const record = /<CustomerRet>[\s\S]*?<\/CustomerRet>/.exec(sample)![0];
  const head = sample.slice(0, sample.indexOf('<CustomerRet>'));
  const tail = sample.slice(sample.lastIndexOf('</CustomerRet>') + '</CustomerRet>'.length);
  /** The real answer, repeated to `bytes`: what a large page of customers looks like. */
  const answerOf = (bytes: number): string => head + record.repeat(Math.floor(bytes / record.length)) + tail;

  it('pass a 10 MiB answer of real records, and read a large one whole', () => {
    assert.deepEqual(checkXmlShape(answerOf(10 * 1024 * 1024), QBXML_RESPONSE_LIMITS), { ok: true });
    const page = answerOf(1024 * 1024);
    const [response] = parseQbxmlResponse(page);
    assert.equal(response?.records.length, Math.floor((1024 * 1024) / record.length));
  });

  it('refuse an answer deeper, wider or more attribute-laden than QuickBooks writes, before parsing it', () => {
    const rs = (inner: string, attributes = '') =>
      `<?xml version="1.0" ?><QBXML><QBXMLMsgsRs><CustomerQueryRs requestID="1" statusCode="0" statusSeverity="Info" statusMessage="Status OK"${attributes}>${inner}</CustomerQueryRs></QBXMLMsgsRs></QBXML>`;
    const hostile: Array<[string, RegExp]> = [
      [rs('<a/>'.repeat(600_000)), /more than 500000 elements/],
      [rs('<a>'.repeat(40) + '</a>'.repeat(40)), /nested deeper than 32 elements/],
      [rs('', Array.from({ length: 10_001 }, (_, i) => ` a${i}="1"`).join('')), /more than 10000 attributes/],
    ];
    for (const [xml, reason] of hostile) {
      assert.throws(
        () => parseQbxmlResponse(xml),
        (error: unknown) => error instanceof QbxmlSyntaxError && reason.test(error.message),
      );
    }
  });
});
