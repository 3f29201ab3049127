import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildQbxmlMessage, QbxmlFieldError, type QbxmlRequest } from '../../src/qbxml';
import { bodyOf, child, childNames, requestElements } from './elementOrder';

const ref = (fullName: string) => ({ listId: '80000001-1', fullName });
const addr = {
  addr1: 'a1',
  addr2: 'a2',
  addr3: 'a3',
  addr4: 'a4',
  addr5: 'a5',
  city: 'c',
  state: 's',
  postalCode: 'p',
  country: 'co',
  note: 'n',
};

function only(req: QbxmlRequest) {
  const [rq] = requestElements(buildQbxmlMessage([req]));
  assert.ok(rq);
  return rq;
}

/** Input objects are deliberately written in a different key order from the XSD: the builder must reorder. */
const orderCases: Array<{ name: string; req: QbxmlRequest; expected: string[] }> = [
  {
    name: 'CustomerAdd',
    req: {
      type: 'CustomerAdd',
      requestId: 'r',
      fields: {
        currencyRef: ref('USD'),
        notes: 'n',
        creditLimit: '10.00',
        email: 'e@x',
        billAddress: addr,
        shipAddress: addr,
        lastName: 'L',
        firstName: 'F',
        companyName: 'C',
        parentRef: ref('P'),
        classRef: ref('K'),
        isActive: true,
        name: 'N',
        phone: '1',
        customerTypeRef: ref('T'),
        termsRef: ref('Net 30'),
        salesRepRef: ref('SR'),
        openBalance: '1.00',
        openBalanceDate: '2024-01-01',
        accountNumber: 'A',
        jobStatus: 'None',
        externalGuid: '{6B29FC40-CA47-1067-B31D-00DD010662DA}',
        preferredDeliveryMethod: 'Email',
      },
    },
    expected: [
      'Name',
      'IsActive',
      'ClassRef',
      'ParentRef',
      'CompanyName',
      'FirstName',
      'LastName',
      'BillAddress',
      'ShipAddress',
      'Phone',
      'Email',
      'CustomerTypeRef',
      'TermsRef',
      'SalesRepRef',
      'OpenBalance',
      'OpenBalanceDate',
      'AccountNumber',
      'CreditLimit',
      'JobStatus',
      'Notes',
      'PreferredDeliveryMethod',
      'ExternalGUID',
      'CurrencyRef',
    ],
  },
  {
    name: 'CustomerMod (ListID, EditSequence first; no OpenBalance/ExternalGUID)',
    req: {
      type: 'CustomerMod',
      requestId: 'r',
      fields: { email: 'e@x', editSequence: '123', listId: '80000001-1', name: 'N', companyName: 'C' },
    },
    expected: ['ListID', 'EditSequence', 'Name', 'CompanyName', 'Email'],
  },
  {
    name: 'VendorAdd',
    req: {
      type: 'VendorAdd',
      requestId: 'r',
      fields: {
        vendorTypeRef: ref('V'),
        nameOnCheck: 'NoC',
        vendorAddress: addr,
        name: 'N',
        isVendorEligibleFor1099: true,
        termsRef: ref('T'),
        vendorTaxIdent: '12-3',
        creditLimit: '1.00',
        notes: 'n',
        accountNumber: 'A',
      },
    },
    expected: [
      'Name',
      'VendorAddress',
      'NameOnCheck',
      'AccountNumber',
      'Notes',
      'VendorTypeRef',
      'TermsRef',
      'CreditLimit',
      'VendorTaxIdent',
      'IsVendorEligibleFor1099',
    ],
  },
  {
    name: 'VendorMod',
    req: { type: 'VendorMod', requestId: 'r', fields: { isActive: false, listId: 'L', editSequence: 'E' } },
    expected: ['ListID', 'EditSequence', 'IsActive'],
  },
  {
    name: 'CustomerTypeAdd',
    req: { type: 'CustomerTypeAdd', requestId: 'r', fields: { parentRef: ref('P'), isActive: true, name: 'Retail' } },
    expected: ['Name', 'IsActive', 'ParentRef'],
  },
  {
    name: 'ClassAdd',
    req: { type: 'ClassAdd', requestId: 'r', fields: { parentRef: ref('P'), name: 'East' } },
    expected: ['Name', 'ParentRef'],
  },
  {
    name: 'ItemServiceAdd (ClassRef before ParentRef)',
    req: {
      type: 'ItemServiceAdd',
      requestId: 'r',
      fields: {
        externalGuid: '{6B29FC40-CA47-1067-B31D-00DD010662DA}',
        salesOrPurchase: { accountRef: ref('Income'), price: '10.00', desc: 'd' },
        salesTaxCodeRef: ref('Tax'),
        parentRef: ref('P'),
        classRef: ref('K'),
        barCodeValue: '123',
        name: 'Svc',
        isActive: true,
      },
    },
    expected: [
      'Name',
      'BarCode',
      'IsActive',
      'ClassRef',
      'ParentRef',
      'SalesTaxCodeRef',
      'SalesOrPurchase',
      'ExternalGUID',
    ],
  },
  {
    name: 'ItemServiceMod (ForceUOMChange, SalesOrPurchaseMod)',
    req: {
      type: 'ItemServiceMod',
      requestId: 'r',
      fields: {
        salesOrPurchase: { price: '1.00', applyAccountRefToExistingTxns: true, accountRef: ref('A') },
        forceUomChange: true,
        unitOfMeasureSetRef: ref('U'),
        listId: 'L',
        editSequence: 'E',
      },
    },
    expected: ['ListID', 'EditSequence', 'UnitOfMeasureSetRef', 'ForceUOMChange', 'SalesOrPurchaseMod'],
  },
  {
    name: 'ItemNonInventoryAdd (ParentRef before ClassRef)',
    req: {
      type: 'ItemNonInventoryAdd',
      requestId: 'r',
      fields: {
        salesAndPurchase: { salesPrice: '2.00', purchaseCost: '1.00' },
        manufacturerPartNumber: 'MPN',
        classRef: ref('K'),
        parentRef: ref('P'),
        name: 'Widget',
      },
    },
    expected: ['Name', 'ParentRef', 'ClassRef', 'ManufacturerPartNumber', 'SalesAndPurchase'],
  },
  {
    name: 'ItemNonInventoryMod (ClassRef before ParentRef again)',
    req: {
      type: 'ItemNonInventoryMod',
      requestId: 'r',
      fields: { parentRef: ref('P'), classRef: ref('K'), listId: 'L', editSequence: 'E' },
    },
    expected: ['ListID', 'EditSequence', 'ClassRef', 'ParentRef'],
  },
  {
    name: 'ItemInventoryAdd',
    req: {
      type: 'ItemInventoryAdd',
      requestId: 'r',
      fields: {
        inventoryDate: '2024-01-01',
        quantityOnHand: '5',
        assetAccountRef: ref('Inv'),
        cogsAccountRef: ref('COGS'),
        incomeAccountRef: ref('Inc'),
        purchaseCost: '1.00',
        salesPrice: '2.00',
        salesDesc: 'sd',
        name: 'Inv',
        reorderPoint: '1',
        max: '10',
        totalValue: '5.00',
      },
    },
    expected: [
      'Name',
      'SalesDesc',
      'SalesPrice',
      'IncomeAccountRef',
      'PurchaseCost',
      'COGSAccountRef',
      'AssetAccountRef',
      'ReorderPoint',
      'Max',
      'QuantityOnHand',
      'TotalValue',
      'InventoryDate',
    ],
  },
  {
    name: 'ItemInventoryMod (Apply… flags after their account refs)',
    req: {
      type: 'ItemInventoryMod',
      requestId: 'r',
      fields: {
        applyCogsAccountRefToExistingTxns: true,
        applyIncomeAccountRefToExistingTxns: true,
        cogsAccountRef: ref('COGS'),
        incomeAccountRef: ref('Inc'),
        purchaseDesc: 'pd',
        listId: 'L',
        editSequence: 'E',
      },
    },
    expected: [
      'ListID',
      'EditSequence',
      'IncomeAccountRef',
      'ApplyIncomeAccountRefToExistingTxns',
      'PurchaseDesc',
      'COGSAccountRef',
      'ApplyCOGSAccountRefToExistingTxns',
    ],
  },
  {
    name: 'InvoiceAdd',
    req: {
      type: 'InvoiceAdd',
      requestId: 'r',
      fields: {
        lines: [{ amount: '10.00', itemRef: ref('Svc'), quantity: '1', rate: '10.00' }],
        linkToTxnIds: ['C5-1'],
        other: 'o',
        isToBePrinted: false,
        memo: 'm',
        dueDate: '2024-02-01',
        termsRef: ref('Net 30'),
        poNumber: 'PO1',
        shipAddress: addr,
        billAddress: addr,
        refNumber: 'INV-1',
        txnDate: '2024-01-01',
        classRef: ref('K'),
        customerRef: ref('Cust'),
      },
    },
    expected: [
      'CustomerRef',
      'ClassRef',
      'TxnDate',
      'RefNumber',
      'BillAddress',
      'ShipAddress',
      'PONumber',
      'TermsRef',
      'DueDate',
      'Memo',
      'IsToBePrinted',
      'Other',
      'LinkToTxnID',
      'InvoiceLineAdd',
    ],
  },
  {
    name: 'InvoiceMod',
    req: {
      type: 'InvoiceMod',
      requestId: 'r',
      fields: {
        lines: [{ txnLineId: '-1', itemRef: ref('Svc') }],
        memo: 'm',
        customerRef: ref('Cust'),
        editSequence: 'E',
        txnId: 'C5-1',
      },
    },
    expected: ['TxnID', 'EditSequence', 'CustomerRef', 'Memo', 'InvoiceLineMod'],
  },
  {
    name: 'DataExtAdd on a transaction line',
    req: {
      type: 'DataExtAdd',
      requestId: 'r',
      fields: {
        dataExtValue: 'v',
        target: { kind: 'txn', txnDataExtType: 'Invoice', txnId: 'C5-1', txnLineId: 'C6-1' },
        dataExtName: 'CRM Id',
        ownerId: '0',
      },
    },
    expected: ['OwnerID', 'DataExtName', 'TxnDataExtType', 'TxnID', 'TxnLineID', 'DataExtValue'],
  },
  {
    name: 'DataExtMod on the company',
    req: {
      type: 'DataExtMod',
      requestId: 'r',
      fields: { dataExtValue: 'v', target: { kind: 'company' }, dataExtName: 'X', ownerId: '0' },
    },
    expected: ['OwnerID', 'DataExtName', 'OtherDataExtType', 'DataExtValue'],
  },
  {
    name: 'DataExtDefAdd',
    req: {
      type: 'DataExtDefAdd',
      requestId: 'r',
      fields: {
        dataExtFormatString: 'f',
        assignToObject: ['Customer', 'Vendor'],
        dataExtType: 'STR255TYPE',
        dataExtName: 'CRM Id',
        ownerId: '0',
      },
    },
    expected: ['OwnerID', 'DataExtName', 'DataExtType', 'AssignToObject', 'AssignToObject', 'DataExtFormatString'],
  },
];

describe('element order follows the qbXML 13.0 XSD sequence', () => {
  for (const { name, req, expected } of orderCases) {
    it(name, () => {
      const rq = only(req);
      assert.equal(rq.name, `${req.type}Rq`);
      assert.equal(rq.attributes.requestID, 'r');
      assert.deepEqual(childNames(bodyOf(rq)), expected);
    });
  }

  it('address aggregates use Addr1…Addr5, City, State, PostalCode, Country, Note', () => {
    const body = bodyOf(orderCases[0] ? only(orderCases[0].req) : assert.fail());
    assert.deepEqual(childNames(child(body, 'BillAddress')), [
      'Addr1',
      'Addr2',
      'Addr3',
      'Addr4',
      'Addr5',
      'City',
      'State',
      'PostalCode',
      'Country',
      'Note',
    ]);
  });

  it('references put ListID before FullName', () => {
    const body = bodyOf(
      only({ type: 'ClassAdd', requestId: 'r', fields: { name: 'A', parentRef: { fullName: 'P', listId: 'X' } } }),
    );
    assert.deepEqual(childNames(child(body, 'ParentRef')), ['ListID', 'FullName']);
  });

  it('invoice lines follow the InvoiceLineAdd sequence, including LinkToTxn and DataExt', () => {
    const body = bodyOf(
      only({
        type: 'InvoiceAdd',
        requestId: 'r',
        fields: {
          customerRef: { fullName: 'C' },
          lines: [
            {
              dataExt: [{ ownerId: '0', dataExtName: 'n', dataExtValue: 'v' }],
              linkToTxn: { txnId: 'T', txnLineId: 'L' },
              other2: 'o2',
              other1: 'o1',
              isTaxable: true,
              salesTaxCodeRef: { fullName: 'Tax' },
              serviceDate: '2024-01-01',
              amount: '10.00',
              classRef: { fullName: 'K' },
              rate: '5.00',
              unitOfMeasure: 'ea',
              quantity: '2',
              desc: 'd',
              itemRef: { fullName: 'I' },
            },
          ],
        },
      }),
    );
    assert.deepEqual(childNames(child(body, 'InvoiceLineAdd')), [
      'ItemRef',
      'Desc',
      'Quantity',
      'UnitOfMeasure',
      'Rate',
      'ClassRef',
      'Amount',
      'ServiceDate',
      'SalesTaxCodeRef',
      'IsTaxable',
      'Other1',
      'Other2',
      'LinkToTxn',
      'DataExt',
    ]);
  });

  it('invoice Mod lines start with TxnLineID and have no IsTaxable', () => {
    const body = bodyOf(
      only({
        type: 'InvoiceMod',
        requestId: 'r',
        fields: {
          txnId: 'T',
          editSequence: 'E',
          lines: [{ amount: '1.00', overrideUomSetRef: { fullName: 'U' }, quantity: '1', txnLineId: 'L1' }],
        },
      }),
    );
    assert.deepEqual(childNames(child(body, 'InvoiceLineMod')), [
      'TxnLineID',
      'Quantity',
      'OverrideUOMSetRef',
      'Amount',
    ]);
  });

  it('booleans are spelled true/false and money keeps its decimal string', () => {
    const body = bodyOf(
      only({ type: 'CustomerAdd', requestId: 'r', fields: { name: 'N', isActive: false, creditLimit: '1234.50' } }),
    );
    assert.equal(child(body, 'IsActive').text, 'false');
    assert.equal(child(body, 'CreditLimit').text, '1234.50');
  });
});

describe('query shapes', () => {
  const iteratorCases: Array<{ req: QbxmlRequest; iterator?: string; iteratorID?: string }> = [
    { req: { type: 'CustomerQuery', requestId: 'q', iterator: 'Start', maxReturned: 100 }, iterator: 'Start' },
    {
      req: { type: 'VendorQuery', requestId: 'q', iterator: 'Continue', iteratorId: '{abc}' },
      iterator: 'Continue',
      iteratorID: '{abc}',
    },
    {
      req: { type: 'ItemQuery', requestId: 'q', iterator: 'Stop', iteratorId: '{abc}' },
      iterator: 'Stop',
      iteratorID: '{abc}',
    },
    { req: { type: 'InvoiceQuery', requestId: 'q', iterator: 'Start' }, iterator: 'Start' },
    { req: { type: 'SalesOrderQuery', requestId: 'q', iterator: 'Start' }, iterator: 'Start' },
    { req: { type: 'CustomerQuery', requestId: 'q' } },
    // CustomerType and Class queries have no iterator attributes in qbXML 13, even if a caller sets them.
    { req: { type: 'CustomerTypeQuery', requestId: 'q', iterator: 'Start' } as unknown as QbxmlRequest },
    { req: { type: 'ClassQuery', requestId: 'q', iterator: 'Continue', iteratorId: 'x' } as unknown as QbxmlRequest },
  ];
  for (const { req, iterator, iteratorID } of iteratorCases) {
    it(`${req.type} ${iterator ?? 'without iterator'}`, () => {
      const rq = only(req);
      assert.equal(rq.attributes.requestID, 'q');
      assert.equal(rq.attributes.iterator, iterator);
      assert.equal(rq.attributes.iteratorID, iteratorID);
    });
  }

  it('list change query puts FromModifiedDate directly in the request, then OwnerID', () => {
    const rq = only({
      type: 'CustomerQuery',
      requestId: 'q',
      ownerIds: ['0'],
      nameFilter: { matchCriterion: 'StartsWith', name: 'A' },
      toModifiedDate: '2024-02-01T00:00:00',
      fromModifiedDate: '2024-01-01T00:00:00-08:00',
      activeStatus: 'All',
      maxReturned: 50,
      includeRetElements: ['ListID'],
    });
    assert.deepEqual(childNames(rq), [
      'MaxReturned',
      'ActiveStatus',
      'FromModifiedDate',
      'ToModifiedDate',
      'NameFilter',
      'IncludeRetElement',
      'OwnerID',
    ]);
    assert.deepEqual(childNames(child(rq, 'NameFilter')), ['MatchCriterion', 'Name']);
  });

  it('transaction change query wraps dates in ModifiedDateRangeFilter', () => {
    const rq = only({
      type: 'InvoiceQuery',
      requestId: 'q',
      ownerIds: ['0'],
      includeLineItems: true,
      paidStatus: 'All',
      entityListId: '80000001-1',
      fromModifiedDate: '2024-01-01',
      maxReturned: 10,
    });
    assert.deepEqual(childNames(rq), [
      'MaxReturned',
      'ModifiedDateRangeFilter',
      'EntityFilter',
      'PaidStatus',
      'IncludeLineItems',
      'OwnerID',
    ]);
    assert.deepEqual(childNames(child(rq, 'ModifiedDateRangeFilter')), ['FromModifiedDate']);
    assert.equal(child(rq, 'IncludeLineItems').text, 'true');
  });

  it('CustomerType/Class queries never emit OwnerID', () => {
    const rq = only({
      type: 'ClassQuery',
      requestId: 'q',
      ownerIds: ['0'],
      activeStatus: 'All',
    } as unknown as QbxmlRequest);
    assert.deepEqual(childNames(rq), ['ActiveStatus']);
  });

  it('queries by ID list emit only the IDs', () => {
    assert.deepEqual(childNames(only({ type: 'SalesOrderQuery', requestId: 'q', txnIds: ['A', 'B'] })), [
      'TxnID',
      'TxnID',
    ]);
    assert.deepEqual(childNames(only({ type: 'ItemQuery', requestId: 'q', listIds: ['A'] })), ['ListID']);
  });
});

describe('message envelope', () => {
  it('carries several requests in order with their requestIDs, version 13.0 and continueOnError by default', () => {
    const xml = buildQbxmlMessage([
      { type: 'CustomerQuery', requestId: 'c1', iterator: 'Start', maxReturned: 5 },
      { type: 'VendorQuery', requestId: 'v1' },
      { type: 'ClassAdd', requestId: 'k1', fields: { name: 'East' } },
    ]);
    assert.ok(xml.startsWith('<?xml version="1.0" encoding="utf-8"?>\n<?qbxml version="13.0"?>\n<QBXML>'));
    assert.match(xml, /<QBXMLMsgsRq onError="continueOnError">/);
    const rqs = requestElements(xml);
    assert.deepEqual(
      rqs.map((r) => [r.name, r.attributes.requestID]),
      [
        ['CustomerQueryRq', 'c1'],
        ['VendorQueryRq', 'v1'],
        ['ClassAddRq', 'k1'],
      ],
    );
  });

  for (const onError of ['stopOnError', 'rollbackOnError', 'continueOnError'] as const) {
    it(`honours onError=${onError} and an explicit version`, () => {
      const xml = buildQbxmlMessage([{ type: 'VendorQuery', requestId: 'v1' }], { onError, version: '8.0' });
      assert.match(xml, new RegExp(`<QBXMLMsgsRq onError="${onError}">`));
      assert.match(xml, /<\?qbxml version="8\.0"\?>/);
    });
  }
});

describe('bad input is refused with a QbxmlFieldError naming the field', () => {
  const long = (n: number) => 'x'.repeat(n);
  const cases: Array<{ name: string; build: () => string; field: string; limit?: number; requestType?: string }> = [
    {
      name: 'customer name over 41',
      build: () => buildQbxmlMessage([{ type: 'CustomerAdd', requestId: 'r', fields: { name: long(42) } }]),
      field: 'name',
      limit: 41,
      requestType: 'CustomerAdd',
    },
    {
      name: 'item name over 31 (items are shorter than customers)',
      build: () =>
        buildQbxmlMessage([
          { type: 'ItemServiceAdd', requestId: 'r', fields: { name: long(32), salesOrPurchase: {} } },
        ]),
      field: 'name',
      limit: 31,
      requestType: 'ItemServiceAdd',
    },
    {
      name: 'address line over 41',
      build: () =>
        buildQbxmlMessage([
          { type: 'CustomerAdd', requestId: 'r', fields: { name: 'n', billAddress: { addr1: long(42) } } },
        ]),
      field: 'billAddress.addr1',
      limit: 41,
    },
    {
      name: 'postal code over 13',
      build: () =>
        buildQbxmlMessage([
          { type: 'VendorAdd', requestId: 'r', fields: { name: 'n', vendorAddress: { postalCode: long(14) } } },
        ]),
      field: 'vendorAddress.postalCode',
      limit: 13,
    },
    {
      name: 'ref full name over 159',
      build: () =>
        buildQbxmlMessage([
          { type: 'CustomerAdd', requestId: 'r', fields: { name: 'n', customerTypeRef: { fullName: long(160) } } },
        ]),
      field: 'customerTypeRef.fullName',
      limit: 159,
    },
    {
      name: 'invoice RefNumber over 11',
      build: () =>
        buildQbxmlMessage([
          { type: 'InvoiceAdd', requestId: 'r', fields: { customerRef: { fullName: 'c' }, refNumber: long(12) } },
        ]),
      field: 'refNumber',
      limit: 11,
    },
    {
      name: 'invoice line Other1 over 29',
      build: () =>
        buildQbxmlMessage([
          {
            type: 'InvoiceAdd',
            requestId: 'r',
            fields: { customerRef: { fullName: 'c' }, lines: [{ other1: long(30) }] },
          },
        ]),
      field: 'lines[0].other1',
      limit: 29,
    },
    {
      name: 'EditSequence over 16',
      build: () =>
        buildQbxmlMessage([
          { type: 'ClassAdd', requestId: 'r', fields: { name: 'n' } },
          { type: 'CustomerMod', requestId: 's', fields: { listId: 'L', editSequence: long(17) } },
        ]),
      field: 'editSequence',
      limit: 16,
      requestType: 'CustomerMod',
    },
    {
      name: 'requestID over 50',
      build: () => buildQbxmlMessage([{ type: 'VendorQuery', requestId: long(51) }]),
      field: 'requestId',
      limit: 50,
    },
    {
      name: 'length counts characters, not bytes (42 euro signs, 3 bytes each in UTF-8)',
      build: () => buildQbxmlMessage([{ type: 'CustomerAdd', requestId: 'r', fields: { name: '€'.repeat(42) } }]),
      field: 'name',
      limit: 41,
    },
    {
      name: 'missing required name',
      build: () => buildQbxmlMessage([{ type: 'CustomerAdd', requestId: 'r', fields: {} as never }]),
      field: 'name',
    },
    {
      name: 'missing customerRef on InvoiceAdd',
      build: () => buildQbxmlMessage([{ type: 'InvoiceAdd', requestId: 'r', fields: {} as never }]),
      field: 'customerRef',
    },
    {
      name: 'money as a JS number',
      build: () =>
        buildQbxmlMessage([
          { type: 'CustomerAdd', requestId: 'r', fields: { name: 'n', creditLimit: 12.5 as unknown as string } },
        ]),
      field: 'creditLimit',
    },
    {
      name: 'money that is not a decimal',
      build: () =>
        buildQbxmlMessage([{ type: 'CustomerAdd', requestId: 'r', fields: { name: 'n', creditLimit: '1,000.00' } }]),
      field: 'creditLimit',
    },
    {
      name: 'bad date',
      build: () =>
        buildQbxmlMessage([{ type: 'CustomerAdd', requestId: 'r', fields: { name: 'n', jobStartDate: '01/02/2024' } }]),
      field: 'jobStartDate',
    },
    {
      name: 'JS ISO timestamp with milliseconds and Z in a change filter',
      build: () =>
        buildQbxmlMessage([{ type: 'CustomerQuery', requestId: 'r', fromModifiedDate: '2024-01-01T00:00:00.000Z' }]),
      field: 'fromModifiedDate',
    },
    {
      name: 'both rate and ratePercent on a line',
      build: () =>
        buildQbxmlMessage([
          {
            type: 'InvoiceAdd',
            requestId: 'r',
            fields: { customerRef: { fullName: 'c' }, lines: [{ rate: '1', ratePercent: '2' }] },
          },
        ]),
      field: 'lines[0].rate',
    },
    {
      name: 'item Add without SalesOrPurchase or SalesAndPurchase',
      build: () => buildQbxmlMessage([{ type: 'ItemNonInventoryAdd', requestId: 'r', fields: { name: 'n' } }]),
      field: 'salesOrPurchase|salesAndPurchase',
    },
    {
      name: 'item with both SalesOrPurchase and SalesAndPurchase',
      build: () =>
        buildQbxmlMessage([
          { type: 'ItemServiceAdd', requestId: 'r', fields: { name: 'n', salesOrPurchase: {}, salesAndPurchase: {} } },
        ]),
      field: 'salesOrPurchase',
    },
    {
      name: 'ref without listId or fullName',
      build: () => buildQbxmlMessage([{ type: 'CustomerAdd', requestId: 'r', fields: { name: 'n', termsRef: {} } }]),
      field: 'termsRef',
    },
    {
      name: 'Continue without iteratorId',
      build: () => buildQbxmlMessage([{ type: 'CustomerQuery', requestId: 'r', iterator: 'Continue' }]),
      field: 'iteratorId',
    },
    {
      name: 'ListIDs combined with filters',
      build: () => buildQbxmlMessage([{ type: 'CustomerQuery', requestId: 'r', listIds: ['a'], maxReturned: 5 }]),
      field: 'listIds',
    },
    {
      name: 'maxReturned not a positive integer',
      build: () => buildQbxmlMessage([{ type: 'VendorQuery', requestId: 'r', maxReturned: 0 }]),
      field: 'maxReturned',
    },
    {
      name: 'control character in a value',
      build: () => buildQbxmlMessage([{ type: 'CustomerAdd', requestId: 'r', fields: { name: 'a\u0001b' } }]),
      field: 'name',
    },
    {
      name: 'enum value outside the schema',
      build: () =>
        buildQbxmlMessage([{ type: 'CustomerAdd', requestId: 'r', fields: { name: 'n', jobStatus: 'Done' as never } }]),
      field: 'jobStatus',
    },
    {
      name: 'duplicate requestID in one message',
      build: () =>
        buildQbxmlMessage([
          { type: 'VendorQuery', requestId: 'same' },
          { type: 'CustomerQuery', requestId: 'same' },
        ]),
      field: 'requestId',
    },
    { name: 'empty request list', build: () => buildQbxmlMessage([]), field: 'requests' },
    {
      name: 'unknown onError',
      build: () => buildQbxmlMessage([{ type: 'VendorQuery', requestId: 'r' }], { onError: 'ignore' as never }),
      field: 'onError',
    },
    {
      name: 'unknown request type',
      build: () => buildQbxmlMessage([{ type: 'EmployeeAdd', requestId: 'r' } as unknown as QbxmlRequest]),
      field: 'type',
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.throws(c.build, (err: unknown) => {
        assert.ok(err instanceof QbxmlFieldError, String(err));
        assert.equal(err.name, 'QbxmlFieldError');
        assert.equal(err.field, c.field);
        if (c.limit !== undefined) {
          assert.equal(err.limit, c.limit);
          assert.match(err.message, new RegExp(String(c.limit)));
        }
        if (c.requestType !== undefined) assert.equal(err.requestType, c.requestType);
        assert.ok(err.message.includes(c.field));
        return true;
      });
    });
  }

  it('accepts values exactly at the limit', () => {
    const xml = buildQbxmlMessage([
      { type: 'CustomerAdd', requestId: 'x'.repeat(50), fields: { name: 'x'.repeat(41) } },
    ]);
    assert.match(xml, new RegExp(`<Name>${'x'.repeat(41)}</Name>`));
  });
});
