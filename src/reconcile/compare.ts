import { deletedInQuickBooks, invoiceDeletedOnOrder } from '../mapping/quickbooksDeletions';
import {
  type AccountMappingContext,
  type AccountRecord,
  accountSyncFields,
  customerToAccount,
  Dec,
  invoiceTotalsDifference,
  itemToProduct,
  type MappingError,
  type MappingResult,
  type ProductRecord,
  productSyncFields,
  RelationshipType,
  sameDecimal,
  type SyncedItem,
  type SyncFields,
  vendorToAccount,
} from '../mapping';
import {
  numericColumns,
  orderIdOfInvoiceLink,
  SYNC_BASE_COLUMN,
  TABLES,
  TXN_ID_COLUMN,
} from '../mapping/entityRegistry';
import { type CustomerRet, type InvoiceRet, type QbRecord, type VendorRet } from '../qbxml/requests';
import {
  type AmountDifference,
  CappedList,
  type ColumnDifference,
  type ColumnValue,
  DEFAULT_LIST_LIMIT,
  type EntityReconciliation,
  type FieldDifference,
  type OnlyInDynamics,
  type OnlyInQuickBooks,
  type OrderWithoutInvoice,
  type ReconcileReport,
  reportInAgreement,
  type SalesTaxOnlyInQuickBooks,
  type Unmappable,
} from './report';

/**
 * Pure comparison of one connection's QuickBooks records with its Dataverse rows. Inputs are compact projections so
 * the reconcile workflow can hold a 10,000-customer company file in memory: each QuickBooks record is reduced, as it
 * arrives, to the Dataverse values the mapping says it should have (or the reasons it cannot be mapped).
 */

/** A Dataverse row as read for reconciliation: only the selected columns, money as decimal text. */
export type DynamicsRow = Readonly<Record<string, ColumnValue>>;

/**
 * A QuickBooks list record as the synced fields its Dataverse row should hold (the sync's own projection, so the
 * reconciliation never reports a column the sync does not keep aligned), or why it cannot be mapped.
 */
export type ListProjection =
  | { key: string; name: string; expected: SyncFields; parentListId?: string }
  | { key: string; name: string; errors: MappingError[] };

/** What the comparison needs of a QuickBooks invoice. */
export interface InvoiceProjection {
  txnId: string;
  refNumber: string;
  customerListId: string;
  subtotal?: string;
  salesTaxTotal?: string;
  /** Set by the connector's InvoiceAdd to the order's id (`{GUID}`). */
  externalGuid?: string;
}

/** A Dataverse sales order of this connection (its customer account belongs to the connection). */
export interface OrderProjection {
  id: string;
  orderNumber: string;
  name: string;
  totalamount: string | null;
  /** The order's own tax (`totaltax`); null or absent when Dynamics computed none. */
  totaltax?: string | null;
  statecode: number | null;
  /** ListID of the order's customer account; '' when the account has none yet. */
  customerListId: string;
  txnId: string;
  invoiceNumber: string;
  /** The order shows that its invoice was deleted in QuickBooks: no invoice is expected for it any more. */
  invoiceDeleted?: boolean;
}

/**
 * How reconcile reads a table: the sync's own select (so it compares what the sync keeps aligned) without the sync
 * base, which is bookkeeping and up to 4,000 characters a row; money and decimals as decimal text, so `"5000"` and
 * `"5000.00"` compare by value, never as binary floats.
 */
export function comparedRead(table: 'account' | 'product' | 'salesorder'): {
  entitySet: string;
  select: readonly string[];
  decimalColumns: readonly string[];
} {
  // An order's own tax tells QuickBooks' sales tax apart from an amount difference; the sync does not read it.
  const extra = table === 'salesorder' ? [ORDER_TAX_COLUMN] : [];
  return {
    entitySet: TABLES[table].entitySet,
    select: [...TABLES[table].select.filter((column) => column !== SYNC_BASE_COLUMN), ...extra],
    decimalColumns: [...numericColumns(table), ...extra],
  };
}

const ORDER_TAX_COLUMN = 'totaltax';

/** `salesorder.statecode`: canceled orders are not due an invoice; invoiced ones show 4. */
const OrderState = { Canceled: 2, Invoiced: 4 } as const;

// ---- QuickBooks projections ------------------------------------------------------------------------------------

/** Only the columns the mapping set: a column it leaves out (a category without a customer type) is Dynamics'. */
function presentFields(write: object, fields: SyncFields): SyncFields {
  const out: Record<string, string | number | null> = {};
  for (const [column, value] of Object.entries(fields)) {
    if (Object.prototype.hasOwnProperty.call(write, column)) out[column] = value;
  }
  return out;
}

function projection<T extends object>(
  key: string,
  name: string,
  result: MappingResult<T>,
  fieldsOf: (write: T) => SyncFields,
  parentListId: string | undefined,
): ListProjection {
  if (!result.ok) return { key, name, errors: result.errors };
  const expected = presentFields(result.value, fieldsOf(result.value));
  // The write binds the parent by key; the reconciliation compares ListIDs instead (see compareListEntity).
  const hasParent = Object.keys(result.value).some((c) => c.startsWith('parentaccountid'));
  return hasParent && parentListId ? { key, name, expected, parentListId } : { key, name, expected };
}

export function projectCustomer(c: CustomerRet, ctx: AccountMappingContext): ListProjection {
  return projection(c.listId, c.fullName ?? c.name, customerToAccount(c, ctx), accountSyncFields, c.parentRef?.listId);
}

export function projectVendor(v: VendorRet, ctx: AccountMappingContext): ListProjection {
  return projection(v.listId, v.name, vendorToAccount(v, ctx), accountSyncFields, undefined);
}

const SYNCED_ITEM_KINDS: ReadonlySet<string> = new Set(['ItemService', 'ItemNonInventory', 'ItemInventory']);

function isSyncedItem(record: QbRecord): record is SyncedItem {
  return SYNCED_ITEM_KINDS.has(record.kind);
}

/** Undefined for item kinds that have no product (discounts, other charges, …). */
export function projectItem(record: QbRecord, ctx: { companyFile: string }): ListProjection | undefined {
  if (!isSyncedItem(record)) return undefined;
  return projection(
    record.listId,
    record.fullName ?? record.name,
    itemToProduct(record, ctx),
    productSyncFields,
    undefined,
  );
}

export function projectInvoice(invoice: InvoiceRet): InvoiceProjection {
  const projected: InvoiceProjection = {
    txnId: invoice.txnId,
    refNumber: invoice.refNumber ?? '',
    customerListId: invoice.customerRef?.listId ?? '',
  };
  if (invoice.subtotal !== undefined) projected.subtotal = invoice.subtotal;
  if (invoice.salesTaxTotal !== undefined) projected.salesTaxTotal = invoice.salesTaxTotal;
  if (invoice.externalGuid !== undefined) projected.externalGuid = invoice.externalGuid;
  return projected;
}

// ---- list entities ---------------------------------------------------------------------------------------------

function text(value: ColumnValue | undefined): string {
  return value === undefined || value === null ? '' : String(value);
}

interface Collected {
  onlyInQuickBooks: CappedList<OnlyInQuickBooks>;
  onlyInDynamics: CappedList<OnlyInDynamics>;
  fieldDifferences: CappedList<FieldDifference>;
  unmappable: CappedList<Unmappable>;
}

function collector(limit: number): Collected {
  return {
    onlyInQuickBooks: new CappedList(limit),
    onlyInDynamics: new CappedList(limit),
    fieldDifferences: new CappedList(limit),
    unmappable: new CappedList(limit),
  };
}

function entityResult(
  counts: { quickbooks: number; dynamics: number; matched: number },
  c: Collected,
): EntityReconciliation {
  return {
    ...counts,
    onlyInQuickBooks: c.onlyInQuickBooks.items,
    onlyInDynamics: c.onlyInDynamics.items,
    fieldDifferences: c.fieldDifferences.items,
    unmappable: c.unmappable.items,
    totals: {
      onlyInQuickBooks: c.onlyInQuickBooks.total,
      onlyInDynamics: c.onlyInDynamics.total,
      fieldDifferences: c.fieldDifferences.total,
      unmappable: c.unmappable.total,
    },
  };
}

export interface ListComparisonInput {
  quickbooks: readonly ListProjection[];
  dynamics: readonly DynamicsRow[];
  /** `accountid` / `productid`. */
  idColumn: string;
  /** The sync's projection of a Dataverse row (`accountSyncFields`, `productSyncFields`). */
  fieldsOf: (row: DynamicsRow) => SyncFields;
  /** Dataverse id → ListID of every account of the connection, to compare parent lookups as ListIDs. */
  listIdOfAccount?: ReadonlyMap<string, string>;
  listLimit?: number;
}

/** Pairs records by ListID (`qbsync_qblistid`) and reports what one side lacks and which synced columns differ. */
export function compareListEntity(input: ListComparisonInput): EntityReconciliation {
  const found = collector(input.listLimit ?? DEFAULT_LIST_LIMIT);
  const rowsByListId = new Map<string, DynamicsRow>();
  for (const row of input.dynamics) {
    // Its QuickBooks record was deleted and the row deactivated for it: the two agree that it is gone.
    if (deletedInQuickBooks(row as { qbsync_qbdeletedon?: string | null })) continue;
    const listId = text(row.qbsync_qblistid);
    if (listId === '' || rowsByListId.has(listId)) {
      found.onlyInDynamics.push({ key: listId, id: text(row[input.idColumn]), name: text(row.name) });
    } else {
      rowsByListId.set(listId, row);
    }
  }
  let matched = 0;
  const paired = new Set<string>();
  for (const record of input.quickbooks) {
    const row = rowsByListId.get(record.key);
    if (row !== undefined) {
      matched += 1;
      paired.add(record.key);
    }
    if ('errors' in record) {
      found.unmappable.push({ key: record.key, name: record.name, errors: record.errors });
      continue;
    }
    if (row === undefined) {
      found.onlyInQuickBooks.push({ key: record.key, name: record.name });
      continue;
    }
    const columns = differingColumns(record, row, input);
    if (Object.keys(columns).length > 0) {
      found.fieldDifferences.push({ key: record.key, name: record.name, id: text(row[input.idColumn]), columns });
    }
  }
  for (const [listId, row] of rowsByListId) {
    if (!paired.has(listId)) {
      found.onlyInDynamics.push({ key: listId, id: text(row[input.idColumn]), name: text(row.name) });
    }
  }
  return entityResult({ quickbooks: input.quickbooks.length, dynamics: input.dynamics.length, matched }, found);
}

function differingColumns(
  record: { expected: SyncFields; parentListId?: string },
  row: DynamicsRow,
  input: ListComparisonInput,
): Record<string, ColumnDifference> {
  const columns: Record<string, ColumnDifference> = {};
  const actual = input.fieldsOf(row);
  for (const [column, want] of Object.entries(record.expected)) {
    const have = actual[column] ?? null;
    if (want !== have) columns[column] = { quickbooks: want, dynamics: have };
  }
  if (record.parentListId !== undefined) {
    const parentId = text(row._parentaccountid_value);
    const parentListId = parentId === '' ? '' : (input.listIdOfAccount?.get(parentId) ?? `(account ${parentId})`);
    if (parentListId !== record.parentListId) {
      columns.parentaccountid = {
        quickbooks: record.parentListId,
        dynamics: parentListId === '' ? null : parentListId,
      };
    }
  }
  return columns;
}

const VENDOR_TYPES: ReadonlySet<ColumnValue> = new Set([RelationshipType.Vendor, RelationshipType.Supplier]);

/**
 * Customers and vendors both become accounts. An account paired with a customer or vendor counts for that list; an
 * unpaired one by its relationship type (Vendor/Supplier → vendors, anything else → customers).
 */
function compareAccounts(input: {
  customers: readonly ListProjection[];
  vendors: readonly ListProjection[];
  accounts: readonly DynamicsRow[];
  listLimit?: number;
}): { customers: EntityReconciliation; vendors: EntityReconciliation } {
  const customerKeys = new Set(input.customers.map((c) => c.key));
  const vendorKeys = new Set(input.vendors.map((v) => v.key));
  const listIdOfAccount = new Map<string, string>();
  const customerAccounts: DynamicsRow[] = [];
  const vendorAccounts: DynamicsRow[] = [];
  for (const account of input.accounts) {
    const listId = text(account.qbsync_qblistid);
    if (listId !== '') listIdOfAccount.set(text(account.accountid), listId);
    const isVendor =
      vendorKeys.has(listId) || (!customerKeys.has(listId) && VENDOR_TYPES.has(account.customertypecode ?? null));
    (isVendor ? vendorAccounts : customerAccounts).push(account);
  }
  const common = {
    idColumn: 'accountid',
    fieldsOf: (row: DynamicsRow) => accountSyncFields(row as AccountRecord),
    listIdOfAccount,
    ...(input.listLimit !== undefined ? { listLimit: input.listLimit } : {}),
  };
  return {
    customers: compareListEntity({ ...common, quickbooks: input.customers, dynamics: customerAccounts }),
    vendors: compareListEntity({ ...common, quickbooks: input.vendors, dynamics: vendorAccounts }),
  };
}

// ---- orders and invoices ---------------------------------------------------------------------------------------

/** Orders whose lines must be looked up: only an order with lines is due an invoice. */
export function ordersNeedingLineCheck(orders: readonly OrderProjection[]): string[] {
  return orders.filter((o) => o.txnId === '' && o.statecode !== OrderState.Canceled).map((o) => o.id);
}

export interface OrderComparison {
  orders: EntityReconciliation;
  ordersWithoutInvoice: OrderWithoutInvoice[];
  amountDifferences: AmountDifference[];
  salesTaxOnlyInQuickBooks: SalesTaxOnlyInQuickBooks[];
  totals: { ordersWithoutInvoice: number; amountDifferences: number; salesTaxOnlyInQuickBooks: number };
}

/**
 * Orders pair with invoices through the TxnID the order records. QuickBooks invoices nobody created from an order
 * (typed in QuickBooks) are outside the sync and ignored; an invoice carrying an order's id (ExternalGUID) that the
 * order does not record is reported as only in QuickBooks: the connector created it but never wrote it back.
 */
export function compareOrders(input: {
  orders: readonly OrderProjection[];
  invoices: readonly InvoiceProjection[];
  /** Orders (among `ordersNeedingLineCheck`) that have at least one line. */
  orderIdsWithLines: ReadonlySet<string>;
  listLimit?: number;
}): OrderComparison {
  const limit = input.listLimit ?? DEFAULT_LIST_LIMIT;
  const found = collector(limit);
  const withoutInvoice = new CappedList<OrderWithoutInvoice>(limit);
  const amounts = new CappedList<AmountDifference>(limit);
  const taxOnlyInQuickBooks = new CappedList<SalesTaxOnlyInQuickBooks>(limit);
  const invoiceByTxnId = new Map(input.invoices.map((i) => [i.txnId, i]));
  const ordersById = new Map(input.orders.map((o) => [o.id.toLowerCase(), o]));
  const recorded = new Set(input.orders.map((o) => o.txnId).filter((t) => t !== ''));
  const invoiceForOrder = new Map<string, InvoiceProjection>();
  for (const invoice of input.invoices) {
    const orderKey = orderIdOfInvoiceLink(invoice.externalGuid);
    if (orderKey !== null && ordersById.has(orderKey) && !recorded.has(invoice.txnId)) {
      invoiceForOrder.set(orderKey, invoice);
    }
  }

  let dynamics = 0;
  let matched = 0;
  for (const order of input.orders) {
    const name = order.orderNumber || order.name;
    if (order.txnId === '') {
      if (order.statecode === OrderState.Canceled || !input.orderIdsWithLines.has(order.id)) continue;
      dynamics += 1;
      // An invoice made for this order but not written back is reported once, as only in QuickBooks (below).
      if (invoiceForOrder.has(order.id.toLowerCase())) continue;
      withoutInvoice.push({
        id: order.id,
        orderNumber: order.orderNumber,
        name: order.name,
        customerListId: order.customerListId,
        statecode: order.statecode,
      });
      continue;
    }
    const invoice = invoiceByTxnId.get(order.txnId);
    // The invoice was deleted in QuickBooks and the order says so: nothing is expected on either side.
    if (invoice === undefined && order.invoiceDeleted === true) continue;
    dynamics += 1;
    if (invoice === undefined) {
      found.onlyInDynamics.push({ key: order.txnId, id: order.id, name });
      continue;
    }
    matched += 1;
    const columns: Record<string, ColumnDifference> = {};
    if (invoice.refNumber !== order.invoiceNumber) {
      columns.qbsync_invoicenumber = { quickbooks: invoice.refNumber, dynamics: order.invoiceNumber || null };
    }
    if (order.statecode !== OrderState.Invoiced) {
      columns.statecode = { quickbooks: OrderState.Invoiced, dynamics: order.statecode };
    }
    if (invoice.customerListId !== order.customerListId) {
      columns.customerid = { quickbooks: invoice.customerListId, dynamics: order.customerListId || null };
    }
    if (Object.keys(columns).length > 0) {
      found.fieldDifferences.push({ key: order.txnId, name, id: order.id, columns });
    }
    const totals = invoiceTotalsDifference(
      { totalamount: order.totalamount },
      { subtotal: invoice.subtotal, salesTaxTotal: invoice.salesTaxTotal },
    );
    if (!totals.ok) {
      found.unmappable.push({ key: order.txnId, name, errors: totals.errors });
    } else if (salesTaxOnlyInQuickBooks(order, invoice, totals.value.difference)) {
      taxOnlyInQuickBooks.push({
        id: order.id,
        orderNumber: order.orderNumber,
        txnId: order.txnId,
        invoiceNumber: invoice.refNumber,
        orderTotal: totals.value.orderTotal,
        invoiceTotal: totals.value.invoiceTotal,
        salesTax: totals.value.difference,
      });
    } else if (totals.value.difference !== '0.00') {
      amounts.push({
        id: order.id,
        orderNumber: order.orderNumber,
        txnId: order.txnId,
        invoiceNumber: invoice.refNumber,
        orderTotal: totals.value.orderTotal,
        invoiceTotal: totals.value.invoiceTotal,
        difference: totals.value.difference,
      });
    }
  }
  for (const [orderKey, invoice] of invoiceForOrder) {
    const order = ordersById.get(orderKey);
    found.onlyInQuickBooks.push({
      key: invoice.txnId,
      name: `invoice ${invoice.refNumber || invoice.txnId} for order ${order?.orderNumber || order?.name || orderKey}`,
    });
  }
  const quickbooks = matched + invoiceForOrder.size;
  return {
    orders: entityResult({ quickbooks, dynamics, matched }, found),
    ordersWithoutInvoice: withoutInvoice.items,
    amountDifferences: amounts.items,
    salesTaxOnlyInQuickBooks: taxOnlyInQuickBooks.items,
    totals: {
      ordersWithoutInvoice: withoutInvoice.total,
      amountDifferences: amounts.total,
      salesTaxOnlyInQuickBooks: taxOnlyInQuickBooks.total,
    },
  };
}

/**
 * Dynamics computes no US sales tax: an order typically carries none of its own, and QuickBooks adds the tax its
 * codes and items call for when it invoices the order. The invoice then exceeds the order by exactly the tax
 * QuickBooks computed, which is expected and explained, not an amount mismatch. Only that exact case: an order with
 * tax of its own, or any other difference, is still an amount difference.
 */
function salesTaxOnlyInQuickBooks(order: OrderProjection, invoice: InvoiceProjection, difference: string): boolean {
  const orderTax = order.totaltax?.trim() || '0';
  const quickbooksTax = invoice.salesTaxTotal?.trim() ?? '';
  if (!DECIMAL.test(quickbooksTax) || !new Dec(quickbooksTax).gt(0)) return false;
  return sameDecimal(orderTax, '0') && sameDecimal(quickbooksTax, difference);
}

const DECIMAL = /^[-+]?(\d+(\.\d*)?|\.\d+)$/;

// ---- the report ------------------------------------------------------------------------------------------------

export interface ReconcileInput {
  connection: string;
  generatedAt: string;
  customers: readonly ListProjection[];
  vendors: readonly ListProjection[];
  items: readonly ListProjection[];
  /** Accounts of the connection (and, for the connection receiving new accounts, unclaimed customer accounts). */
  accounts: readonly DynamicsRow[];
  products: readonly DynamicsRow[];
  orders: readonly OrderProjection[];
  invoices: readonly InvoiceProjection[];
  orderIdsWithLines: ReadonlySet<string>;
  listLimit?: number;
}

export function reconcileConnection(input: ReconcileInput): ReconcileReport {
  const listLimit = input.listLimit ?? DEFAULT_LIST_LIMIT;
  const { customers, vendors } = compareAccounts({
    customers: input.customers,
    vendors: input.vendors,
    accounts: input.accounts,
    listLimit,
  });
  const items = compareListEntity({
    quickbooks: input.items,
    dynamics: input.products,
    idColumn: 'productid',
    fieldsOf: (row) => productSyncFields(row as ProductRecord),
    listLimit,
  });
  const orders = compareOrders({
    orders: input.orders,
    invoices: input.invoices,
    orderIdsWithLines: input.orderIdsWithLines,
    listLimit,
  });
  const report: Omit<ReconcileReport, 'inAgreement'> = {
    connection: input.connection,
    generatedAt: input.generatedAt,
    entities: { customers, vendors, items, orders: orders.orders },
    ordersWithoutInvoice: orders.ordersWithoutInvoice,
    amountDifferences: orders.amountDifferences,
    salesTaxOnlyInQuickBooks: orders.salesTaxOnlyInQuickBooks,
    totals: orders.totals,
    listLimit,
  };
  return { ...report, inAgreement: reportInAgreement(report) };
}

/**
 * Orders whose QuickBooks invoice was deleted, as their invoice rows show it: an invoiced order is read-only, so the
 * deletion is recorded on its invoice row (canceled, status Deleted), matched to the order by the TxnID both carry.
 */
export function withDeletedInvoiceRows(
  orders: readonly OrderProjection[],
  invoiceRows: readonly DynamicsRow[],
): OrderProjection[] {
  const deleted = new Set(
    invoiceRows.filter((row) => invoiceDeletedOnOrder(row)).map((row) => text(row[TXN_ID_COLUMN])),
  );
  deleted.delete('');
  return orders.map((order) =>
    order.invoiceDeleted !== true && deleted.has(order.txnId) ? { ...order, invoiceDeleted: true } : order,
  );
}

/** A sales order row (read with `comparedRead('salesorder')`) as the comparison sees it. */
export function projectOrder(row: DynamicsRow, listIdOfAccount: ReadonlyMap<string, string>): OrderProjection {
  const total = row.totalamount;
  return {
    id: text(row.salesorderid).toLowerCase(),
    orderNumber: text(row.ordernumber),
    name: text(row.name),
    totalamount: total === undefined || total === null ? null : String(total),
    totaltax:
      row[ORDER_TAX_COLUMN] === undefined || row[ORDER_TAX_COLUMN] === null ? null : String(row[ORDER_TAX_COLUMN]),
    statecode: typeof row.statecode === 'number' ? row.statecode : null,
    customerListId: listIdOfAccount.get(text(row._customerid_value).toLowerCase()) ?? '',
    txnId: text(row.qbsync_qbtxnid),
    invoiceNumber: text(row.qbsync_invoicenumber),
    ...(invoiceDeletedOnOrder(row) ? { invoiceDeleted: true } : {}),
  };
}
