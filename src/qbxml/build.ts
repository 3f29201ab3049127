/**
 * Builds qbXML request messages. QuickBooks validates every request against the XSD sequence: one element out of
 * order fails the whole message with HRESULT 0x80040400, so each request type is described below as an ordered
 * field list in qbXML 13.0 XSD order, and the writer walks that list rather than the input object.
 */
import { QbxmlFieldError } from './errors';
import {
  MAX_REQUEST_ID_LENGTH,
  type QbxmlQueryRequest,
  type QbxmlRequest,
  type QbxmlWriteRequest,
  isQueryRequest,
  supportsIterator,
} from './requests';
import {
  CUSTOMER_FULL_NAME_MAX,
  isCalendarDate,
  isQbxmlGuid,
  LIST_REF_FULL_NAME_MAX,
  numberFormatViolation,
  refFullNameMax,
  type NumberFormat,
} from './valueFormats';
import { charactersOutsideWindows1252 } from './charset';
import { escapeXml, hasForbiddenXmlChar } from './xml';
import { versionHas } from './versions';

export type OnErrorMode = 'continueOnError' | 'stopOnError' | 'rollbackOnError';

export interface BuildOptions {
  /** qbXML version announced in the `<?qbxml?>` instruction; QuickBooks refuses versions newer than itself. */
  version?: string;
  /** `stopOnError` also stops on warnings, so independent batches want `continueOnError` (the default). */
  onError?: OnErrorMode;
  /**
   * Told of each field left out because `version` has no such element (an inventory maximum to a QuickBooks that
   * speaks qbXML 12.0): QuickBooks of that version has nowhere to keep it, and sending it would fail the whole
   * message. Names only, never values.
   */
  onOmitted?: (omission: QbxmlOmission) => void;
}

export interface QbxmlOmission {
  requestId: string;
  requestType: string;
  /** The builder's field path, e.g. `max` or `lines[0].classRef`. */
  field: string;
  version: string;
}

const DEFAULT_QBXML_VERSION = '13.0';

// ---------------------------------------------------------------------------------------------------------------
// Field specs
// ---------------------------------------------------------------------------------------------------------------

type FieldSpec =
  | { kind: 'text'; key: string; el: string; max?: number; required?: boolean; repeat?: boolean }
  | { kind: 'enum'; key: string; el: string; values: readonly string[]; required?: boolean }
  | { kind: 'bool'; key: string; el: string }
  | { kind: 'number'; key: string; el: string; format: NumberFormat }
  | { kind: 'guid'; key: string; el: string }
  | { kind: 'date'; key: string; el: string }
  | { kind: 'ref'; key: string; el: string; fullNameMax: number; required?: boolean }
  | { kind: 'address'; key: string; el: string }
  | { kind: 'barCode'; key: string; el: string }
  | { kind: 'group'; key: string; el: string; fields: readonly FieldSpec[]; required?: boolean; repeat?: boolean }
  | { kind: 'dataExtTarget'; key: string };

const ID_MAX = 36;
const EDIT_SEQUENCE_MAX = 16;

const text = (key: string, el: string, max?: number, required = false): FieldSpec => ({
  kind: 'text',
  key,
  el,
  ...(max === undefined ? {} : { max }),
  required,
});
const bool = (key: string, el: string): FieldSpec => ({ kind: 'bool', key, el });
const number =
  (format: NumberFormat) =>
  (key: string, el: string): FieldSpec => ({ kind: 'number', key, el, format });
const amount = number('amount');
const price = number('price');
const quantity = number('quantity');
const percent = number('percent');
const guid = (key: string, el: string): FieldSpec => ({ kind: 'guid', key, el });
const date = (key: string, el: string): FieldSpec => ({ kind: 'date', key, el });
const ref = (key: string, el: string, fullNameMax = refFullNameMax(el), required = false): FieldSpec => ({
  kind: 'ref',
  key,
  el,
  fullNameMax,
  required,
});
const address = (key: string, el: string): FieldSpec => ({ kind: 'address', key, el });

const ADDRESS_FIELDS: readonly FieldSpec[] = [
  text('addr1', 'Addr1', 41),
  text('addr2', 'Addr2', 41),
  text('addr3', 'Addr3', 41),
  text('addr4', 'Addr4', 41),
  text('addr5', 'Addr5', 41),
  text('city', 'City', 31),
  text('state', 'State', 21),
  text('postalCode', 'PostalCode', 13),
  text('country', 'Country', 31),
  text('note', 'Note', 41),
];

type Mode = 'add' | 'mod';

/** `specs` in the `wanted` request only: qbXML's Add and Mod of one object differ by a few elements each. */
const onlyIn = (wanted: Mode, mode: Mode, ...specs: FieldSpec[]): FieldSpec[] => (mode === wanted ? specs : []);

const listModIdentity: readonly FieldSpec[] = [
  text('listId', 'ListID', ID_MAX, true),
  text('editSequence', 'EditSequence', EDIT_SEQUENCE_MAX, true),
];

/** A list record opens with its name; a Mod names the record and the EditSequence it read first, and may omit Name. */
function listRecordHead(mode: Mode, nameMax: number): FieldSpec[] {
  return [...onlyIn('mod', mode, ...listModIdentity), text('name', 'Name', nameMax, mode === 'add')];
}

/** An account reference; a Mod may also move the existing transactions to the new account (`Apply…ToExistingTxns`). */
function accountRef(mode: Mode, key: string, el: string): FieldSpec[] {
  const applyKey = `apply${key.charAt(0).toUpperCase()}${key.slice(1)}ToExistingTxns`;
  return [ref(key, el), ...onlyIn('mod', mode, bool(applyKey, `Apply${el}ToExistingTxns`))];
}

const personName: readonly FieldSpec[] = [
  text('salutation', 'Salutation', 15),
  text('firstName', 'FirstName', 25),
  text('middleName', 'MiddleName', 5),
  text('lastName', 'LastName', 25),
  text('suffix', 'Suffix', 10),
  text('jobTitle', 'JobTitle', 41),
];

const communication: readonly FieldSpec[] = [
  text('phone', 'Phone', 21),
  text('mobile', 'Mobile', 21),
  text('pager', 'Pager', 21),
  text('altPhone', 'AltPhone', 21),
  text('fax', 'Fax', 21),
  text('email', 'Email', 1023),
  text('cc', 'Cc', 1023),
  text('contact', 'Contact', 41),
  text('altContact', 'AltContact', 41),
];

/** Set once, when a customer or vendor is added with what it already owed or was owed. */
const openingBalance: readonly FieldSpec[] = [
  amount('openBalance', 'OpenBalance'),
  date('openBalanceDate', 'OpenBalanceDate'),
];

function customerFields(mode: Mode): FieldSpec[] {
  return [
    ...listRecordHead(mode, 41),
    bool('isActive', 'IsActive'),
    ref('classRef', 'ClassRef'),
    ref('parentRef', 'ParentRef', CUSTOMER_FULL_NAME_MAX),
    text('companyName', 'CompanyName', 41),
    ...personName,
    address('billAddress', 'BillAddress'),
    address('shipAddress', 'ShipAddress'),
    text('printAs', 'PrintAs', 41),
    ...communication,
    ref('customerTypeRef', 'CustomerTypeRef'),
    ref('termsRef', 'TermsRef'),
    ref('salesRepRef', 'SalesRepRef'),
    ...onlyIn('add', mode, ...openingBalance),
    ref('salesTaxCodeRef', 'SalesTaxCodeRef'),
    ref('itemSalesTaxRef', 'ItemSalesTaxRef'),
    text('resaleNumber', 'ResaleNumber', 15),
    text('accountNumber', 'AccountNumber', 99),
    amount('creditLimit', 'CreditLimit'),
    ref('preferredPaymentMethodRef', 'PreferredPaymentMethodRef'),
    {
      kind: 'enum',
      key: 'jobStatus',
      el: 'JobStatus',
      values: ['Awarded', 'Closed', 'InProgress', 'None', 'NotAwarded', 'Pending'],
    },
    date('jobStartDate', 'JobStartDate'),
    date('jobProjectedEndDate', 'JobProjectedEndDate'),
    date('jobEndDate', 'JobEndDate'),
    text('jobDesc', 'JobDesc', 99),
    ref('jobTypeRef', 'JobTypeRef'),
    text('notes', 'Notes', 4095),
    bool('isStatementWithParent', 'IsStatementWithParent'),
    { kind: 'enum', key: 'preferredDeliveryMethod', el: 'PreferredDeliveryMethod', values: ['None', 'Email', 'Fax'] },
    ref('priceLevelRef', 'PriceLevelRef'),
    ...onlyIn('add', mode, guid('externalGuid', 'ExternalGUID')),
    text('taxRegistrationNumber', 'TaxRegistrationNumber', 30),
    ref('currencyRef', 'CurrencyRef'),
  ];
}

function vendorFields(mode: Mode): FieldSpec[] {
  return [
    ...listRecordHead(mode, 41),
    bool('isActive', 'IsActive'),
    ref('classRef', 'ClassRef'),
    text('companyName', 'CompanyName', 41),
    ...personName,
    address('vendorAddress', 'VendorAddress'),
    address('shipAddress', 'ShipAddress'),
    ...communication,
    text('nameOnCheck', 'NameOnCheck', 41),
    text('accountNumber', 'AccountNumber', 99),
    text('notes', 'Notes', 4095),
    ref('vendorTypeRef', 'VendorTypeRef'),
    ref('termsRef', 'TermsRef'),
    amount('creditLimit', 'CreditLimit'),
    text('vendorTaxIdent', 'VendorTaxIdent', 15),
    bool('isVendorEligibleFor1099', 'IsVendorEligibleFor1099'),
    ...onlyIn('add', mode, ...openingBalance),
    ref('billingRateRef', 'BillingRateRef'),
    ...onlyIn('add', mode, guid('externalGuid', 'ExternalGUID')),
    ref('salesTaxCodeRef', 'SalesTaxCodeRef'),
    bool('isSalesTaxAgency', 'IsSalesTaxAgency'),
    text('taxRegistrationNumber', 'TaxRegistrationNumber', 30),
    ref('currencyRef', 'CurrencyRef'),
  ];
}

const simpleListAddFields: readonly FieldSpec[] = [
  text('name', 'Name', 31, true),
  bool('isActive', 'IsActive'),
  ref('parentRef', 'ParentRef'),
];

const classThenParent: readonly FieldSpec[] = [ref('classRef', 'ClassRef'), ref('parentRef', 'ParentRef')];

/** What every item kind opens with, up to its sales tax code; `hierarchy` is ClassRef and ParentRef in XSD order. */
function itemHead(mode: Mode, hierarchy: readonly FieldSpec[], manufacturerPartNumber: boolean): FieldSpec[] {
  return [
    ...listRecordHead(mode, 31),
    { kind: 'barCode', key: 'barCodeValue', el: 'BarCode' },
    bool('isActive', 'IsActive'),
    ...hierarchy,
    ...(manufacturerPartNumber ? [text('manufacturerPartNumber', 'ManufacturerPartNumber', 31)] : []),
    ref('unitOfMeasureSetRef', 'UnitOfMeasureSetRef'),
    ...onlyIn('mod', mode, bool('forceUomChange', 'ForceUOMChange')),
    bool('isTaxIncluded', 'IsTaxIncluded'),
    ref('salesTaxCodeRef', 'SalesTaxCodeRef'),
  ];
}

/**
 * An item bought to be sold: the selling side, then the buying side, whose cost goes to `costAccount` (an expense
 * account for parts and services, cost of goods sold for inventory).
 */
function sellingAndBuying(mode: Mode, costAccount: readonly [key: string, el: string]): FieldSpec[] {
  return [
    text('salesDesc', 'SalesDesc', 4095),
    price('salesPrice', 'SalesPrice'),
    ...accountRef(mode, 'incomeAccountRef', 'IncomeAccountRef'),
    text('purchaseDesc', 'PurchaseDesc', 4095),
    price('purchaseCost', 'PurchaseCost'),
    ref('purchaseTaxCodeRef', 'PurchaseTaxCodeRef'),
    ...accountRef(mode, ...costAccount),
    ref('prefVendorRef', 'PrefVendorRef'),
  ];
}

/** The two groups a service or non-inventory item chooses between; a Mod's element ends in `Mod`. */
function itemChoiceGroup(mode: Mode, key: string, el: string, fields: FieldSpec[]): FieldSpec {
  return { kind: 'group', key, el: mode === 'add' ? el : `${el}Mod`, fields };
}

/** Service and non-inventory items; they differ only in ManufacturerPartNumber and the Add's ParentRef/ClassRef swap. */
function salesItemFields(mode: Mode, nonInventory: boolean): FieldSpec[] {
  // ItemNonInventoryAdd alone puts ParentRef before ClassRef in the XSD; its Mod uses the usual order.
  const hierarchy = nonInventory && mode === 'add' ? [...classThenParent].reverse() : classThenParent;
  return [
    ...itemHead(mode, hierarchy, nonInventory),
    itemChoiceGroup(mode, 'salesOrPurchase', 'SalesOrPurchase', [
      text('desc', 'Desc', 4095),
      price('price', 'Price'),
      percent('pricePercent', 'PricePercent'),
      ...accountRef(mode, 'accountRef', 'AccountRef'),
    ]),
    itemChoiceGroup(
      mode,
      'salesAndPurchase',
      'SalesAndPurchase',
      sellingAndBuying(mode, ['expenseAccountRef', 'ExpenseAccountRef']),
    ),
    ...onlyIn('add', mode, guid('externalGuid', 'ExternalGUID')),
  ];
}

function inventoryItemFields(mode: Mode): FieldSpec[] {
  return [
    ...itemHead(mode, classThenParent, true),
    ...sellingAndBuying(mode, ['cogsAccountRef', 'COGSAccountRef']),
    ref('assetAccountRef', 'AssetAccountRef'),
    quantity('reorderPoint', 'ReorderPoint'),
    quantity('max', 'Max'),
    ...onlyIn(
      'add',
      mode,
      quantity('quantityOnHand', 'QuantityOnHand'),
      amount('totalValue', 'TotalValue'),
      date('inventoryDate', 'InventoryDate'),
      guid('externalGuid', 'ExternalGUID'),
    ),
  ];
}

const lineDataExt: FieldSpec = {
  kind: 'group',
  key: 'dataExt',
  el: 'DataExt',
  repeat: true,
  fields: [
    text('ownerId', 'OwnerID', 38, true),
    text('dataExtName', 'DataExtName', 31, true),
    text('dataExtValue', 'DataExtValue', undefined, true),
  ],
};

function invoiceLineFields(mode: Mode): FieldSpec[] {
  return [
    ...onlyIn('mod', mode, text('txnLineId', 'TxnLineID', ID_MAX, true)),
    ref('itemRef', 'ItemRef'),
    text('desc', 'Desc', 4095),
    quantity('quantity', 'Quantity'),
    text('unitOfMeasure', 'UnitOfMeasure', 31),
    ...onlyIn('mod', mode, ref('overrideUomSetRef', 'OverrideUOMSetRef')),
    price('rate', 'Rate'),
    percent('ratePercent', 'RatePercent'),
    ref('classRef', 'ClassRef'),
    amount('amount', 'Amount'),
    date('serviceDate', 'ServiceDate'),
    ref('salesTaxCodeRef', 'SalesTaxCodeRef'),
    ...(mode === 'add' ? [bool('isTaxable', 'IsTaxable')] : [ref('overrideItemAccountRef', 'OverrideItemAccountRef')]),
    text('other1', 'Other1', 29),
    text('other2', 'Other2', 29),
    ...onlyIn(
      'add',
      mode,
      {
        kind: 'group',
        key: 'linkToTxn',
        el: 'LinkToTxn',
        fields: [text('txnId', 'TxnID', ID_MAX, true), text('txnLineId', 'TxnLineID', ID_MAX, true)],
      },
      lineDataExt,
    ),
  ];
}

function invoiceFields(mode: Mode): FieldSpec[] {
  return [
    ...onlyIn(
      'mod',
      mode,
      text('txnId', 'TxnID', ID_MAX, true),
      text('editSequence', 'EditSequence', EDIT_SEQUENCE_MAX, true),
    ),
    ref('customerRef', 'CustomerRef', CUSTOMER_FULL_NAME_MAX, mode === 'add'),
    ref('classRef', 'ClassRef'),
    ref('arAccountRef', 'ARAccountRef'),
    ref('templateRef', 'TemplateRef'),
    date('txnDate', 'TxnDate'),
    text('refNumber', 'RefNumber', 11),
    address('billAddress', 'BillAddress'),
    address('shipAddress', 'ShipAddress'),
    bool('isPending', 'IsPending'),
    ...onlyIn('add', mode, bool('isFinanceCharge', 'IsFinanceCharge')),
    text('poNumber', 'PONumber', 25),
    ref('termsRef', 'TermsRef'),
    date('dueDate', 'DueDate'),
    ref('salesRepRef', 'SalesRepRef'),
    text('fob', 'FOB', 13),
    date('shipDate', 'ShipDate'),
    ref('shipMethodRef', 'ShipMethodRef'),
    ref('itemSalesTaxRef', 'ItemSalesTaxRef'),
    text('memo', 'Memo', 4095),
    ref('customerMsgRef', 'CustomerMsgRef'),
    bool('isToBePrinted', 'IsToBePrinted'),
    bool('isToBeEmailed', 'IsToBeEmailed'),
    bool('isTaxIncluded', 'IsTaxIncluded'),
    ref('customerSalesTaxCodeRef', 'CustomerSalesTaxCodeRef'),
    text('other', 'Other', 29),
    number('float')('exchangeRate', 'ExchangeRate'),
    ...onlyIn('add', mode, guid('externalGuid', 'ExternalGUID'), {
      kind: 'text',
      key: 'linkToTxnIds',
      el: 'LinkToTxnID',
      max: ID_MAX,
      repeat: true,
    }),
    {
      kind: 'group',
      key: 'lines',
      el: mode === 'add' ? 'InvoiceLineAdd' : 'InvoiceLineMod',
      repeat: true,
      fields: invoiceLineFields(mode),
    },
  ];
}

/**
 * qbXML 13 `SalesOrderLineAdd` / `SalesOrderLineMod`, in XSD order (reference §14): the invoice line's core, then
 * SalesTaxCodeRef, IsManuallyClosed, Other1, Other2; the Add ends with DataExt. Inventory sites, serial and lot numbers
 * are not sent by the connector and so not offered here.
 */
function salesOrderLineFields(mode: Mode): FieldSpec[] {
  return [
    ...onlyIn('mod', mode, text('txnLineId', 'TxnLineID', ID_MAX, true)),
    ref('itemRef', 'ItemRef'),
    text('desc', 'Desc', 4095),
    quantity('quantity', 'Quantity'),
    text('unitOfMeasure', 'UnitOfMeasure', 31),
    ...onlyIn('mod', mode, ref('overrideUomSetRef', 'OverrideUOMSetRef')),
    price('rate', 'Rate'),
    percent('ratePercent', 'RatePercent'),
    ref('classRef', 'ClassRef'),
    amount('amount', 'Amount'),
    ref('salesTaxCodeRef', 'SalesTaxCodeRef'),
    bool('isManuallyClosed', 'IsManuallyClosed'),
    text('other1', 'Other1', 29),
    text('other2', 'Other2', 29),
    ...onlyIn('add', mode, lineDataExt),
  ];
}

/**
 * qbXML 13 `SalesOrderAdd` / `SalesOrderMod` in XSD order (reference §14): CustomerRef (required on an Add), ClassRef,
 * TemplateRef, TxnDate, RefNumber, the addresses, PONumber … ShipMethodRef, ItemSalesTaxRef, IsManuallyClosed, Memo …
 * ExchangeRate, ExternalGUID on the Add only, then the lines: at least one on an Add, which QuickBooks requires.
 */
function salesOrderFields(mode: Mode): FieldSpec[] {
  return [
    ...onlyIn(
      'mod',
      mode,
      text('txnId', 'TxnID', ID_MAX, true),
      text('editSequence', 'EditSequence', EDIT_SEQUENCE_MAX, true),
    ),
    ref('customerRef', 'CustomerRef', CUSTOMER_FULL_NAME_MAX, mode === 'add'),
    ref('classRef', 'ClassRef'),
    ref('templateRef', 'TemplateRef'),
    date('txnDate', 'TxnDate'),
    text('refNumber', 'RefNumber', 11),
    address('billAddress', 'BillAddress'),
    address('shipAddress', 'ShipAddress'),
    text('poNumber', 'PONumber', 25),
    ref('termsRef', 'TermsRef'),
    date('dueDate', 'DueDate'),
    ref('salesRepRef', 'SalesRepRef'),
    text('fob', 'FOB', 13),
    date('shipDate', 'ShipDate'),
    ref('shipMethodRef', 'ShipMethodRef'),
    ref('itemSalesTaxRef', 'ItemSalesTaxRef'),
    bool('isManuallyClosed', 'IsManuallyClosed'),
    text('memo', 'Memo', 4095),
    ref('customerMsgRef', 'CustomerMsgRef'),
    bool('isToBePrinted', 'IsToBePrinted'),
    bool('isToBeEmailed', 'IsToBeEmailed'),
    bool('isTaxIncluded', 'IsTaxIncluded'),
    ref('customerSalesTaxCodeRef', 'CustomerSalesTaxCodeRef'),
    text('other', 'Other', 29),
    number('float')('exchangeRate', 'ExchangeRate'),
    ...onlyIn('add', mode, guid('externalGuid', 'ExternalGUID')),
    {
      kind: 'group',
      key: 'lines',
      el: mode === 'add' ? 'SalesOrderLineAdd' : 'SalesOrderLineMod',
      repeat: true,
      required: mode === 'add',
      fields: salesOrderLineFields(mode),
    },
  ];
}

/**
 * qbXML 13 `EstimateLineAdd` / `EstimateLineMod`, in XSD order. Assumption (the XSD itself was not at hand; the order
 * follows the invoice line's, whose shared elements the estimate line keeps, and public EstimateAdd samples): no
 * ServiceDate, IsTaxable, OverrideItemAccountRef or LinkToTxn on an estimate line; its markup and inventory-site
 * elements are not sent by the connector and so not offered here.
 */
function estimateLineFields(mode: Mode): FieldSpec[] {
  return [
    ...onlyIn('mod', mode, text('txnLineId', 'TxnLineID', ID_MAX, true)),
    ref('itemRef', 'ItemRef'),
    text('desc', 'Desc', 4095),
    quantity('quantity', 'Quantity'),
    text('unitOfMeasure', 'UnitOfMeasure', 31),
    ...onlyIn('mod', mode, ref('overrideUomSetRef', 'OverrideUOMSetRef')),
    price('rate', 'Rate'),
    percent('ratePercent', 'RatePercent'),
    ref('classRef', 'ClassRef'),
    amount('amount', 'Amount'),
    ref('salesTaxCodeRef', 'SalesTaxCodeRef'),
    text('other1', 'Other1', 29),
    text('other2', 'Other2', 29),
    ...onlyIn('add', mode, lineDataExt),
  ];
}

/**
 * qbXML 13 `EstimateAdd` / `EstimateMod` in XSD order: CustomerRef first (required on an Add), IsActive between the
 * addresses and PONumber, no ARAccountRef, IsPending, ShipDate, ShipMethodRef or IsToBePrinted (order confirmed
 * against public EstimateAdd samples: CustomerRef, TemplateRef, TxnDate, RefNumber, BillAddress, ShipAddress, IsActive,
 * PONumber, TermsRef, DueDate, ItemSalesTaxRef, IsToBeEmailed, CustomerSalesTaxCodeRef, ExchangeRate; the placement of
 * ClassRef, SalesRepRef, FOB, Memo, CustomerMsgRef, IsTaxIncluded and Other is taken from the invoice's and is an
 * assumption), ExternalGUID on the Add only, then the lines.
 */
function estimateFields(mode: Mode): FieldSpec[] {
  return [
    ...onlyIn(
      'mod',
      mode,
      text('txnId', 'TxnID', ID_MAX, true),
      text('editSequence', 'EditSequence', EDIT_SEQUENCE_MAX, true),
    ),
    ref('customerRef', 'CustomerRef', CUSTOMER_FULL_NAME_MAX, mode === 'add'),
    ref('classRef', 'ClassRef'),
    ref('templateRef', 'TemplateRef'),
    date('txnDate', 'TxnDate'),
    text('refNumber', 'RefNumber', 11),
    address('billAddress', 'BillAddress'),
    address('shipAddress', 'ShipAddress'),
    bool('isActive', 'IsActive'),
    text('poNumber', 'PONumber', 25),
    ref('termsRef', 'TermsRef'),
    date('dueDate', 'DueDate'),
    ref('salesRepRef', 'SalesRepRef'),
    text('fob', 'FOB', 13),
    ref('itemSalesTaxRef', 'ItemSalesTaxRef'),
    text('memo', 'Memo', 4095),
    ref('customerMsgRef', 'CustomerMsgRef'),
    bool('isToBeEmailed', 'IsToBeEmailed'),
    bool('isTaxIncluded', 'IsTaxIncluded'),
    ref('customerSalesTaxCodeRef', 'CustomerSalesTaxCodeRef'),
    text('other', 'Other', 29),
    number('float')('exchangeRate', 'ExchangeRate'),
    ...onlyIn('add', mode, guid('externalGuid', 'ExternalGUID')),
    {
      kind: 'group',
      key: 'lines',
      el: mode === 'add' ? 'EstimateLineAdd' : 'EstimateLineMod',
      repeat: true,
      fields: estimateLineFields(mode),
    },
  ];
}

const dataExtDefAddFields: readonly FieldSpec[] = [
  text('ownerId', 'OwnerID', 38, true),
  text('dataExtName', 'DataExtName', 31, true),
  {
    kind: 'enum',
    key: 'dataExtType',
    el: 'DataExtType',
    values: ['AMTTYPE', 'DATETIMETYPE', 'INTTYPE', 'PERCENTTYPE', 'PRICETYPE', 'QUANTYPE', 'STR1024TYPE', 'STR255TYPE'],
    required: true,
  },
  { kind: 'text', key: 'assignToObject', el: 'AssignToObject', repeat: true },
  bool('dataExtListRequire', 'DataExtListRequire'),
  bool('dataExtTxnRequire', 'DataExtTxnRequire'),
  text('dataExtFormatString', 'DataExtFormatString', 1024),
];

const dataExtValueFields: readonly FieldSpec[] = [
  text('ownerId', 'OwnerID', 38, true),
  text('dataExtName', 'DataExtName', 31, true),
  { kind: 'dataExtTarget', key: 'target' },
  text('dataExtValue', 'DataExtValue', undefined, true),
];

/** Element sequences per write request type, plus pairs qbXML allows at most one of. */
interface WriteShape {
  body: string;
  fields: readonly FieldSpec[];
  exclusive?: ReadonlyArray<readonly [string, string]>;
  /** One of these groups must be present (an XSD required choice). */
  requireOneOf?: readonly string[];
}

const itemChoice = ['salesOrPurchase', 'salesAndPurchase'] as const;

/** A service or non-inventory item carries one of its two groups; an Add must carry one, a Mod may change neither. */
function salesItemShape(body: string, mode: Mode, nonInventory: boolean): WriteShape {
  const shape = { body, fields: salesItemFields(mode, nonInventory), exclusive: [itemChoice] };
  return mode === 'add' ? { ...shape, requireOneOf: itemChoice } : shape;
}

const WRITE_SHAPES: Readonly<Record<QbxmlWriteRequest['type'], WriteShape>> = {
  CustomerAdd: { body: 'CustomerAdd', fields: customerFields('add') },
  CustomerMod: { body: 'CustomerMod', fields: customerFields('mod') },
  VendorAdd: { body: 'VendorAdd', fields: vendorFields('add') },
  VendorMod: { body: 'VendorMod', fields: vendorFields('mod') },
  CustomerTypeAdd: { body: 'CustomerTypeAdd', fields: simpleListAddFields },
  ClassAdd: { body: 'ClassAdd', fields: simpleListAddFields },
  ItemServiceAdd: salesItemShape('ItemServiceAdd', 'add', false),
  ItemServiceMod: salesItemShape('ItemServiceMod', 'mod', false),
  ItemNonInventoryAdd: salesItemShape('ItemNonInventoryAdd', 'add', true),
  ItemNonInventoryMod: salesItemShape('ItemNonInventoryMod', 'mod', true),
  ItemInventoryAdd: { body: 'ItemInventoryAdd', fields: inventoryItemFields('add') },
  ItemInventoryMod: { body: 'ItemInventoryMod', fields: inventoryItemFields('mod') },
  InvoiceAdd: { body: 'InvoiceAdd', fields: invoiceFields('add') },
  InvoiceMod: { body: 'InvoiceMod', fields: invoiceFields('mod') },
  SalesOrderAdd: { body: 'SalesOrderAdd', fields: salesOrderFields('add') },
  SalesOrderMod: { body: 'SalesOrderMod', fields: salesOrderFields('mod') },
  EstimateAdd: { body: 'EstimateAdd', fields: estimateFields('add') },
  EstimateMod: { body: 'EstimateMod', fields: estimateFields('mod') },
  DataExtDefAdd: { body: 'DataExtDefAdd', fields: dataExtDefAddFields },
  DataExtAdd: { body: 'DataExtAdd', fields: dataExtValueFields },
  DataExtMod: { body: 'DataExtMod', fields: dataExtValueFields },
};

// ---------------------------------------------------------------------------------------------------------------
// Writer
// ---------------------------------------------------------------------------------------------------------------

/** QuickBooks takes local time without offset, or with an explicit `±hh:mm`; not `Z`, not milliseconds. */
const DATE_TIME = /^\d{4}-\d{2}-\d{2}(?:T(\d{2}):(\d{2}):[0-5]\d(?:[+-]\d{2}:\d{2})?)?$/;

class ElementWriter {
  private readonly parts: string[] = [];

  constructor(
    private readonly requestType: string,
    readonly version: string = DEFAULT_QBXML_VERSION,
    private readonly onOmitted?: (omission: QbxmlOmission) => void,
    private readonly requestId: string = '',
  ) {}

  /** Whether this message's version has `el` inside `parent`; a field it lacks is reported and left out. */
  has(parent: string, el: string, field: string): boolean {
    if (versionHas(this.version, parent, el)) return true;
    this.onOmitted?.({ requestId: this.requestId, requestType: this.requestType, field, version: this.version });
    return false;
  }

  fail(field: string, message: string, limit?: number): never {
    throw new QbxmlFieldError(this.requestType, field, message, limit);
  }

  open(el: string, attrs: Record<string, string | undefined> = {}): void {
    let attrText = '';
    for (const [name, value] of Object.entries(attrs)) {
      if (value !== undefined) attrText += ` ${name}="${escapeXml(value)}"`;
    }
    this.parts.push(`<${el}${attrText}>`);
  }

  close(el: string): void {
    this.parts.push(`</${el}>`);
  }

  leaf(field: string, el: string, value: string, max?: number): void {
    if (hasForbiddenXmlChar(value)) this.fail(field, 'contains a character XML does not allow');
    const outside = charactersOutsideWindows1252(value);
    if (outside.length > 0) {
      // QuickBooks would fail the whole message (0x80040400); the connection's policy transliterates before this.
      this.fail(
        field,
        `holds ${outside.map((c) => `"${c}"`).join(', ')}, outside the Windows-1252 text QuickBooks keeps`,
      );
    }
    if (max !== undefined && [...value].length > max) {
      this.fail(field, `is ${[...value].length} characters, longer than the limit of ${max}`, max);
    }
    this.parts.push(`<${el}>${escapeXml(value)}</${el}>`);
  }

  toString(): string {
    return this.parts.join('');
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function expectString(w: ElementWriter, field: string, value: unknown): string {
  if (typeof value !== 'string') w.fail(field, `must be a string, got ${typeof value}`);
  return value;
}

function writeFields(
  w: ElementWriter,
  fields: readonly FieldSpec[],
  source: Record<string, unknown>,
  path: string,
  parent: string,
) {
  for (const spec of fields) {
    const value = source[spec.key];
    const field = path === '' ? spec.key : `${path}.${spec.key}`;
    if (value === undefined || value === null) {
      if ('required' in spec && spec.required === true) w.fail(field, 'is required');
      continue;
    }
    if ('el' in spec && !w.has(parent, spec.el, field)) continue;
    writeField(w, spec, value, field);
  }
}

function writeField(w: ElementWriter, spec: FieldSpec, value: unknown, field: string): void {
  switch (spec.kind) {
    case 'text':
      for (const [v, name] of occurrences(w, spec, value, field)) {
        const s = expectString(w, name, v);
        if (spec.required === true && s === '') w.fail(name, 'must not be empty');
        w.leaf(name, spec.el, s, spec.max);
      }
      return;
    case 'enum': {
      const s = expectString(w, field, value);
      if (!spec.values.includes(s)) w.fail(field, `must be one of ${spec.values.join(', ')}`);
      w.leaf(field, spec.el, s);
      return;
    }
    case 'bool':
      if (typeof value !== 'boolean') w.fail(field, 'must be a boolean');
      w.leaf(field, spec.el, value ? 'true' : 'false');
      return;
    case 'number': {
      const s = expectString(w, field, value);
      const violation = numberFormatViolation(spec.format, s);
      if (violation !== undefined) w.fail(field, violation);
      w.leaf(field, spec.el, s);
      return;
    }
    case 'guid': {
      const s = expectString(w, field, value);
      if (!isQbxmlGuid(s)) w.fail(field, `"${s}" is not a GUID: 0 or {XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX}`);
      w.leaf(field, spec.el, s);
      return;
    }
    case 'date': {
      const s = expectString(w, field, value);
      if (!isCalendarDate(s)) w.fail(field, `must be a calendar date YYYY-MM-DD that exists, got "${s}"`);
      w.leaf(field, spec.el, s);
      return;
    }
    case 'ref':
      writeRef(w, spec.el, value, field, spec.fullNameMax);
      return;
    case 'address':
      if (!isRecord(value)) w.fail(field, 'must be an address object');
      w.open(spec.el);
      writeFields(w, ADDRESS_FIELDS, value, field, spec.el);
      w.close(spec.el);
      return;
    case 'barCode':
      w.open(spec.el);
      w.leaf(field, 'BarCodeValue', expectString(w, field, value), 50);
      w.close(spec.el);
      return;
    case 'group':
      // A required repeated group needs one occurrence at least (a sales order's lines): QuickBooks refuses none.
      if (spec.required === true && Array.isArray(value) && value.length === 0) w.fail(field, 'needs at least one');
      for (const [v, name] of occurrences(w, spec, value, field)) {
        if (!isRecord(v)) w.fail(name, 'must be an object');
        checkExclusive(w, v, name, [
          ['price', 'pricePercent'],
          ['rate', 'ratePercent'],
        ]);
        w.open(spec.el);
        writeFields(w, spec.fields, v, name, spec.el);
        w.close(spec.el);
      }
      return;
    case 'dataExtTarget':
      writeDataExtTarget(w, value, field);
      return;
  }
}

/** Each occurrence of a field with the name its errors give: `lines[2]` when the field repeats, else the field. */
function occurrences(
  w: ElementWriter,
  spec: { repeat?: boolean },
  value: unknown,
  field: string,
): Array<[value: unknown, name: string]> {
  if (spec.repeat !== true) return [[value, field]];
  if (!Array.isArray(value)) w.fail(field, 'must be an array');
  return value.map((v, i): [unknown, string] => [v, `${field}[${i}]`]);
}

function writeRef(w: ElementWriter, el: string, value: unknown, field: string, fullNameMax: number): void {
  if (!isRecord(value)) w.fail(field, 'must be a reference object { listId?, fullName? }');
  const listId = value.listId;
  const fullName = value.fullName;
  if (listId === undefined && fullName === undefined) w.fail(field, 'needs listId or fullName');
  w.open(el);
  // ListID first, FullName second: the XSD sequence; QuickBooks ignores FullName when ListID is present.
  if (listId !== undefined) w.leaf(`${field}.listId`, 'ListID', expectString(w, `${field}.listId`, listId), ID_MAX);
  if (fullName !== undefined) {
    w.leaf(`${field}.fullName`, 'FullName', expectString(w, `${field}.fullName`, fullName), fullNameMax);
  }
  w.close(el);
}

function writeDataExtTarget(w: ElementWriter, value: unknown, field: string): void {
  if (!isRecord(value)) w.fail(field, 'must be a DataExt target object');
  switch (value.kind) {
    case 'list': {
      const listType = expectString(w, `${field}.listDataExtType`, value.listDataExtType);
      const allowed = ['Account', 'Customer', 'Employee', 'Item', 'OtherName', 'Vendor'];
      if (!allowed.includes(listType)) w.fail(`${field}.listDataExtType`, `must be one of ${allowed.join(', ')}`);
      w.leaf(`${field}.listDataExtType`, 'ListDataExtType', listType);
      writeRef(w, 'ListObjRef', value.listObjRef, `${field}.listObjRef`, CUSTOMER_FULL_NAME_MAX);
      return;
    }
    case 'txn':
      w.leaf(
        `${field}.txnDataExtType`,
        'TxnDataExtType',
        expectString(w, `${field}.txnDataExtType`, value.txnDataExtType),
      );
      w.leaf(`${field}.txnId`, 'TxnID', expectString(w, `${field}.txnId`, value.txnId), ID_MAX);
      if (value.txnLineId !== undefined) {
        w.leaf(`${field}.txnLineId`, 'TxnLineID', expectString(w, `${field}.txnLineId`, value.txnLineId), ID_MAX);
      }
      return;
    case 'company':
      w.leaf(`${field}.kind`, 'OtherDataExtType', 'Company');
      return;
    default:
      w.fail(`${field}.kind`, 'must be list, txn or company');
  }
}

/** The pair qbXML allows one of, in the words every such refusal uses. */
function failBoth(w: ElementWriter, field: string, other: string): never {
  return w.fail(field, `cannot be combined with ${other} (qbXML allows one of them)`);
}

function checkExclusive(
  w: ElementWriter,
  source: Record<string, unknown>,
  path: string,
  pairs: ReadonlyArray<readonly [string, string]>,
): void {
  for (const [a, b] of pairs) {
    if (source[a] !== undefined && source[b] !== undefined) {
      failBoth(w, path === '' ? a : `${path}.${a}`, b);
    }
  }
}

function requestIdAttr(w: ElementWriter, requestId: unknown): string {
  const id = expectString(w, 'requestId', requestId);
  if (id === '') w.fail('requestId', 'must not be empty');
  if (id.length > MAX_REQUEST_ID_LENGTH) {
    w.fail(
      'requestId',
      `is ${id.length} characters, longer than the limit of ${MAX_REQUEST_ID_LENGTH}`,
      MAX_REQUEST_ID_LENGTH,
    );
  }
  if (hasForbiddenXmlChar(id)) w.fail('requestId', 'contains a character XML does not allow');
  return id;
}

function writeWrite(w: ElementWriter, req: QbxmlWriteRequest): void {
  const shape = WRITE_SHAPES[req.type];
  const fields: unknown = req.fields;
  if (!isRecord(fields)) w.fail('fields', 'must be an object');
  checkExclusive(w, fields, '', shape.exclusive ?? []);
  if (shape.requireOneOf && !shape.requireOneOf.some((k) => fields[k] !== undefined)) {
    w.fail(shape.requireOneOf.join('|'), `one of ${shape.requireOneOf.join(', ')} is required`);
  }
  w.open(`${req.type}Rq`, { requestID: requestIdAttr(w, req.requestId) });
  w.open(shape.body);
  writeFields(w, shape.fields, fields, '', shape.body);
  w.close(shape.body);
  w.close(`${req.type}Rq`);
}

function writeDateTime(w: ElementWriter, field: string, el: string, value: string | undefined): void {
  if (value === undefined) return;
  const m = DATE_TIME.exec(value);
  if (!m || !isCalendarDate(value.slice(0, 10)) || Number(m[1] ?? '0') > 23 || Number(m[2] ?? '0') > 59) {
    w.fail(field, `must be YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS with an optional ±hh:mm offset, got "${value}"`);
  }
  w.leaf(field, el, value);
}

function writeRepeated(w: ElementWriter, field: string, el: string, values: string[] | undefined, max?: number): void {
  (values ?? []).forEach((v, i) => w.leaf(`${field}[${i}]`, el, expectString(w, `${field}[${i}]`, v), max));
}

function iteratorAttrs(w: ElementWriter, req: QbxmlQueryRequest): Record<string, string | undefined> {
  if (!supportsIterator(req)) return {};
  if (req.iterator === undefined) {
    if (req.iteratorId !== undefined) w.fail('iteratorId', 'needs iterator Continue or Stop');
    return {};
  }
  if (req.iterator === 'Start' && req.iteratorId !== undefined)
    w.fail('iteratorId', 'must not be set with iterator Start');
  if (req.iterator !== 'Start' && (req.iteratorId === undefined || req.iteratorId === '')) {
    w.fail('iteratorId', `is required with iterator ${req.iterator}`);
  }
  return { iterator: req.iterator, iteratorID: req.iteratorId };
}

function writeMaxReturned(w: ElementWriter, maxReturned: number | undefined): void {
  if (maxReturned === undefined) return;
  if (!Number.isInteger(maxReturned) || maxReturned < 1) w.fail('maxReturned', 'must be a positive integer');
  w.leaf('maxReturned', 'MaxReturned', String(maxReturned));
}

/**
 * A query names its records by id, by name (RefNumber for transactions), or filters them: qbXML allows one of the
 * three ways at a time.
 */
function checkOneSelection(
  w: ElementWriter,
  [idField, ids]: [string, string[] | undefined],
  [nameField, names]: [string, string[] | undefined],
  filtered: boolean,
): void {
  const byId = ids !== undefined && ids.length > 0;
  const byName = names !== undefined && names.length > 0;
  if (byId && byName) failBoth(w, idField, nameField);
  if ((byId || byName) && filtered) w.fail(byId ? idField : nameField, 'cannot be combined with filters');
}

/** `DeletedDateRangeFilter`, after the types (qbXML 13 ListDeletedQuery / TxnDeletedQuery). */
function writeDeletedRange(w: ElementWriter, req: { fromDeletedDate?: string; toDeletedDate?: string }): void {
  if (req.fromDeletedDate === undefined && req.toDeletedDate === undefined) return;
  w.open('DeletedDateRangeFilter');
  writeDateTime(w, 'fromDeletedDate', 'FromDeletedDate', req.fromDeletedDate);
  writeDateTime(w, 'toDeletedDate', 'ToDeletedDate', req.toDeletedDate);
  w.close('DeletedDateRangeFilter');
}

const LIST_DEL_TYPES: readonly string[] = ['Customer', 'Vendor', 'ItemService', 'ItemNonInventory', 'ItemInventory'];

function writeQuery(w: ElementWriter, req: QbxmlQueryRequest): void {
  const el = `${req.type}Rq`;
  w.open(el, { requestID: requestIdAttr(w, req.requestId), ...iteratorAttrs(w, req) });
  if (req.type === 'ListDeletedQuery') {
    // ListDelType is required and repeatable; the date range follows the types (qbXML 13 ListDeletedQuery).
    if (!Array.isArray(req.listDelTypes) || req.listDelTypes.length === 0) {
      w.fail('listDelTypes', 'needs at least one ListDelType');
    }
    req.listDelTypes.forEach((t, i) => {
      if (!LIST_DEL_TYPES.includes(t)) w.fail(`listDelTypes[${i}]`, `must be one of ${LIST_DEL_TYPES.join(', ')}`);
      w.leaf(`listDelTypes[${i}]`, 'ListDelType', t);
    });
    writeDeletedRange(w, req);
  } else if (req.type === 'TxnDeletedQuery') {
    if (!Array.isArray(req.txnDelTypes) || req.txnDelTypes.length === 0) {
      w.fail('txnDelTypes', 'needs at least one TxnDelType');
    }
    req.txnDelTypes.forEach((t, i) => {
      if (t !== 'Invoice') w.fail(`txnDelTypes[${i}]`, 'must be Invoice');
      w.leaf(`txnDelTypes[${i}]`, 'TxnDelType', t);
    });
    writeDeletedRange(w, req);
  } else if (req.type === 'InvoiceQuery' || req.type === 'SalesOrderQuery' || req.type === 'EstimateQuery') {
    const filtered =
      req.maxReturned !== undefined ||
      req.fromModifiedDate !== undefined ||
      req.toModifiedDate !== undefined ||
      req.entityListId !== undefined ||
      (req.type === 'InvoiceQuery' && req.paidStatus !== undefined);
    checkOneSelection(w, ['txnIds', req.txnIds], ['refNumbers', req.refNumbers], filtered);
    writeRepeated(w, 'txnIds', 'TxnID', req.txnIds, ID_MAX);
    writeRepeated(w, 'refNumbers', 'RefNumber', req.refNumbers, 11);
    writeMaxReturned(w, req.maxReturned);
    // Transactions take the modified-date range inside ModifiedDateRangeFilter, unlike lists.
    if (req.fromModifiedDate !== undefined || req.toModifiedDate !== undefined) {
      w.open('ModifiedDateRangeFilter');
      writeDateTime(w, 'fromModifiedDate', 'FromModifiedDate', req.fromModifiedDate);
      writeDateTime(w, 'toModifiedDate', 'ToModifiedDate', req.toModifiedDate);
      w.close('ModifiedDateRangeFilter');
    }
    if (req.entityListId !== undefined) {
      w.open('EntityFilter');
      w.leaf('entityListId', 'ListID', req.entityListId, ID_MAX);
      w.close('EntityFilter');
    }
    if (req.type === 'InvoiceQuery' && req.paidStatus !== undefined) {
      if (!['All', 'PaidOnly', 'NotPaidOnly'].includes(req.paidStatus)) {
        w.fail('paidStatus', 'must be All, PaidOnly or NotPaidOnly');
      }
      w.leaf('paidStatus', 'PaidStatus', req.paidStatus);
    }
    if (req.includeLineItems !== undefined)
      w.leaf('includeLineItems', 'IncludeLineItems', String(req.includeLineItems));
    if (req.includeLinkedTxns !== undefined) {
      w.leaf('includeLinkedTxns', 'IncludeLinkedTxns', String(req.includeLinkedTxns));
    }
    writeRepeated(w, 'includeRetElements', 'IncludeRetElement', req.includeRetElements, 50);
    writeRepeated(w, 'ownerIds', 'OwnerID', req.ownerIds, 38);
  } else {
    const filtered =
      req.maxReturned !== undefined ||
      req.activeStatus !== undefined ||
      req.fromModifiedDate !== undefined ||
      req.toModifiedDate !== undefined ||
      req.nameFilter !== undefined;
    checkOneSelection(w, ['listIds', req.listIds], ['fullNames', req.fullNames], filtered);
    const fullNameMax = req.type === 'CustomerQuery' ? CUSTOMER_FULL_NAME_MAX : LIST_REF_FULL_NAME_MAX;
    writeRepeated(w, 'listIds', 'ListID', req.listIds, ID_MAX);
    writeRepeated(w, 'fullNames', 'FullName', req.fullNames, fullNameMax);
    writeMaxReturned(w, req.maxReturned);
    if (req.activeStatus !== undefined) {
      if (!['ActiveOnly', 'InactiveOnly', 'All'].includes(req.activeStatus)) {
        w.fail('activeStatus', 'must be ActiveOnly, InactiveOnly or All');
      }
      w.leaf('activeStatus', 'ActiveStatus', req.activeStatus);
    }
    writeDateTime(w, 'fromModifiedDate', 'FromModifiedDate', req.fromModifiedDate);
    writeDateTime(w, 'toModifiedDate', 'ToModifiedDate', req.toModifiedDate);
    if (req.nameFilter !== undefined) {
      if (!['StartsWith', 'Contains', 'EndsWith'].includes(req.nameFilter.matchCriterion)) {
        w.fail('nameFilter.matchCriterion', 'must be StartsWith, Contains or EndsWith');
      }
      w.open('NameFilter');
      w.leaf('nameFilter.matchCriterion', 'MatchCriterion', req.nameFilter.matchCriterion);
      w.leaf('nameFilter.name', 'Name', expectString(w, 'nameFilter.name', req.nameFilter.name), fullNameMax);
      w.close('NameFilter');
    }
    writeRepeated(w, 'includeRetElements', 'IncludeRetElement', req.includeRetElements, 50);
    // CustomerType and Class queries have no OwnerID in qbXML 13.
    if (req.type === 'CustomerQuery' || req.type === 'VendorQuery' || req.type === 'ItemQuery') {
      writeRepeated(w, 'ownerIds', 'OwnerID', req.ownerIds, 38);
    }
  }
  w.close(el);
}

/**
 * Renders one request (`<XxxRq …>…</XxxRq>`), validating every value against qbXML's limits; fields `version` has no
 * element for are left out (see {@link BuildOptions.onOmitted}).
 */
export function buildQbxmlRequest(req: QbxmlRequest, opts: Pick<BuildOptions, 'version' | 'onOmitted'> = {}): string {
  const w = new ElementWriter(
    typeof req.type === 'string' ? req.type : 'unknown',
    opts.version ?? DEFAULT_QBXML_VERSION,
    opts.onOmitted,
    typeof req.requestId === 'string' ? req.requestId : '',
  );
  if (isQueryRequest(req)) {
    writeQuery(w, req);
  } else if (Object.prototype.hasOwnProperty.call(WRITE_SHAPES, req.type)) {
    writeWrite(w, req);
  } else {
    w.fail('type', `unknown request type "${String(req.type)}"`);
  }
  return w.toString();
}

/** A complete qbXML request document carrying `requests` in order, one `*Rq` each. */
export function buildQbxmlMessage(requests: QbxmlRequest[], opts: BuildOptions = {}): string {
  if (requests.length === 0) throw new QbxmlFieldError('QBXMLMsgsRq', 'requests', 'at least one request is needed');
  const version = opts.version ?? DEFAULT_QBXML_VERSION;
  if (!/^\d{1,2}\.\d{1,2}$/.test(version)) {
    throw new QbxmlFieldError('QBXMLMsgsRq', 'version', `"${version}" is not a qbXML version like 13.0`);
  }
  const onError = opts.onError ?? 'continueOnError';
  if (!['continueOnError', 'stopOnError', 'rollbackOnError'].includes(onError)) {
    throw new QbxmlFieldError('QBXMLMsgsRq', 'onError', 'must be continueOnError, stopOnError or rollbackOnError');
  }
  const seen = new Set<string>();
  for (const req of requests) {
    if (seen.has(req.requestId)) {
      // Responses are routed by requestID; two requests sharing one would make the replies ambiguous.
      throw new QbxmlFieldError(req.type, 'requestId', `"${req.requestId}" is used twice in one message`);
    }
    seen.add(req.requestId);
  }
  const body = requests.map((req) => buildQbxmlRequest(req, { version, onOmitted: opts.onOmitted })).join('');
  return (
    `<?xml version="1.0" encoding="utf-8"?>\n<?qbxml version="${version}"?>\n` +
    `<QBXML><QBXMLMsgsRq onError="${onError}">${body}</QBXMLMsgsRq></QBXML>`
  );
}
