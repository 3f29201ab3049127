/**
 * The qbXML vocabulary as plain data. Workflow code imports this file, so it must stay free of Node built-ins
 * and of any XML library: requests and responses are JSON-safe values that travel in Temporal payloads.
 *
 * Money and quantities are decimal strings ("1234.50") because binary floats cannot hold cents exactly.
 * Dates are ISO strings exactly as QuickBooks wants them (`YYYY-MM-DD` or `YYYY-MM-DDTHH:MM:SS[±hh:mm]`).
 */

// ---------------------------------------------------------------------------------------------------------------
// Shared aggregates
// ---------------------------------------------------------------------------------------------------------------

/** A reference to a list object. When both are set QuickBooks uses `listId` and ignores `fullName`. */
export interface QbRef {
  listId?: string;
  /** Sub-levels separated by `:` (`Parent:Job`). */
  fullName?: string;
}

export interface QbAddress {
  addr1?: string;
  addr2?: string;
  addr3?: string;
  addr4?: string;
  addr5?: string;
  city?: string;
  state?: string;
  postalCode?: string;
  country?: string;
  note?: string;
}

/** One custom-field value as QuickBooks reports it on a Ret (`DataExtRet`). */
export interface DataExtValue {
  ownerId: string;
  name: string;
  type?: string;
  value: string;
}

export type ActiveStatus = 'ActiveOnly' | 'InactiveOnly' | 'All';
export type IteratorMode = 'Start' | 'Continue' | 'Stop';
export type MatchCriterion = 'StartsWith' | 'Contains' | 'EndsWith';

export interface NameFilter {
  matchCriterion: MatchCriterion;
  name: string;
}

// ---------------------------------------------------------------------------------------------------------------
// Queries
// ---------------------------------------------------------------------------------------------------------------

/**
 * Filters shared by list queries. `listIds` and `fullNames` are alternatives to the filter block: when either is
 * set the builder emits only the IDs/names (qbXML's choice) and ignores the filter fields.
 */
export interface ListQueryFilters {
  requestId: string;
  listIds?: string[];
  fullNames?: string[];
  maxReturned?: number;
  activeStatus?: ActiveStatus;
  fromModifiedDate?: string;
  toModifiedDate?: string;
  nameFilter?: NameFilter;
  includeRetElements?: string[];
}

export interface IteratorControl {
  iterator?: IteratorMode;
  iteratorId?: string;
}

export interface CustomerQuery extends ListQueryFilters, IteratorControl {
  type: 'CustomerQuery';
  /** `0` asks for QuickBooks' own custom fields; a GUID for an application's private ones. */
  ownerIds?: string[];
}

export interface VendorQuery extends ListQueryFilters, IteratorControl {
  type: 'VendorQuery';
  ownerIds?: string[];
}

/** `ItemQueryRq` returns every item kind mixed together (service, inventory, non-inventory, …). */
export interface ItemQuery extends ListQueryFilters, IteratorControl {
  type: 'ItemQuery';
  ownerIds?: string[];
}

/** qbXML 13 gives CustomerType and Class queries no iterator and no OwnerID. */
export interface CustomerTypeQuery extends ListQueryFilters {
  type: 'CustomerTypeQuery';
}

export interface ClassQuery extends ListQueryFilters {
  type: 'ClassQuery';
}

/** qbXML 13 `ListDelType` values of the lists the connector syncs (the XSD enumerates more). */
export type ListDelType = 'Customer' | 'Vendor' | 'ItemService' | 'ItemNonInventory' | 'ItemInventory';

/**
 * List records deleted from the company file (`ListDeletedQueryRq`): one or more `ListDelType`, then an optional
 * `DeletedDateRangeFilter`. No iterator and no MaxReturned in qbXML 13 (reference §12–13).
 */
export interface ListDeletedQuery {
  type: 'ListDeletedQuery';
  requestId: string;
  listDelTypes: ListDelType[];
  fromDeletedDate?: string;
  toDeletedDate?: string;
}

/** Transaction queries put the modified-date range inside `ModifiedDateRangeFilter`. */
export interface TxnQueryFilters extends IteratorControl {
  requestId: string;
  txnIds?: string[];
  refNumbers?: string[];
  maxReturned?: number;
  fromModifiedDate?: string;
  toModifiedDate?: string;
  /** `EntityFilter/ListID`: transactions of one customer. */
  entityListId?: string;
  includeLineItems?: boolean;
  includeLinkedTxns?: boolean;
  includeRetElements?: string[];
  ownerIds?: string[];
}

/** Transactions deleted from the company file (`TxnDeletedQueryRq`); the connector asks only about invoices. */
export interface TxnDeletedQuery {
  type: 'TxnDeletedQuery';
  requestId: string;
  txnDelTypes: 'Invoice'[];
  fromDeletedDate?: string;
  toDeletedDate?: string;
}

export interface InvoiceQuery extends TxnQueryFilters {
  type: 'InvoiceQuery';
  paidStatus?: 'All' | 'PaidOnly' | 'NotPaidOnly';
}

export interface SalesOrderQuery extends TxnQueryFilters {
  type: 'SalesOrderQuery';
}

/** Estimates take the transaction filters of sales orders (qbXML 13 `EstimateQuery`). */
export interface EstimateQuery extends TxnQueryFilters {
  type: 'EstimateQuery';
}

// ---------------------------------------------------------------------------------------------------------------
// Customers and vendors
// ---------------------------------------------------------------------------------------------------------------

export type JobStatus = 'Awarded' | 'Closed' | 'InProgress' | 'None' | 'NotAwarded' | 'Pending';
export type PreferredDeliveryMethod = 'None' | 'Email' | 'Fax';

export interface CustomerAddFields {
  name: string;
  isActive?: boolean;
  classRef?: QbRef;
  /** Makes this a job / sub-customer of the referenced customer. */
  parentRef?: QbRef;
  companyName?: string;
  salutation?: string;
  firstName?: string;
  middleName?: string;
  lastName?: string;
  suffix?: string;
  jobTitle?: string;
  billAddress?: QbAddress;
  shipAddress?: QbAddress;
  printAs?: string;
  phone?: string;
  mobile?: string;
  pager?: string;
  altPhone?: string;
  fax?: string;
  email?: string;
  cc?: string;
  contact?: string;
  altContact?: string;
  customerTypeRef?: QbRef;
  termsRef?: QbRef;
  salesRepRef?: QbRef;
  openBalance?: string;
  openBalanceDate?: string;
  salesTaxCodeRef?: QbRef;
  itemSalesTaxRef?: QbRef;
  resaleNumber?: string;
  accountNumber?: string;
  creditLimit?: string;
  preferredPaymentMethodRef?: QbRef;
  jobStatus?: JobStatus;
  jobStartDate?: string;
  jobProjectedEndDate?: string;
  jobEndDate?: string;
  jobDesc?: string;
  jobTypeRef?: QbRef;
  notes?: string;
  isStatementWithParent?: boolean;
  preferredDeliveryMethod?: PreferredDeliveryMethod;
  priceLevelRef?: QbRef;
  externalGuid?: string;
  taxRegistrationNumber?: string;
  currencyRef?: QbRef;
}

/** Mods identify the object and carry the EditSequence last read; only the fields sent change. */
export interface ListModIdentity {
  listId: string;
  editSequence: string;
}

export type CustomerModFields = ListModIdentity &
  Partial<Omit<CustomerAddFields, 'openBalance' | 'openBalanceDate' | 'externalGuid'>>;

export interface CustomerAdd {
  type: 'CustomerAdd';
  requestId: string;
  fields: CustomerAddFields;
}

export interface CustomerMod {
  type: 'CustomerMod';
  requestId: string;
  fields: CustomerModFields;
}

export interface VendorAddFields {
  name: string;
  isActive?: boolean;
  classRef?: QbRef;
  companyName?: string;
  salutation?: string;
  firstName?: string;
  middleName?: string;
  lastName?: string;
  suffix?: string;
  jobTitle?: string;
  vendorAddress?: QbAddress;
  shipAddress?: QbAddress;
  phone?: string;
  mobile?: string;
  pager?: string;
  altPhone?: string;
  fax?: string;
  email?: string;
  cc?: string;
  contact?: string;
  altContact?: string;
  nameOnCheck?: string;
  accountNumber?: string;
  notes?: string;
  vendorTypeRef?: QbRef;
  termsRef?: QbRef;
  creditLimit?: string;
  vendorTaxIdent?: string;
  isVendorEligibleFor1099?: boolean;
  openBalance?: string;
  openBalanceDate?: string;
  billingRateRef?: QbRef;
  externalGuid?: string;
  salesTaxCodeRef?: QbRef;
  isSalesTaxAgency?: boolean;
  taxRegistrationNumber?: string;
  currencyRef?: QbRef;
}

export type VendorModFields = ListModIdentity &
  Partial<Omit<VendorAddFields, 'openBalance' | 'openBalanceDate' | 'externalGuid'>>;

export interface VendorAdd {
  type: 'VendorAdd';
  requestId: string;
  fields: VendorAddFields;
}

export interface VendorMod {
  type: 'VendorMod';
  requestId: string;
  fields: VendorModFields;
}

// ---------------------------------------------------------------------------------------------------------------
// Customer types and classes
// ---------------------------------------------------------------------------------------------------------------

export interface SimpleListAddFields {
  name: string;
  isActive?: boolean;
  parentRef?: QbRef;
}

/** qbXML 13 has no CustomerTypeMod: a customer type can be added and queried only. */
export interface CustomerTypeAdd {
  type: 'CustomerTypeAdd';
  requestId: string;
  fields: SimpleListAddFields;
}

export interface ClassAdd {
  type: 'ClassAdd';
  requestId: string;
  fields: SimpleListAddFields;
}

// ---------------------------------------------------------------------------------------------------------------
// Items
// ---------------------------------------------------------------------------------------------------------------

/** Item used only for sales or only for purchases. Set `price` or `pricePercent`, not both. */
export interface SalesOrPurchase {
  desc?: string;
  price?: string;
  pricePercent?: string;
  accountRef?: QbRef;
}

export interface SalesOrPurchaseMod extends SalesOrPurchase {
  applyAccountRefToExistingTxns?: boolean;
}

/** Item both bought and sold (separate income and expense accounts). */
export interface SalesAndPurchase {
  salesDesc?: string;
  salesPrice?: string;
  incomeAccountRef?: QbRef;
  purchaseDesc?: string;
  purchaseCost?: string;
  purchaseTaxCodeRef?: QbRef;
  expenseAccountRef?: QbRef;
  prefVendorRef?: QbRef;
}

export interface SalesAndPurchaseMod extends SalesAndPurchase {
  applyIncomeAccountRefToExistingTxns?: boolean;
  applyExpenseAccountRefToExistingTxns?: boolean;
}

interface ItemCommonFields {
  name: string;
  /** Emitted as `BarCode/BarCodeValue`. */
  barCodeValue?: string;
  isActive?: boolean;
  classRef?: QbRef;
  parentRef?: QbRef;
  unitOfMeasureSetRef?: QbRef;
  isTaxIncluded?: boolean;
  salesTaxCodeRef?: QbRef;
}

/** Exactly one of `salesOrPurchase` / `salesAndPurchase` is required on an Add. */
export interface ItemServiceAddFields extends ItemCommonFields {
  salesOrPurchase?: SalesOrPurchase;
  salesAndPurchase?: SalesAndPurchase;
  externalGuid?: string;
}

export interface ItemServiceModFields extends ListModIdentity, Partial<Omit<ItemCommonFields, never>> {
  forceUomChange?: boolean;
  salesOrPurchase?: SalesOrPurchaseMod;
  salesAndPurchase?: SalesAndPurchaseMod;
}

export interface ItemNonInventoryAddFields extends ItemServiceAddFields {
  manufacturerPartNumber?: string;
}

export interface ItemNonInventoryModFields extends ItemServiceModFields {
  manufacturerPartNumber?: string;
}

export interface ItemInventoryAddFields extends Omit<ItemCommonFields, never> {
  manufacturerPartNumber?: string;
  salesDesc?: string;
  salesPrice?: string;
  incomeAccountRef?: QbRef;
  purchaseDesc?: string;
  purchaseCost?: string;
  purchaseTaxCodeRef?: QbRef;
  cogsAccountRef?: QbRef;
  prefVendorRef?: QbRef;
  assetAccountRef?: QbRef;
  reorderPoint?: string;
  max?: string;
  quantityOnHand?: string;
  totalValue?: string;
  inventoryDate?: string;
  externalGuid?: string;
}

export interface ItemInventoryModFields
  extends
    ListModIdentity,
    Partial<Omit<ItemInventoryAddFields, 'quantityOnHand' | 'totalValue' | 'inventoryDate' | 'externalGuid'>> {
  forceUomChange?: boolean;
  applyIncomeAccountRefToExistingTxns?: boolean;
  applyCogsAccountRefToExistingTxns?: boolean;
}

export interface ItemServiceAdd {
  type: 'ItemServiceAdd';
  requestId: string;
  fields: ItemServiceAddFields;
}
export interface ItemServiceMod {
  type: 'ItemServiceMod';
  requestId: string;
  fields: ItemServiceModFields;
}
export interface ItemNonInventoryAdd {
  type: 'ItemNonInventoryAdd';
  requestId: string;
  fields: ItemNonInventoryAddFields;
}
export interface ItemNonInventoryMod {
  type: 'ItemNonInventoryMod';
  requestId: string;
  fields: ItemNonInventoryModFields;
}
export interface ItemInventoryAdd {
  type: 'ItemInventoryAdd';
  requestId: string;
  fields: ItemInventoryAddFields;
}
export interface ItemInventoryMod {
  type: 'ItemInventoryMod';
  requestId: string;
  fields: ItemInventoryModFields;
}

// ---------------------------------------------------------------------------------------------------------------
// Invoices
// ---------------------------------------------------------------------------------------------------------------

/** A DataExt value written together with a transaction line. */
export interface LineDataExt {
  ownerId: string;
  dataExtName: string;
  dataExtValue: string;
}

/** Set `rate` or `ratePercent`, not both. */
export interface InvoiceLineAddFields {
  itemRef?: QbRef;
  desc?: string;
  quantity?: string;
  unitOfMeasure?: string;
  rate?: string;
  ratePercent?: string;
  classRef?: QbRef;
  amount?: string;
  serviceDate?: string;
  salesTaxCodeRef?: QbRef;
  isTaxable?: boolean;
  other1?: string;
  other2?: string;
  /** Links this line to one sales-order line. */
  linkToTxn?: { txnId: string; txnLineId: string };
  dataExt?: LineDataExt[];
}

/** `txnLineId` `-1` adds a new line inside a Mod; lines not listed in a Mod that sends any line are deleted. */
export interface InvoiceLineModFields {
  txnLineId: string;
  itemRef?: QbRef;
  desc?: string;
  quantity?: string;
  unitOfMeasure?: string;
  overrideUomSetRef?: QbRef;
  rate?: string;
  ratePercent?: string;
  classRef?: QbRef;
  amount?: string;
  serviceDate?: string;
  salesTaxCodeRef?: QbRef;
  overrideItemAccountRef?: QbRef;
  other1?: string;
  other2?: string;
}

interface InvoiceHeaderFields {
  classRef?: QbRef;
  arAccountRef?: QbRef;
  templateRef?: QbRef;
  txnDate?: string;
  refNumber?: string;
  billAddress?: QbAddress;
  shipAddress?: QbAddress;
  isPending?: boolean;
  poNumber?: string;
  termsRef?: QbRef;
  dueDate?: string;
  salesRepRef?: QbRef;
  fob?: string;
  shipDate?: string;
  shipMethodRef?: QbRef;
  itemSalesTaxRef?: QbRef;
  memo?: string;
  customerMsgRef?: QbRef;
  isToBePrinted?: boolean;
  isToBeEmailed?: boolean;
  isTaxIncluded?: boolean;
  customerSalesTaxCodeRef?: QbRef;
  other?: string;
  exchangeRate?: string;
}

export interface InvoiceAddFields extends InvoiceHeaderFields {
  customerRef: QbRef;
  isFinanceCharge?: boolean;
  externalGuid?: string;
  /** Links whole sales orders / estimates. */
  linkToTxnIds?: string[];
  lines?: InvoiceLineAddFields[];
}

export interface InvoiceModFields extends InvoiceHeaderFields {
  txnId: string;
  editSequence: string;
  customerRef?: QbRef;
  /** When present, must list every line to keep (see InvoiceLineModFields). */
  lines?: InvoiceLineModFields[];
}

export interface InvoiceAdd {
  type: 'InvoiceAdd';
  requestId: string;
  fields: InvoiceAddFields;
}

export interface InvoiceMod {
  type: 'InvoiceMod';
  requestId: string;
  fields: InvoiceModFields;
}

// ---------------------------------------------------------------------------------------------------------------
// Sales orders
// ---------------------------------------------------------------------------------------------------------------

/**
 * qbXML 13 `SalesOrderLineAdd`: the invoice line's core (no ServiceDate, IsTaxable, OverrideItemAccountRef or
 * LinkToTxn), and IsManuallyClosed to close a line that will not be invoiced.
 */
export interface SalesOrderLineAddFields {
  itemRef?: QbRef;
  desc?: string;
  quantity?: string;
  unitOfMeasure?: string;
  rate?: string;
  ratePercent?: string;
  classRef?: QbRef;
  amount?: string;
  salesTaxCodeRef?: QbRef;
  isManuallyClosed?: boolean;
  other1?: string;
  other2?: string;
  dataExt?: LineDataExt[];
}

/** `txnLineId` `-1` adds a line inside a Mod; lines not listed in a Mod that sends any line are deleted. */
export interface SalesOrderLineModFields {
  txnLineId: string;
  itemRef?: QbRef;
  desc?: string;
  quantity?: string;
  unitOfMeasure?: string;
  overrideUomSetRef?: QbRef;
  rate?: string;
  ratePercent?: string;
  classRef?: QbRef;
  amount?: string;
  salesTaxCodeRef?: QbRef;
  isManuallyClosed?: boolean;
  other1?: string;
  other2?: string;
}

/** The header a sales order shares between Add and Mod: the invoice's less the AR account, pending and finance flags. */
interface SalesOrderHeaderFields {
  classRef?: QbRef;
  templateRef?: QbRef;
  txnDate?: string;
  refNumber?: string;
  billAddress?: QbAddress;
  shipAddress?: QbAddress;
  poNumber?: string;
  termsRef?: QbRef;
  dueDate?: string;
  salesRepRef?: QbRef;
  fob?: string;
  shipDate?: string;
  shipMethodRef?: QbRef;
  itemSalesTaxRef?: QbRef;
  /** Closes the whole order: QuickBooks then refuses to invoice it further. */
  isManuallyClosed?: boolean;
  memo?: string;
  customerMsgRef?: QbRef;
  isToBePrinted?: boolean;
  isToBeEmailed?: boolean;
  isTaxIncluded?: boolean;
  customerSalesTaxCodeRef?: QbRef;
  other?: string;
  exchangeRate?: string;
}

export interface SalesOrderAddFields extends SalesOrderHeaderFields {
  customerRef: QbRef;
  externalGuid?: string;
  /** At least one: QuickBooks refuses a sales order without lines (unlike an invoice). */
  lines: SalesOrderLineAddFields[];
}

export interface SalesOrderModFields extends SalesOrderHeaderFields {
  txnId: string;
  editSequence: string;
  customerRef?: QbRef;
  /** When present, must list every line to keep (see SalesOrderLineModFields). */
  lines?: SalesOrderLineModFields[];
}

export interface SalesOrderAdd {
  type: 'SalesOrderAdd';
  requestId: string;
  fields: SalesOrderAddFields;
}

export interface SalesOrderMod {
  type: 'SalesOrderMod';
  requestId: string;
  fields: SalesOrderModFields;
}

// ---------------------------------------------------------------------------------------------------------------
// Estimates
// ---------------------------------------------------------------------------------------------------------------

/**
 * qbXML 13 `EstimateLineAdd`. Set `rate` or `ratePercent`, not both. An estimate line has no ServiceDate, IsTaxable
 * or LinkToTxn (those are invoice lines'); its optional markup is left out, the connector sends prices only.
 */
export interface EstimateLineAddFields {
  itemRef?: QbRef;
  desc?: string;
  quantity?: string;
  unitOfMeasure?: string;
  rate?: string;
  ratePercent?: string;
  classRef?: QbRef;
  amount?: string;
  salesTaxCodeRef?: QbRef;
  other1?: string;
  other2?: string;
  dataExt?: LineDataExt[];
}

/** `txnLineId` `-1` adds a line inside a Mod; lines not listed in a Mod that sends any line are deleted. */
export interface EstimateLineModFields {
  txnLineId: string;
  itemRef?: QbRef;
  desc?: string;
  quantity?: string;
  unitOfMeasure?: string;
  overrideUomSetRef?: QbRef;
  rate?: string;
  ratePercent?: string;
  classRef?: QbRef;
  amount?: string;
  salesTaxCodeRef?: QbRef;
  other1?: string;
  other2?: string;
}

/** The header an estimate shares between Add and Mod: no AR account, ship date or ship method (an estimate ships nothing). */
interface EstimateHeaderFields {
  classRef?: QbRef;
  templateRef?: QbRef;
  txnDate?: string;
  refNumber?: string;
  billAddress?: QbAddress;
  shipAddress?: QbAddress;
  /** An estimate made inactive stays in the file but leaves the open-estimates lists. */
  isActive?: boolean;
  poNumber?: string;
  termsRef?: QbRef;
  dueDate?: string;
  salesRepRef?: QbRef;
  fob?: string;
  itemSalesTaxRef?: QbRef;
  memo?: string;
  customerMsgRef?: QbRef;
  isToBeEmailed?: boolean;
  isTaxIncluded?: boolean;
  customerSalesTaxCodeRef?: QbRef;
  other?: string;
  exchangeRate?: string;
}

export interface EstimateAddFields extends EstimateHeaderFields {
  customerRef: QbRef;
  externalGuid?: string;
  lines?: EstimateLineAddFields[];
}

export interface EstimateModFields extends EstimateHeaderFields {
  txnId: string;
  editSequence: string;
  customerRef?: QbRef;
  /** When present, must list every line to keep (see EstimateLineModFields). */
  lines?: EstimateLineModFields[];
}

export interface EstimateAdd {
  type: 'EstimateAdd';
  requestId: string;
  fields: EstimateAddFields;
}

export interface EstimateMod {
  type: 'EstimateMod';
  requestId: string;
  fields: EstimateModFields;
}

// ---------------------------------------------------------------------------------------------------------------
// Custom fields (DataExt)
// ---------------------------------------------------------------------------------------------------------------

export type DataExtType =
  'AMTTYPE' | 'DATETIMETYPE' | 'INTTYPE' | 'PERCENTTYPE' | 'PRICETYPE' | 'QUANTYPE' | 'STR1024TYPE' | 'STR255TYPE';

export type ListDataExtType = 'Account' | 'Customer' | 'Employee' | 'Item' | 'OtherName' | 'Vendor';

/** What object a DataExt value hangs on. */
export type DataExtTarget =
  | { kind: 'list'; listDataExtType: ListDataExtType; listObjRef: QbRef }
  | { kind: 'txn'; txnDataExtType: string; txnId: string; txnLineId?: string }
  | { kind: 'company' };

export interface DataExtDefAddFields {
  ownerId: string;
  dataExtName: string;
  dataExtType: DataExtType;
  assignToObject?: string[];
  dataExtListRequire?: boolean;
  dataExtTxnRequire?: boolean;
  dataExtFormatString?: string;
}

export interface DataExtFields {
  ownerId: string;
  dataExtName: string;
  target: DataExtTarget;
  dataExtValue: string;
}

export interface DataExtDefAdd {
  type: 'DataExtDefAdd';
  requestId: string;
  fields: DataExtDefAddFields;
}

/** QuickBooks answers 3180 when the value already exists: switch to DataExtMod. */
export interface DataExtAdd {
  type: 'DataExtAdd';
  requestId: string;
  fields: DataExtFields;
}

export interface DataExtMod {
  type: 'DataExtMod';
  requestId: string;
  fields: DataExtFields;
}

// ---------------------------------------------------------------------------------------------------------------
// The request union
// ---------------------------------------------------------------------------------------------------------------

export type QbxmlQueryRequest =
  | CustomerQuery
  | VendorQuery
  | ItemQuery
  | CustomerTypeQuery
  | ClassQuery
  | SalesOrderQuery
  | InvoiceQuery
  | EstimateQuery
  | ListDeletedQuery
  | TxnDeletedQuery;

export type QbxmlWriteRequest =
  | CustomerAdd
  | CustomerMod
  | VendorAdd
  | VendorMod
  | ItemInventoryAdd
  | ItemInventoryMod
  | ItemNonInventoryAdd
  | ItemNonInventoryMod
  | ItemServiceAdd
  | ItemServiceMod
  | CustomerTypeAdd
  | ClassAdd
  | InvoiceAdd
  | InvoiceMod
  | SalesOrderAdd
  | SalesOrderMod
  | EstimateAdd
  | EstimateMod
  | DataExtDefAdd
  | DataExtAdd
  | DataExtMod;

export type QbxmlRequest = QbxmlQueryRequest | QbxmlWriteRequest;
export type QbxmlRequestType = QbxmlRequest['type'];

/** QuickBooks rejects a requestID longer than this with status 1060. */
export const MAX_REQUEST_ID_LENGTH = 50;

const QUERY_TYPES: ReadonlySet<QbxmlRequestType> = new Set<QbxmlQueryRequest['type']>([
  'CustomerQuery',
  'VendorQuery',
  'ItemQuery',
  'CustomerTypeQuery',
  'ClassQuery',
  'SalesOrderQuery',
  'InvoiceQuery',
  'EstimateQuery',
  'ListDeletedQuery',
  'TxnDeletedQuery',
]);

const ITERABLE_TYPES: ReadonlySet<QbxmlRequestType> = new Set<QbxmlRequestType>([
  'CustomerQuery',
  'VendorQuery',
  'ItemQuery',
  'SalesOrderQuery',
  'InvoiceQuery',
  'EstimateQuery',
]);

export type IterableQuery = CustomerQuery | VendorQuery | ItemQuery | SalesOrderQuery | InvoiceQuery | EstimateQuery;

export function isQueryRequest(req: QbxmlRequest): req is QbxmlQueryRequest {
  return QUERY_TYPES.has(req.type);
}

/** Writes change the company file, so they must never be replayed blindly (a resent Add duplicates). */
export function isWriteRequest(req: QbxmlRequest): req is QbxmlWriteRequest {
  return !isQueryRequest(req);
}

export function supportsIterator(req: QbxmlRequest): req is IterableQuery {
  return ITERABLE_TYPES.has(req.type);
}

/**
 * The next page of an iterated query: the identical request (filters unchanged, as QuickBooks requires) with
 * `iterator="Continue"` and the iteratorID from the previous response.
 */
export function continueIterator(req: QbxmlRequest, iteratorId: string): QbxmlRequest {
  if (!supportsIterator(req)) {
    throw new TypeError(`${req.type} does not support iterators`);
  }
  if (iteratorId === '') throw new TypeError('iteratorId must not be empty');
  return { ...req, iterator: 'Continue', iteratorId };
}

// ---------------------------------------------------------------------------------------------------------------
// Responses
// ---------------------------------------------------------------------------------------------------------------

export type StatusSeverity = 'Info' | 'Warn' | 'Error';

export interface ListRecordBase {
  listId: string;
  timeCreated?: string;
  timeModified?: string;
  editSequence: string;
  name: string;
  fullName?: string;
  isActive?: boolean;
  parentRef?: QbRef;
  sublevel?: number;
}

export interface CustomerRet extends ListRecordBase {
  kind: 'Customer';
  classRef?: QbRef;
  companyName?: string;
  salutation?: string;
  firstName?: string;
  middleName?: string;
  lastName?: string;
  suffix?: string;
  jobTitle?: string;
  billAddress?: QbAddress;
  shipAddress?: QbAddress;
  printAs?: string;
  phone?: string;
  mobile?: string;
  pager?: string;
  altPhone?: string;
  fax?: string;
  email?: string;
  cc?: string;
  contact?: string;
  altContact?: string;
  customerTypeRef?: QbRef;
  termsRef?: QbRef;
  salesRepRef?: QbRef;
  balance?: string;
  totalBalance?: string;
  salesTaxCodeRef?: QbRef;
  itemSalesTaxRef?: QbRef;
  resaleNumber?: string;
  accountNumber?: string;
  creditLimit?: string;
  preferredPaymentMethodRef?: QbRef;
  jobStatus?: string;
  jobStartDate?: string;
  jobProjectedEndDate?: string;
  jobEndDate?: string;
  jobDesc?: string;
  jobTypeRef?: QbRef;
  notes?: string;
  isStatementWithParent?: boolean;
  preferredDeliveryMethod?: string;
  priceLevelRef?: QbRef;
  externalGuid?: string;
  taxRegistrationNumber?: string;
  currencyRef?: QbRef;
  dataExt?: DataExtValue[];
}

export interface VendorRet extends ListRecordBase {
  kind: 'Vendor';
  classRef?: QbRef;
  isTaxAgency?: boolean;
  companyName?: string;
  salutation?: string;
  firstName?: string;
  middleName?: string;
  lastName?: string;
  suffix?: string;
  jobTitle?: string;
  vendorAddress?: QbAddress;
  shipAddress?: QbAddress;
  phone?: string;
  mobile?: string;
  pager?: string;
  altPhone?: string;
  fax?: string;
  email?: string;
  cc?: string;
  contact?: string;
  altContact?: string;
  nameOnCheck?: string;
  accountNumber?: string;
  notes?: string;
  vendorTypeRef?: QbRef;
  termsRef?: QbRef;
  creditLimit?: string;
  vendorTaxIdent?: string;
  isVendorEligibleFor1099?: boolean;
  balance?: string;
  billingRateRef?: QbRef;
  externalGuid?: string;
  salesTaxCodeRef?: QbRef;
  isSalesTaxAgency?: boolean;
  currencyRef?: QbRef;
  dataExt?: DataExtValue[];
}

interface ItemRecordBase extends ListRecordBase {
  barCodeValue?: string;
  classRef?: QbRef;
  unitOfMeasureSetRef?: QbRef;
  isTaxIncluded?: boolean;
  salesTaxCodeRef?: QbRef;
  externalGuid?: string;
  dataExt?: DataExtValue[];
}

export interface ItemServiceRet extends ItemRecordBase {
  kind: 'ItemService';
  salesOrPurchase?: SalesOrPurchase;
  salesAndPurchase?: SalesAndPurchase;
}

export interface ItemNonInventoryRet extends ItemRecordBase {
  kind: 'ItemNonInventory';
  manufacturerPartNumber?: string;
  salesOrPurchase?: SalesOrPurchase;
  salesAndPurchase?: SalesAndPurchase;
}

export interface ItemOtherChargeRet extends ItemRecordBase {
  kind: 'ItemOtherCharge';
  salesOrPurchase?: SalesOrPurchase;
  salesAndPurchase?: SalesAndPurchase;
  specialItemType?: string;
}

export interface ItemInventoryRet extends ItemRecordBase {
  kind: 'ItemInventory';
  manufacturerPartNumber?: string;
  salesDesc?: string;
  salesPrice?: string;
  incomeAccountRef?: QbRef;
  purchaseDesc?: string;
  purchaseCost?: string;
  purchaseTaxCodeRef?: QbRef;
  cogsAccountRef?: QbRef;
  prefVendorRef?: QbRef;
  assetAccountRef?: QbRef;
  reorderPoint?: string;
  max?: string;
  quantityOnHand?: string;
  averageCost?: string;
  quantityOnOrder?: string;
  quantityOnSalesOrder?: string;
}

export interface ItemDiscountRet extends ItemRecordBase {
  kind: 'ItemDiscount';
  itemDesc?: string;
  discountRate?: string;
  discountRatePercent?: string;
  accountRef?: QbRef;
}

export interface CustomerTypeRet extends ListRecordBase {
  kind: 'CustomerType';
}

export interface ClassRet extends ListRecordBase {
  kind: 'Class';
}

export interface LinkedTxn {
  txnId: string;
  txnType?: string;
  txnDate?: string;
  refNumber?: string;
  linkType?: string;
  amount?: string;
}

export interface TxnLineRet {
  txnLineId: string;
  itemRef?: QbRef;
  desc?: string;
  quantity?: string;
  unitOfMeasure?: string;
  rate?: string;
  ratePercent?: string;
  classRef?: QbRef;
  amount?: string;
  taxAmount?: string;
  serviceDate?: string;
  salesTaxCodeRef?: QbRef;
  isTaxable?: boolean;
  other1?: string;
  other2?: string;
  /** Sales-order lines only. */
  invoiced?: string;
  isManuallyClosed?: boolean;
  dataExt?: DataExtValue[];
}

interface TxnRecordBase {
  txnId: string;
  timeCreated?: string;
  timeModified?: string;
  editSequence: string;
  txnNumber?: number;
  customerRef?: QbRef;
  classRef?: QbRef;
  templateRef?: QbRef;
  txnDate?: string;
  refNumber?: string;
  billAddress?: QbAddress;
  shipAddress?: QbAddress;
  poNumber?: string;
  termsRef?: QbRef;
  dueDate?: string;
  salesRepRef?: QbRef;
  fob?: string;
  shipDate?: string;
  shipMethodRef?: QbRef;
  subtotal?: string;
  itemSalesTaxRef?: QbRef;
  salesTaxPercentage?: string;
  salesTaxTotal?: string;
  currencyRef?: QbRef;
  exchangeRate?: string;
  memo?: string;
  customerMsgRef?: QbRef;
  isToBePrinted?: boolean;
  isToBeEmailed?: boolean;
  isTaxIncluded?: boolean;
  customerSalesTaxCodeRef?: QbRef;
  other?: string;
  externalGuid?: string;
  linkedTxns?: LinkedTxn[];
  lines?: TxnLineRet[];
  dataExt?: DataExtValue[];
}

export interface InvoiceRet extends TxnRecordBase {
  kind: 'Invoice';
  arAccountRef?: QbRef;
  isPending?: boolean;
  isFinanceCharge?: boolean;
  appliedAmount?: string;
  balanceRemaining?: string;
  balanceRemainingInHomeCurrency?: string;
  isPaid?: boolean;
  suggestedDiscountAmount?: string;
  suggestedDiscountDate?: string;
}

export interface SalesOrderRet extends TxnRecordBase {
  kind: 'SalesOrder';
  totalAmount?: string;
  totalAmountInHomeCurrency?: string;
  isManuallyClosed?: boolean;
  isFullyInvoiced?: boolean;
}

export interface EstimateRet extends TxnRecordBase {
  kind: 'Estimate';
  isActive?: boolean;
  totalAmount?: string;
  totalAmountInHomeCurrency?: string;
}

export interface DataExtRet {
  kind: 'DataExt';
  ownerId: string;
  name: string;
  type?: string;
  value: string;
}

export interface DataExtDefRet {
  kind: 'DataExtDef';
  ownerId: string;
  dataExtId?: number;
  dataExtName: string;
  dataExtType: string;
  assignToObject?: string[];
  dataExtListRequire?: boolean;
  dataExtTxnRequire?: boolean;
  dataExtFormatString?: string;
}

/** A list record deleted from the company file, as `ListDeletedQueryRs` reports it. */
export interface ListDeletedRet {
  kind: 'ListDeleted';
  listDelType: string;
  listId: string;
  timeCreated?: string;
  timeDeleted: string;
  fullName?: string;
}

/** A transaction deleted from the company file, as `TxnDeletedQueryRs` reports it. */
export interface TxnDeletedRet {
  kind: 'TxnDeleted';
  txnDelType: string;
  txnId: string;
  timeCreated?: string;
  timeDeleted: string;
  refNumber?: string;
}

export type QbRecord =
  | CustomerRet
  | VendorRet
  | ItemInventoryRet
  | ItemNonInventoryRet
  | ItemServiceRet
  | ItemOtherChargeRet
  | ItemDiscountRet
  | CustomerTypeRet
  | ClassRet
  | InvoiceRet
  | SalesOrderRet
  | EstimateRet
  | DataExtRet
  | DataExtDefRet
  | ListDeletedRet
  | TxnDeletedRet;

export type QbRecordKind = QbRecord['kind'];

export interface QbxmlResponse {
  requestId?: string;
  /** The response element name, e.g. `CustomerQueryRs`. */
  type: string;
  statusCode: number;
  statusSeverity: StatusSeverity;
  statusMessage: string;
  retCount?: number;
  iteratorId?: string;
  iteratorRemainingCount?: number;
  records: QbRecord[];
}

export type StatusClass = 'ok' | 'empty' | 'warning' | 'error';

/**
 * Non-zero is not automatically fatal: 1 means "nothing matched", 500–999 are warnings whose results were
 * still processed, and only 1000+ (or an Error severity) means the request failed.
 */
export function classifyStatus(res: Pick<QbxmlResponse, 'statusCode' | 'statusSeverity'>): StatusClass {
  if (res.statusCode === 1) return 'empty';
  if (res.statusCode >= 1000 || res.statusSeverity === 'Error') return 'error';
  if (res.statusCode >= 500 || res.statusSeverity === 'Warn') return 'warning';
  return 'ok';
}
