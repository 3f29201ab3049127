import type { ListKind } from './companyState';

/* Ret field order per kind (reference §15, qbXML 13.0 XSD); fields not listed here are never emitted. */
const person = ['Salutation', 'FirstName', 'MiddleName', 'LastName', 'Suffix', 'JobTitle'];
const communication = ['Phone', 'Mobile', 'Pager', 'AltPhone', 'Fax', 'Email', 'Cc', 'Contact', 'AltContact'];
/** Every Ret opens with its id (`ListID` or `TxnID`), its creation and modification times and its EditSequence. */
const stamp = (id: 'ListID' | 'TxnID') => [id, 'TimeCreated', 'TimeModified', 'EditSequence'];
const head = [...stamp('ListID'), 'Name', 'FullName'];
const itemHead = [...head, 'BarCodeValue', 'IsActive', 'ClassRef', 'ParentRef', 'Sublevel'];

const customerRetOrder = [
  ...head,
  'IsActive', 'ClassRef', 'ParentRef', 'Sublevel', 'CompanyName', ...person,
  'BillAddress', 'BillAddressBlock', 'ShipAddress', 'ShipAddressBlock', 'ShipToAddress', 'PrintAs', ...communication,
  'AdditionalContactRef', 'ContactsRet', 'CustomerTypeRef', 'TermsRef', 'SalesRepRef', 'Balance', 'TotalBalance',
  'SalesTaxCodeRef', 'ItemSalesTaxRef', 'SalesTaxCountry', 'ResaleNumber', 'AccountNumber', 'CreditLimit',
  'PreferredPaymentMethodRef', 'CreditCardInfo', 'JobStatus', 'JobStartDate', 'JobProjectedEndDate', 'JobEndDate',
  'JobDesc', 'JobTypeRef', 'Notes', 'AdditionalNotesRet', 'IsStatementWithParent', 'DeliveryMethod',
  'PreferredDeliveryMethod', 'PriceLevelRef', 'ExternalGUID', 'TaxRegistrationNumber', 'CurrencyRef',
]; // prettier-ignore

const vendorRetOrder = [
  ...stamp('ListID'), 'Name', 'IsActive', 'ClassRef', 'IsTaxAgency', 'CompanyName',
  ...person, 'VendorAddress', 'VendorAddressBlock', 'ShipAddress', ...communication, 'AdditionalContactRef', 'ContactsRet',
  'NameOnCheck', 'AccountNumber', 'Notes', 'AdditionalNotesRet', 'VendorTypeRef', 'TermsRef', 'CreditLimit',
  'VendorTaxIdent', 'IsVendorEligibleFor1099', 'Balance', 'BillingRateRef', 'ExternalGUID', 'SalesTaxCodeRef',
  'SalesTaxCountry', 'IsSalesTaxAgency', 'SalesTaxReturnRef', 'TaxRegistrationNumber', 'ReportingPeriod',
  'IsTaxTrackedOnPurchases', 'TaxOnPurchasesAccountRef', 'IsTaxTrackedOnSales', 'TaxOnSalesAccountRef', 'IsTaxOnTax',
  'PrefillAccountRef', 'CurrencyRef',
]; // prettier-ignore

const simpleList = [...head, 'IsActive', 'ParentRef', 'Sublevel'];

export const retOrder: Record<ListKind, readonly string[]> = {
  Customer: customerRetOrder,
  Vendor: vendorRetOrder,
  CustomerType: simpleList,
  VendorType: simpleList,
  Class: simpleList,
  Terms: [...stamp('ListID'), 'Name', 'IsActive', 'StdDueDays', 'StdDiscountDays', 'DiscountPct'],
  Account: [...head, 'IsActive', 'ParentRef', 'Sublevel', 'AccountType', 'AccountNumber', 'Desc', 'Balance', 'TotalBalance'],
  ItemService: [...itemHead, 'UnitOfMeasureSetRef', 'IsTaxIncluded', 'SalesTaxCodeRef', 'SalesOrPurchase', 'SalesAndPurchase', 'ExternalGUID'],
  ItemNonInventory: [
    ...itemHead, 'ManufacturerPartNumber', 'UnitOfMeasureSetRef', 'IsTaxIncluded', 'SalesTaxCodeRef', 'SalesOrPurchase',
    'SalesAndPurchase', 'ExternalGUID',
  ],
  ItemOtherCharge: [...itemHead, 'IsTaxIncluded', 'SalesTaxCodeRef', 'SalesOrPurchase', 'SalesAndPurchase', 'SpecialItemType', 'ExternalGUID'],
  ItemInventory: [
    ...itemHead, 'ManufacturerPartNumber', 'UnitOfMeasureSetRef', 'IsTaxIncluded', 'SalesTaxCodeRef', 'SalesDesc',
    'SalesPrice', 'IncomeAccountRef', 'PurchaseDesc', 'PurchaseCost', 'PurchaseTaxCodeRef', 'COGSAccountRef',
    'PrefVendorRef', 'AssetAccountRef', 'ReorderPoint', 'Max', 'QuantityOnHand', 'AverageCost', 'QuantityOnOrder',
    'QuantityOnSalesOrder', 'ExternalGUID',
  ],
  ItemDiscount: [...itemHead, 'ItemDesc', 'SalesTaxCodeRef', 'DiscountRate', 'DiscountRatePercent', 'AccountRef', 'ExternalGUID'],
}; // prettier-ignore

/* Invoices and sales orders share most of their header and lines; each kind adds a few elements of its own. */
const txnOpening = [...stamp('TxnID'), 'TxnNumber', 'CustomerRef', 'ClassRef'];
const txnAddresses = [
  'TemplateRef', 'TxnDate', 'RefNumber', 'BillAddress', 'BillAddressBlock', 'ShipAddress', 'ShipAddressBlock',
]; // prettier-ignore
const txnTerms = [
  'PONumber', 'TermsRef', 'DueDate', 'SalesRepRef', 'FOB', 'ShipDate', 'ShipMethodRef', 'Subtotal', 'ItemSalesTaxRef',
  'SalesTaxPercentage', 'SalesTaxTotal',
]; // prettier-ignore
const txnDelivery = ['CustomerMsgRef', 'IsToBePrinted', 'IsToBeEmailed', 'IsTaxIncluded', 'CustomerSalesTaxCodeRef'];
const txnClosing = ['Other', 'ExternalGUID', 'LinkedTxn'];

export const invoiceRetOrder = [
  ...txnOpening, 'ARAccountRef', ...txnAddresses, 'IsPending', 'IsFinanceCharge', ...txnTerms, 'AppliedAmount',
  'BalanceRemaining', 'CurrencyRef', 'ExchangeRate', 'BalanceRemainingInHomeCurrency', 'Memo', 'IsPaid', ...txnDelivery,
  'SuggestedDiscountAmount', 'SuggestedDiscountDate', ...txnClosing, 'InvoiceLineRet',
]; // prettier-ignore

export const salesOrderRetOrder = [
  ...txnOpening, ...txnAddresses, ...txnTerms, 'TotalAmount', 'CurrencyRef', 'ExchangeRate', 'TotalAmountInHomeCurrency',
  'IsManuallyClosed', 'IsFullyInvoiced', 'Memo', ...txnDelivery, ...txnClosing, 'SalesOrderLineRet',
]; // prettier-ignore

/** Assumption (XSD not at hand): the sales order's header without ship date and method, IsActive after the addresses. */
export const estimateRetOrder = [
  ...txnOpening, ...txnAddresses, 'IsActive', 'PONumber', 'TermsRef', 'DueDate', 'SalesRepRef', 'FOB', 'Subtotal',
  'ItemSalesTaxRef', 'SalesTaxPercentage', 'SalesTaxTotal', 'TotalAmount', 'CurrencyRef', 'ExchangeRate',
  'TotalAmountInHomeCurrency', 'Memo', 'CustomerMsgRef', 'IsToBeEmailed', 'IsTaxIncluded', 'CustomerSalesTaxCodeRef',
  ...txnClosing, 'EstimateLineRet',
]; // prettier-ignore

const lineHead = [
  'TxnLineID', 'ItemRef', 'Desc', 'Quantity', 'UnitOfMeasure', 'OverrideUOMSetRef', 'Rate', 'RatePercent', 'ClassRef',
  'Amount', 'TaxAmount', 'InventorySiteRef', 'InventorySiteLocationRef', 'SerialNumber', 'LotNumber',
]; // prettier-ignore

export const invoiceLineRetOrder = [...lineHead, 'ServiceDate', 'SalesTaxCodeRef', 'IsTaxable', 'Other1', 'Other2'];

export const salesOrderLineRetOrder = [
  ...lineHead, 'SalesTaxCodeRef', 'Invoiced', 'IsManuallyClosed', 'Other1', 'Other2',
]; // prettier-ignore

export const estimateLineRetOrder = [
  ...lineHead, 'SalesTaxCodeRef', 'MarkupRate', 'MarkupRatePercent', 'Other1', 'Other2',
]; // prettier-ignore
