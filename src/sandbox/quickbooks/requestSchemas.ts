import { LIST_DEL_TYPES, TXN_DEL_TYPES } from './deletedLists';
import {
  amt,
  bool,
  choice,
  date,
  datetime,
  guid,
  int,
  many,
  manyChoice,
  oneOf,
  opt,
  optChoice,
  pct,
  price,
  qty,
  ref,
  req,
  seq,
  since,
  str,
  type ElementType,
  type Model,
} from './contentModel';

/*
 * Element sequences per request type, transcribed from the qbXML 13.0 schema as summarised in reference §13–§14.
 * Elements newer than qbXML 2.0 that the connector may send carry the version they appeared in (`since`, from the
 * on-screen reference's `vN.N` notes, sample qbxmlops130.xml): a request declaring an older version may not hold them.
 * Elements added after 13.0 are not modelled (the connector writes none), so a 14.0–16.0 request is checked against
 * the 13.0 set — an assumption listed in docs/quickbooks.md.
 * Add and Mod differ (Mod starts with ListID/TxnID + EditSequence, makes Name optional, swaps Contacts for ContactsMod,
 * drops OpenBalance/ExternalGUID, ...), so each is built from the same field list with the mode deciding.
 */
type Mode = 'add' | 'mod';

const address = seq(
  opt('Addr1', str(41)),
  opt('Addr2', str(41)),
  opt('Addr3', str(41)),
  opt('Addr4', str(41)),
  opt('Addr5', str(41)),
  opt('City', str(31)),
  opt('State', str(21)),
  opt('PostalCode', str(13)),
  opt('Country', str(31)),
  opt('Note', str(41)),
);
const shipToAddress = seq(
  req('Name', str(41)),
  opt('Addr1', str(41)),
  opt('Addr2', str(41)),
  opt('Addr3', str(41)),
  opt('Addr4', str(41)),
  opt('Addr5', str(41)),
  opt('City', str(31)),
  opt('State', str(21)),
  opt('PostalCode', str(13)),
  opt('Country', str(31)),
  opt('Note', str(41)),
  opt('DefaultShipTo', bool),
);
const additionalContactRef = seq(req('ContactName', str(40)), req('ContactValue', str(255)));
const contactBody = (mode: Mode): Model => [
  ...(mode === 'mod' ? [req('ListID', str(36)), req('EditSequence', str(16))] : []),
  opt('Salutation', str(15)),
  mode === 'add' ? req('FirstName', str(25)) : opt('FirstName', str(25)),
  opt('MiddleName', str(5)),
  opt('LastName', str(25)),
  opt('JobTitle', str(41)),
  many('AdditionalContactRef', additionalContactRef, 8),
];
const creditCardInfo = seq(
  opt('CreditCardNumber', str(25)),
  opt('ExpirationMonth', int),
  opt('ExpirationYear', int),
  opt('NameOnCard', str(41)),
  opt('CreditCardAddress', str(41)),
  opt('CreditCardPostalCode', str(41)),
);
const personName: Model = [
  opt('Salutation', str(15)),
  opt('FirstName', str(25)),
  opt('MiddleName', str(5)),
  opt('LastName', str(25)),
  opt('Suffix', str(10)),
  since(12, opt('JobTitle', str(41))),
];
const communication: Model = [
  opt('Phone', str(21)),
  opt('Mobile', str(21)),
  opt('Pager', str(21)),
  opt('AltPhone', str(21)),
  opt('Fax', str(21)),
  opt('Email', str(1023)),
  since(12, opt('Cc', str(1023))),
  opt('Contact', str(41)),
  opt('AltContact', str(41)),
];
const contacts = (mode: Mode) =>
  since(
    12,
    mode === 'add' ? many('Contacts', seq(...contactBody('add'))) : many('ContactsMod', seq(...contactBody('mod'))),
  );
const additionalNotes = (mode: Mode) =>
  since(
    12,
    mode === 'add'
      ? many('AdditionalNotes', seq(req('Note', str(4095))))
      : many('AdditionalNotesMod', seq(req('NoteID', int), req('Note', str(4095)))),
  );
const modHeader = (mode: Mode, id = 'ListID'): Model =>
  mode === 'mod' ? [req(id, str(36)), req('EditSequence', str(16))] : [];
const name = (mode: Mode, max: number) => (mode === 'add' ? req('Name', str(max)) : opt('Name', str(max)));
const addOnly = (mode: Mode, ...model: Model): Model => (mode === 'add' ? model : []);
const modOnly = (mode: Mode, ...model: Model): Model => (mode === 'mod' ? model : []);

const customerBody = (mode: Mode): Model => [
  ...modHeader(mode),
  name(mode, 41),
  opt('IsActive', bool),
  since(12, opt('ClassRef', ref('Class'))),
  opt('ParentRef', ref('Customer', 209)),
  opt('CompanyName', str(41)),
  ...personName,
  opt('BillAddress', address),
  opt('ShipAddress', address),
  since(12, many('ShipToAddress', shipToAddress, 50)),
  opt('PrintAs', str(41)),
  ...communication,
  since(12, many('AdditionalContactRef', additionalContactRef, 8)),
  contacts(mode),
  opt('CustomerTypeRef', ref('CustomerType')),
  opt('TermsRef', ref('Terms')),
  opt('SalesRepRef', ref('Other')),
  ...addOnly(mode, opt('OpenBalance', amt), opt('OpenBalanceDate', date)),
  opt('SalesTaxCodeRef', ref('Other')),
  opt('ItemSalesTaxRef', ref('Other')),
  opt('SalesTaxCountry', oneOf('Australia', 'Canada', 'UK', 'US')),
  opt('ResaleNumber', str(15)),
  opt('AccountNumber', str(99)),
  opt('CreditLimit', amt),
  opt('PreferredPaymentMethodRef', ref('Other')),
  opt('CreditCardInfo', creditCardInfo),
  opt('JobStatus', oneOf('Awarded', 'Closed', 'InProgress', 'None', 'NotAwarded', 'Pending')),
  opt('JobStartDate', date),
  opt('JobProjectedEndDate', date),
  opt('JobEndDate', date),
  opt('JobDesc', str(99)),
  opt('JobTypeRef', ref('Other')),
  opt('Notes', str(4095)),
  additionalNotes(mode),
  opt('IsStatementWithParent', bool),
  opt('DeliveryMethod', oneOf('Print', 'Email', 'Fax')),
  since(12, opt('PreferredDeliveryMethod', oneOf('None', 'Email', 'Fax'))),
  opt('PriceLevelRef', ref('Other')),
  ...addOnly(mode, since(8, opt('ExternalGUID', guid))),
  opt('TaxRegistrationNumber', str(30)),
  since(8, opt('CurrencyRef', ref('Other'))),
];

const vendorBody = (mode: Mode): Model => [
  ...modHeader(mode),
  name(mode, 41),
  opt('IsActive', bool),
  since(12, opt('ClassRef', ref('Class'))),
  opt('CompanyName', str(41)),
  ...personName,
  opt('VendorAddress', address),
  since(11, opt('ShipAddress', address)),
  ...communication,
  since(12, many('AdditionalContactRef', additionalContactRef, 8)),
  contacts(mode),
  opt('NameOnCheck', str(41)),
  opt('AccountNumber', str(99)),
  opt('Notes', str(4095)),
  additionalNotes(mode),
  opt('VendorTypeRef', ref('VendorType')),
  opt('TermsRef', ref('Terms')),
  opt('CreditLimit', amt),
  opt('VendorTaxIdent', str(15)),
  opt('IsVendorEligibleFor1099', bool),
  ...addOnly(mode, opt('OpenBalance', amt), opt('OpenBalanceDate', date)),
  opt('BillingRateRef', ref('Other')),
  ...addOnly(mode, since(8, opt('ExternalGUID', guid))),
  opt('SalesTaxCodeRef', ref('Other')),
  opt('SalesTaxCountry', oneOf('Australia', 'Canada', 'UK', 'US')),
  opt('IsSalesTaxAgency', bool),
  opt('SalesTaxReturnRef', ref('Other')),
  opt('TaxRegistrationNumber', str(30)),
  opt('ReportingPeriod', oneOf('Monthly', 'Quarterly')),
  opt('IsTaxTrackedOnPurchases', bool),
  opt('TaxOnPurchasesAccountRef', ref('Account')),
  opt('IsTaxTrackedOnSales', bool),
  opt('TaxOnSalesAccountRef', ref('Account')),
  opt('IsTaxOnTax', bool),
  many('PrefillAccountRef', ref('Account'), 3),
  since(8, opt('CurrencyRef', ref('Other'))),
];

const simpleListBody = (mode: Mode): Model => [
  ...modHeader(mode),
  name(mode, 31),
  opt('IsActive', bool),
  opt('ParentRef', ref('Class')),
];

const barCode = seq(opt('BarCodeValue', str(50)), opt('AssignEvenIfUsed', bool), opt('AllowOverride', bool));
const priceChoice = optChoice([req('Price', price)], [req('PricePercent', pct)]);
const salesOrPurchase = (mode: Mode) =>
  seq(
    opt('Desc', str(4095)),
    priceChoice,
    opt('AccountRef', ref('Account')),
    ...modOnly(mode, opt('ApplyAccountRefToExistingTxns', bool)),
  );
const salesAndPurchase = (mode: Mode) =>
  seq(
    opt('SalesDesc', str(4095)),
    opt('SalesPrice', price),
    opt('IncomeAccountRef', ref('Account')),
    ...modOnly(mode, opt('ApplyIncomeAccountRefToExistingTxns', bool)),
    opt('PurchaseDesc', str(4095)),
    opt('PurchaseCost', price),
    opt('PurchaseTaxCodeRef', ref('Other')),
    opt('ExpenseAccountRef', ref('Account')),
    ...modOnly(mode, opt('ApplyExpenseAccountRefToExistingTxns', bool)),
    opt('PrefVendorRef', ref('Vendor')),
  );
const salesChoice = (mode: Mode) =>
  mode === 'add'
    ? choice([req('SalesOrPurchase', salesOrPurchase(mode))], [req('SalesAndPurchase', salesAndPurchase(mode))])
    : optChoice(
        [req('SalesOrPurchaseMod', salesOrPurchase(mode))],
        [req('SalesAndPurchaseMod', salesAndPurchase(mode))],
      );
const itemHead = (mode: Mode, parentFirst = false): Model => [
  ...modHeader(mode),
  name(mode, 31),
  since(12, opt('BarCode', barCode)),
  opt('IsActive', bool),
  ...(parentFirst
    ? [opt('ParentRef', ref('Item')), since(12, opt('ClassRef', ref('Class')))]
    : [since(12, opt('ClassRef', ref('Class'))), opt('ParentRef', ref('Item'))]),
];
const uom = (mode: Mode): Model => [
  since(7, opt('UnitOfMeasureSetRef', ref('Other'))),
  ...modOnly(mode, since(7, opt('ForceUOMChange', bool))),
];

const itemServiceBody = (mode: Mode): Model => [
  ...itemHead(mode),
  ...uom(mode),
  opt('IsTaxIncluded', bool),
  opt('SalesTaxCodeRef', ref('Other')),
  salesChoice(mode),
  ...addOnly(mode, since(8, opt('ExternalGUID', guid))),
];
const itemNonInventoryBody = (mode: Mode): Model => [
  ...itemHead(mode, mode === 'add'),
  since(12, opt('ManufacturerPartNumber', str(31))),
  ...uom(mode),
  opt('IsTaxIncluded', bool),
  opt('SalesTaxCodeRef', ref('Other')),
  salesChoice(mode),
  ...addOnly(mode, since(8, opt('ExternalGUID', guid))),
];
const itemInventoryBody = (mode: Mode): Model => [
  ...itemHead(mode),
  since(12, opt('ManufacturerPartNumber', str(31))),
  ...uom(mode),
  opt('IsTaxIncluded', bool),
  opt('SalesTaxCodeRef', ref('Other')),
  opt('SalesDesc', str(4095)),
  opt('SalesPrice', price),
  opt('IncomeAccountRef', ref('Account')),
  ...modOnly(mode, opt('ApplyIncomeAccountRefToExistingTxns', bool)),
  opt('PurchaseDesc', str(4095)),
  opt('PurchaseCost', price),
  opt('PurchaseTaxCodeRef', ref('Other')),
  opt('COGSAccountRef', ref('Account')),
  ...modOnly(mode, opt('ApplyCOGSAccountRefToExistingTxns', bool)),
  opt('PrefVendorRef', ref('Vendor')),
  opt('AssetAccountRef', ref('Account')),
  opt('ReorderPoint', qty),
  since(13, opt('Max', qty)),
  ...addOnly(
    mode,
    opt('QuantityOnHand', qty),
    opt('TotalValue', amt),
    opt('InventoryDate', date),
    since(8, opt('ExternalGUID', guid)),
  ),
];
const itemOtherChargeBody = (mode: Mode): Model => [
  ...itemHead(mode),
  opt('IsTaxIncluded', bool),
  opt('SalesTaxCodeRef', ref('Other')),
  salesChoice(mode),
  ...addOnly(mode, since(8, opt('ExternalGUID', guid))),
];
const itemDiscountBody = (mode: Mode): Model => [
  ...itemHead(mode),
  opt('ItemDesc', str(4095)),
  opt('SalesTaxCodeRef', ref('Other')),
  (mode === 'add' ? choice : optChoice)([req('DiscountRate', price)], [req('DiscountRatePercent', pct)]),
  opt('AccountRef', ref('Account')),
  ...modOnly(mode, opt('ApplyAccountRefToExistingTxns', bool)),
  ...addOnly(mode, since(8, opt('ExternalGUID', guid))),
];

const dataExt = seq(req('OwnerID', str(40)), req('DataExtName', str(31)), req('DataExtValue', str()));
const rateChoice = optChoice([req('Rate', price)], [req('RatePercent', pct)], [req('PriceLevelRef', ref('Other'))]);
const serialOrLot = optChoice([req('SerialNumber', str(4095))], [req('LotNumber', str(40))]);
const invoiceLineAdd = seq(
  opt('ItemRef', ref('Item')),
  opt('Desc', str(4095)),
  opt('Quantity', qty),
  opt('UnitOfMeasure', str(31)),
  rateChoice,
  opt('ClassRef', ref('Class')),
  opt('Amount', amt),
  opt('TaxAmount', amt),
  opt('OptionForPriceRuleConflict', oneOf('Zero', 'BasePrice')),
  opt('InventorySiteRef', ref('Other')),
  opt('InventorySiteLocationRef', ref('Other')),
  serialOrLot,
  opt('ServiceDate', date),
  opt('SalesTaxCodeRef', ref('Other')),
  opt('IsTaxable', bool),
  opt('OverrideItemAccountRef', ref('Account')),
  opt('Other1', str(29)),
  opt('Other2', str(29)),
  opt('LinkToTxn', seq(req('TxnID', str(36)), req('TxnLineID', str(36)))),
  many('DataExt', dataExt),
);
const invoiceLineMod = seq(
  req('TxnLineID', str(36)),
  opt('ItemRef', ref('Item')),
  opt('Desc', str(4095)),
  opt('Quantity', qty),
  opt('UnitOfMeasure', str(31)),
  opt('OverrideUOMSetRef', ref('Other')),
  rateChoice,
  opt('ClassRef', ref('Class')),
  opt('Amount', amt),
  opt('TaxAmount', amt),
  opt('OptionForPriceRuleConflict', oneOf('Zero', 'BasePrice')),
  opt('InventorySiteRef', ref('Other')),
  opt('InventorySiteLocationRef', ref('Other')),
  serialOrLot,
  opt('ServiceDate', date),
  opt('SalesTaxCodeRef', ref('Other')),
  opt('OverrideItemAccountRef', ref('Account')),
  opt('Other1', str(29)),
  opt('Other2', str(29)),
);
const lineGroupAdd = seq(
  req('ItemGroupRef', ref('Item')),
  opt('Desc', str(4095)),
  opt('Quantity', qty),
  opt('UnitOfMeasure', str(31)),
  opt('ServiceDate', date),
  opt('InventorySiteRef', ref('Other')),
  opt('InventorySiteLocationRef', ref('Other')),
  many('DataExt', dataExt),
);
const invoiceLineGroupMod = seq(
  req('TxnLineID', str(36)),
  opt('ItemGroupRef', ref('Item')),
  opt('Quantity', qty),
  opt('UnitOfMeasure', str(31)),
  opt('OverrideUOMSetRef', ref('Other')),
  many('InvoiceLineMod', invoiceLineMod),
);
const setCredit = seq(
  req('CreditTxnID', str(36)),
  opt('TxnLineID', str(36)),
  req('AppliedAmount', amt),
  opt('Override', bool),
);

const invoiceBody = (mode: Mode): Model => [
  ...modHeader(mode, 'TxnID'),
  (mode === 'add' ? req : opt)('CustomerRef', ref('Customer', 209)),
  opt('ClassRef', ref('Class')),
  opt('ARAccountRef', ref('Account')),
  opt('TemplateRef', ref('Other')),
  opt('TxnDate', date),
  opt('RefNumber', str(11)),
  opt('BillAddress', address),
  opt('ShipAddress', address),
  opt('IsPending', bool),
  ...addOnly(mode, opt('IsFinanceCharge', bool)),
  opt('PONumber', str(25)),
  opt('TermsRef', ref('Terms')),
  opt('DueDate', date),
  opt('SalesRepRef', ref('Other')),
  opt('FOB', str(13)),
  opt('ShipDate', date),
  opt('ShipMethodRef', ref('Other')),
  opt('ItemSalesTaxRef', ref('Other')),
  opt('Memo', str(4095)),
  opt('CustomerMsgRef', ref('Other')),
  opt('IsToBePrinted', bool),
  opt('IsToBeEmailed', bool),
  opt('IsTaxIncluded', bool),
  opt('CustomerSalesTaxCodeRef', ref('Other')),
  opt('Other', str(29)),
  opt('ExchangeRate', qty),
  ...addOnly(mode, since(8, opt('ExternalGUID', guid)), many('LinkToTxnID', str(36))),
  many('SetCredit', setCredit),
  mode === 'add'
    ? manyChoice(0, [req('InvoiceLineAdd', invoiceLineAdd)], [req('InvoiceLineGroupAdd', lineGroupAdd)])
    : manyChoice(0, [req('InvoiceLineMod', invoiceLineMod)], [req('InvoiceLineGroupMod', invoiceLineGroupMod)]),
];

const salesOrderLineAdd = seq(
  opt('ItemRef', ref('Item')),
  opt('Desc', str(4095)),
  opt('Quantity', qty),
  opt('UnitOfMeasure', str(31)),
  rateChoice,
  opt('ClassRef', ref('Class')),
  opt('Amount', amt),
  opt('TaxAmount', amt),
  opt('OptionForPriceRuleConflict', oneOf('Zero', 'BasePrice')),
  opt('InventorySiteRef', ref('Other')),
  opt('InventorySiteLocationRef', ref('Other')),
  serialOrLot,
  opt('SalesTaxCodeRef', ref('Other')),
  opt('IsManuallyClosed', bool),
  opt('Other1', str(29)),
  opt('Other2', str(29)),
  many('DataExt', dataExt),
);
const salesOrderLineMod = seq(
  req('TxnLineID', str(36)),
  opt('ItemRef', ref('Item')),
  opt('Desc', str(4095)),
  opt('Quantity', qty),
  opt('UnitOfMeasure', str(31)),
  opt('OverrideUOMSetRef', ref('Other')),
  rateChoice,
  opt('ClassRef', ref('Class')),
  opt('Amount', amt),
  opt('TaxAmount', amt),
  opt('OptionForPriceRuleConflict', oneOf('Zero', 'BasePrice')),
  opt('InventorySiteRef', ref('Other')),
  opt('InventorySiteLocationRef', ref('Other')),
  serialOrLot,
  opt('SalesTaxCodeRef', ref('Other')),
  opt('IsManuallyClosed', bool),
  opt('Other1', str(29)),
  opt('Other2', str(29)),
);
const salesOrderLineGroupMod = seq(
  req('TxnLineID', str(36)),
  opt('ItemGroupRef', ref('Item')),
  opt('Quantity', qty),
  opt('UnitOfMeasure', str(31)),
  opt('OverrideUOMSetRef', ref('Other')),
  many('SalesOrderLineMod', salesOrderLineMod),
);
/** SalesOrderAdd / SalesOrderMod (reference §14): the Mod has the Add's header without ExternalGUID, lines optional. */
const salesOrderBody = (mode: Mode): Model => [
  ...modHeader(mode, 'TxnID'),
  (mode === 'add' ? req : opt)('CustomerRef', ref('Customer', 209)),
  opt('ClassRef', ref('Class')),
  opt('TemplateRef', ref('Other')),
  opt('TxnDate', date),
  opt('RefNumber', str(11)),
  opt('BillAddress', address),
  opt('ShipAddress', address),
  opt('PONumber', str(25)),
  opt('TermsRef', ref('Terms')),
  opt('DueDate', date),
  opt('SalesRepRef', ref('Other')),
  opt('FOB', str(13)),
  opt('ShipDate', date),
  opt('ShipMethodRef', ref('Other')),
  opt('ItemSalesTaxRef', ref('Other')),
  opt('IsManuallyClosed', bool),
  opt('Memo', str(4095)),
  opt('CustomerMsgRef', ref('Other')),
  opt('IsToBePrinted', bool),
  opt('IsToBeEmailed', bool),
  opt('IsTaxIncluded', bool),
  opt('CustomerSalesTaxCodeRef', ref('Other')),
  opt('Other', str(29)),
  opt('ExchangeRate', qty),
  ...addOnly(mode, since(8, opt('ExternalGUID', guid))),
  mode === 'add'
    ? manyChoice(1, [req('SalesOrderLineAdd', salesOrderLineAdd)], [req('SalesOrderLineGroupAdd', lineGroupAdd)])
    : manyChoice(
        0,
        [req('SalesOrderLineMod', salesOrderLineMod)],
        [req('SalesOrderLineGroupMod', salesOrderLineGroupMod)],
      ),
];

/**
 * qbXML 13 estimate lines: the invoice line's elements less ServiceDate, IsTaxable, OverrideItemAccountRef and
 * LinkToTxn, with an optional markup after SalesTaxCodeRef. Assumption: the XSD was not at hand; the order follows the
 * invoice line's and public EstimateLineAdd samples (ItemRef, Desc, Quantity, Rate, ClassRef, Amount, SalesTaxCodeRef).
 */
const markupChoice = optChoice([req('MarkupRate', price)], [req('MarkupRatePercent', pct)]);
const estimateLineAdd = seq(
  opt('ItemRef', ref('Item')),
  opt('Desc', str(4095)),
  opt('Quantity', qty),
  opt('UnitOfMeasure', str(31)),
  rateChoice,
  opt('ClassRef', ref('Class')),
  opt('Amount', amt),
  opt('OptionForPriceRuleConflict', oneOf('Zero', 'BasePrice')),
  opt('InventorySiteRef', ref('Other')),
  opt('InventorySiteLocationRef', ref('Other')),
  opt('SalesTaxCodeRef', ref('Other')),
  markupChoice,
  opt('Other1', str(29)),
  opt('Other2', str(29)),
  many('DataExt', dataExt),
);
const estimateLineMod = seq(
  req('TxnLineID', str(36)),
  opt('ItemRef', ref('Item')),
  opt('Desc', str(4095)),
  opt('Quantity', qty),
  opt('UnitOfMeasure', str(31)),
  opt('OverrideUOMSetRef', ref('Other')),
  rateChoice,
  opt('ClassRef', ref('Class')),
  opt('Amount', amt),
  opt('OptionForPriceRuleConflict', oneOf('Zero', 'BasePrice')),
  opt('InventorySiteRef', ref('Other')),
  opt('InventorySiteLocationRef', ref('Other')),
  opt('SalesTaxCodeRef', ref('Other')),
  markupChoice,
  opt('Other1', str(29)),
  opt('Other2', str(29)),
);
const estimateLineGroupMod = seq(
  req('TxnLineID', str(36)),
  opt('ItemGroupRef', ref('Item')),
  opt('Quantity', qty),
  opt('UnitOfMeasure', str(31)),
  opt('OverrideUOMSetRef', ref('Other')),
  many('EstimateLineMod', estimateLineMod),
);

/** qbXML 13 EstimateAdd / EstimateMod: see `src/qbxml/build.ts` for the order and what of it is an assumption. */
const estimateBody = (mode: Mode): Model => [
  ...modHeader(mode, 'TxnID'),
  (mode === 'add' ? req : opt)('CustomerRef', ref('Customer', 209)),
  opt('ClassRef', ref('Class')),
  opt('TemplateRef', ref('Other')),
  opt('TxnDate', date),
  opt('RefNumber', str(11)),
  opt('BillAddress', address),
  opt('ShipAddress', address),
  opt('IsActive', bool),
  opt('PONumber', str(25)),
  opt('TermsRef', ref('Terms')),
  opt('DueDate', date),
  opt('SalesRepRef', ref('Other')),
  opt('FOB', str(13)),
  opt('ItemSalesTaxRef', ref('Other')),
  opt('Memo', str(4095)),
  opt('CustomerMsgRef', ref('Other')),
  opt('IsToBeEmailed', bool),
  opt('IsTaxIncluded', bool),
  opt('CustomerSalesTaxCodeRef', ref('Other')),
  opt('Other', str(29)),
  opt('ExchangeRate', qty),
  ...addOnly(mode, opt('ExternalGUID', guid)),
  mode === 'add'
    ? manyChoice(0, [req('EstimateLineAdd', estimateLineAdd)], [req('EstimateLineGroupAdd', lineGroupAdd)])
    : manyChoice(0, [req('EstimateLineMod', estimateLineMod)], [req('EstimateLineGroupMod', estimateLineGroupMod)]),
];

const dataExtTypes = oneOf(
  'AMTTYPE',
  'DATETIMETYPE',
  'INTTYPE',
  'PERCENTTYPE',
  'PRICETYPE',
  'QUANTYPE',
  'STR1024TYPE',
  'STR255TYPE',
);
const assignableObjects = oneOf(
  'Account',
  'Customer',
  'Employee',
  'Item',
  'OtherName',
  'Vendor',
  'Invoice',
  'SalesOrder',
  'Estimate',
  'CreditMemo',
  'SalesReceipt',
  'PurchaseOrder',
  'Bill',
  'Check',
  'Company',
);
const dataExtDefAdd: Model = [
  req('OwnerID', str(40)),
  req('DataExtName', str(31)),
  req('DataExtType', dataExtTypes),
  many('AssignToObject', assignableObjects),
  opt('DataExtListRequire', bool),
  opt('DataExtTxnRequire', bool),
  opt('DataExtFormatString', str(30)),
];
const dataExtValueBody: Model = [
  req('OwnerID', str(40)),
  req('DataExtName', str(31)),
  choice(
    [
      req('ListDataExtType', oneOf('Account', 'Customer', 'Employee', 'Item', 'OtherName', 'Vendor')),
      req('ListObjRef', ref('Other', 209)),
    ],
    [
      req(
        'TxnDataExtType',
        oneOf('Invoice', 'SalesOrder', 'Estimate', 'CreditMemo', 'SalesReceipt', 'PurchaseOrder', 'Bill', 'Check'),
      ),
      req('TxnID', str(36)),
      opt('TxnLineID', str(36)),
    ],
    [req('OtherDataExtType', oneOf('Company'))],
  ),
  req('DataExtValue', str()),
];

const activeStatus = oneOf('ActiveOnly', 'InactiveOnly', 'All');
const matchCriterion = oneOf('StartsWith', 'Contains', 'EndsWith');
const nameFilters = optChoice(
  [req('NameFilter', seq(req('MatchCriterion', matchCriterion), req('Name', str())))],
  [req('NameRangeFilter', seq(opt('FromName', str()), opt('ToName', str())))],
);
const idListFilter = seq(
  choice(
    [many('ListID', str(36), Infinity, 1)],
    [many('FullName', str(209), Infinity, 1)],
    [req('ListIDWithChildren', str(36))],
    [req('FullNameWithChildren', str(209))],
  ),
);
const listQueryFilters = (extra: Model): Model => [
  optChoice(
    [many('ListID', str(36), Infinity, 1)],
    [many('FullName', str(209), Infinity, 1)],
    [
      opt('MaxReturned', int),
      opt('ActiveStatus', activeStatus),
      opt('FromModifiedDate', datetime),
      opt('ToModifiedDate', datetime),
      nameFilters,
      ...extra,
    ],
  ),
  many('IncludeRetElement', str(50)),
];
const withOwner = (model: Model): Model => [...model, many('OwnerID', str(40))];
const currencyFilter = opt(
  'CurrencyFilter',
  seq(choice([many('ListID', str(36), Infinity, 1)], [many('FullName', str(64), Infinity, 1)])),
);
const customerQuery = withOwner(
  listQueryFilters([
    opt(
      'TotalBalanceFilter',
      seq(
        req('Operator', oneOf('LessThan', 'LessThanEqual', 'Equal', 'GreaterThan', 'GreaterThanEqual')),
        req('Amount', amt),
      ),
    ),
    currencyFilter,
    opt('ClassFilter', idListFilter),
  ]),
);
const txnQuery = (kind: 'Invoice' | 'SalesOrder' | 'Estimate'): Model => [
  optChoice(
    [many('TxnID', str(36), Infinity, 1)],
    [many('RefNumber', str(11), Infinity, 1)],
    [many('RefNumberCaseSensitive', str(11), Infinity, 1)],
    [
      opt('MaxReturned', int),
      optChoice(
        [req('ModifiedDateRangeFilter', seq(opt('FromModifiedDate', datetime), opt('ToModifiedDate', datetime)))],
        [
          req(
            'TxnDateRangeFilter',
            seq(
              choice(
                [opt('FromTxnDate', date), opt('ToTxnDate', date)],
                [
                  req(
                    'DateMacro',
                    oneOf(
                      'All',
                      'Today',
                      'ThisWeek',
                      'ThisMonth',
                      'ThisYear',
                      'Yesterday',
                      'LastWeek',
                      'LastMonth',
                      'LastYear',
                    ),
                  ),
                ],
              ),
            ),
          ),
        ],
      ),
      opt('EntityFilter', idListFilter),
      ...(kind === 'Invoice' ? [opt('AccountFilter', idListFilter)] : []),
      optChoice(
        [req('RefNumberFilter', seq(req('MatchCriterion', matchCriterion), req('RefNumber', str(11))))],
        [req('RefNumberRangeFilter', seq(opt('FromRefNumber', str(11)), opt('ToRefNumber', str(11))))],
      ),
      currencyFilter,
      ...(kind === 'Invoice' ? [opt('PaidStatus', oneOf('All', 'PaidOnly', 'NotPaidOnly'))] : []),
    ],
  ),
  opt('IncludeLineItems', bool),
  opt('IncludeLinkedTxns', bool),
  many('IncludeRetElement', str(50)),
  many('OwnerID', str(40)),
];

export interface RequestSchema {
  model: Model;
  attributes: readonly string[];
}

const addRq = (element: string, body: Model, extraAttrs: string[] = []): RequestSchema => ({
  model: [req(element, seq(...body)), many('IncludeRetElement', str(50))],
  attributes: ['requestID', ...extraAttrs],
});
const iteratorQuery = (model: Model): RequestSchema => ({
  model,
  attributes: ['requestID', 'metaData', 'iterator', 'iteratorID'],
});
const plainQuery = (model: Model): RequestSchema => ({ model, attributes: ['requestID', 'metaData'] });

export const requestSchemas: Readonly<Record<string, RequestSchema>> = {
  // qbXML 13.0: HostQueryRq holds only IncludeRetElement; it reads nothing from the company file.
  HostQueryRq: { model: [many('IncludeRetElement', str(50))], attributes: ['requestID'] },
  CustomerQueryRq: iteratorQuery(customerQuery),
  CustomerAddRq: addRq('CustomerAdd', customerBody('add')),
  CustomerModRq: addRq('CustomerMod', customerBody('mod')),
  VendorQueryRq: iteratorQuery(customerQuery),
  VendorAddRq: addRq('VendorAdd', vendorBody('add')),
  VendorModRq: addRq('VendorMod', vendorBody('mod')),
  CustomerTypeQueryRq: plainQuery(listQueryFilters([])),
  CustomerTypeAddRq: addRq('CustomerTypeAdd', simpleListBody('add')),
  VendorTypeQueryRq: plainQuery(listQueryFilters([])),
  VendorTypeAddRq: addRq('VendorTypeAdd', simpleListBody('add')),
  ClassQueryRq: plainQuery(listQueryFilters([])),
  ClassAddRq: addRq('ClassAdd', simpleListBody('add')),
  ClassModRq: addRq('ClassMod', simpleListBody('mod')),
  TermsQueryRq: plainQuery(listQueryFilters([])),
  StandardTermsQueryRq: plainQuery(listQueryFilters([])),
  AccountQueryRq: plainQuery(
    listQueryFilters([
      opt(
        'AccountType',
        oneOf(
          'AccountsPayable',
          'AccountsReceivable',
          'Bank',
          'CostOfGoodsSold',
          'CreditCard',
          'Equity',
          'Expense',
          'FixedAsset',
          'Income',
          'LongTermLiability',
          'NonPosting',
          'OtherAsset',
          'OtherCurrentAsset',
          'OtherCurrentLiability',
          'OtherExpense',
          'OtherIncome',
        ),
      ),
      currencyFilter,
    ]),
  ),
  ItemQueryRq: iteratorQuery(withOwner(listQueryFilters([]))),
  ItemServiceQueryRq: iteratorQuery(withOwner(listQueryFilters([opt('ClassFilter', idListFilter)]))),
  ItemNonInventoryQueryRq: iteratorQuery(withOwner(listQueryFilters([opt('ClassFilter', idListFilter)]))),
  ItemInventoryQueryRq: iteratorQuery(withOwner(listQueryFilters([opt('ClassFilter', idListFilter)]))),
  ItemOtherChargeQueryRq: iteratorQuery(withOwner(listQueryFilters([opt('ClassFilter', idListFilter)]))),
  ItemDiscountQueryRq: iteratorQuery(withOwner(listQueryFilters([opt('ClassFilter', idListFilter)]))),
  ItemServiceAddRq: addRq('ItemServiceAdd', itemServiceBody('add')),
  ItemServiceModRq: addRq('ItemServiceMod', itemServiceBody('mod')),
  ItemNonInventoryAddRq: addRq('ItemNonInventoryAdd', itemNonInventoryBody('add')),
  ItemNonInventoryModRq: addRq('ItemNonInventoryMod', itemNonInventoryBody('mod')),
  ItemInventoryAddRq: addRq('ItemInventoryAdd', itemInventoryBody('add')),
  ItemInventoryModRq: addRq('ItemInventoryMod', itemInventoryBody('mod')),
  ItemOtherChargeAddRq: addRq('ItemOtherChargeAdd', itemOtherChargeBody('add')),
  ItemOtherChargeModRq: addRq('ItemOtherChargeMod', itemOtherChargeBody('mod')),
  ItemDiscountAddRq: addRq('ItemDiscountAdd', itemDiscountBody('add')),
  ItemDiscountModRq: addRq('ItemDiscountMod', itemDiscountBody('mod')),
  InvoiceQueryRq: iteratorQuery(txnQuery('Invoice')),
  InvoiceAddRq: addRq('InvoiceAdd', invoiceBody('add')),
  InvoiceModRq: addRq('InvoiceMod', invoiceBody('mod')),
  SalesOrderQueryRq: iteratorQuery(txnQuery('SalesOrder')),
  SalesOrderAddRq: addRq('SalesOrderAdd', salesOrderBody('add')),
  SalesOrderModRq: addRq('SalesOrderMod', salesOrderBody('mod')),
  EstimateQueryRq: iteratorQuery(txnQuery('Estimate')),
  EstimateAddRq: addRq('EstimateAdd', estimateBody('add')),
  EstimateModRq: addRq('EstimateMod', estimateBody('mod')),
  DataExtDefAddRq: { model: [req('DataExtDefAdd', seq(...dataExtDefAdd))], attributes: ['requestID'] },
  DataExtAddRq: { model: [req('DataExtAdd', seq(...dataExtValueBody))], attributes: ['requestID'] },
  DataExtModRq: { model: [req('DataExtMod', seq(...dataExtValueBody))], attributes: ['requestID'] },
  ListDelRq: { model: [req('ListDelType', oneOf(...LIST_DEL_TYPES)), req('ListID', str())], attributes: ['requestID'] },
  ListDeletedQueryRq: plainQuery([
    many('ListDelType', oneOf(...LIST_DEL_TYPES), Infinity, 1),
    opt('DeletedDateRangeFilter', seq(opt('FromDeletedDate', datetime), opt('ToDeletedDate', datetime))),
    many('IncludeRetElement', str(50)),
  ]),
  TxnDelRq: { model: [req('TxnDelType', oneOf(...TXN_DEL_TYPES)), req('TxnID', str())], attributes: ['requestID'] },
  TxnDeletedQueryRq: plainQuery([
    many('TxnDelType', oneOf(...TXN_DEL_TYPES), Infinity, 1),
    opt('DeletedDateRangeFilter', seq(opt('FromDeletedDate', datetime), opt('ToDeletedDate', datetime))),
    many('IncludeRetElement', str(50)),
  ]),
};

export function bodyModel(schema: RequestSchema, element: string): Model {
  for (const particle of schema.model) {
    if ('el' in particle && particle.el === element && particle.type.kind === 'seq') return particle.type.model;
  }
  return [];
}

export type { ElementType };
