import type { ListKind } from './companyState';

/* Ret field order per kind (reference §15, qbXML 13.0 XSD); fields not listed here are never emitted. */
const person = ['Salutation', 'FirstName', 'MiddleName', 'LastName', 'Suffix', 'JobTitle'];
const communication = ['Phone', 'Mobile', 'Pager', 'AltPhone', 'Fax', 'Email', 'Cc', 'Contact', 'AltContact'];
const head = ['ListID', 'TimeCreated', 'TimeModified', 'EditSequence', 'Name', 'FullName'];
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
  'ListID', 'TimeCreated', 'TimeModified', 'EditSequence', 'Name', 'IsActive', 'ClassRef', 'IsTaxAgency', 'CompanyName',
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
  Terms: ['ListID', 'TimeCreated', 'TimeModified', 'EditSequence', 'Name', 'IsActive', 'StdDueDays', 'StdDiscountDays', 'DiscountPct'],
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

export const invoiceRetOrder = [
  'TxnID', 'TimeCreated', 'TimeModified', 'EditSequence', 'TxnNumber', 'CustomerRef', 'ClassRef', 'ARAccountRef',
  'TemplateRef', 'TxnDate', 'RefNumber', 'BillAddress', 'BillAddressBlock', 'ShipAddress', 'ShipAddressBlock',
  'IsPending', 'IsFinanceCharge', 'PONumber', 'TermsRef', 'DueDate', 'SalesRepRef', 'FOB', 'ShipDate', 'ShipMethodRef',
  'Subtotal', 'ItemSalesTaxRef', 'SalesTaxPercentage', 'SalesTaxTotal', 'AppliedAmount', 'BalanceRemaining',
  'CurrencyRef', 'ExchangeRate', 'BalanceRemainingInHomeCurrency', 'Memo', 'IsPaid', 'CustomerMsgRef', 'IsToBePrinted',
  'IsToBeEmailed', 'IsTaxIncluded', 'CustomerSalesTaxCodeRef', 'SuggestedDiscountAmount', 'SuggestedDiscountDate',
  'Other', 'ExternalGUID', 'LinkedTxn', 'InvoiceLineRet',
]; // prettier-ignore

export const invoiceLineRetOrder = [
  'TxnLineID', 'ItemRef', 'Desc', 'Quantity', 'UnitOfMeasure', 'OverrideUOMSetRef', 'Rate', 'RatePercent', 'ClassRef',
  'Amount', 'TaxAmount', 'InventorySiteRef', 'InventorySiteLocationRef', 'SerialNumber', 'LotNumber', 'ServiceDate',
  'SalesTaxCodeRef', 'IsTaxable', 'Other1', 'Other2',
]; // prettier-ignore

export const salesOrderRetOrder = [
  'TxnID', 'TimeCreated', 'TimeModified', 'EditSequence', 'TxnNumber', 'CustomerRef', 'ClassRef', 'TemplateRef',
  'TxnDate', 'RefNumber', 'BillAddress', 'BillAddressBlock', 'ShipAddress', 'ShipAddressBlock', 'PONumber', 'TermsRef',
  'DueDate', 'SalesRepRef', 'FOB', 'ShipDate', 'ShipMethodRef', 'Subtotal', 'ItemSalesTaxRef', 'SalesTaxPercentage',
  'SalesTaxTotal', 'TotalAmount', 'CurrencyRef', 'ExchangeRate', 'TotalAmountInHomeCurrency', 'IsManuallyClosed',
  'IsFullyInvoiced', 'Memo', 'CustomerMsgRef', 'IsToBePrinted', 'IsToBeEmailed', 'IsTaxIncluded',
  'CustomerSalesTaxCodeRef', 'Other', 'ExternalGUID', 'LinkedTxn', 'SalesOrderLineRet',
]; // prettier-ignore

export const salesOrderLineRetOrder = [
  'TxnLineID', 'ItemRef', 'Desc', 'Quantity', 'UnitOfMeasure', 'OverrideUOMSetRef', 'Rate', 'RatePercent', 'ClassRef',
  'Amount', 'TaxAmount', 'InventorySiteRef', 'InventorySiteLocationRef', 'SerialNumber', 'LotNumber', 'SalesTaxCodeRef',
  'Invoiced', 'IsManuallyClosed', 'Other1', 'Other2',
]; // prettier-ignore
