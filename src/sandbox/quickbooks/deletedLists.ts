import type { XmlElement } from './xml';
import type { DeletedListRecord, DeletedTxnRecord, StoredNode } from './companyState';
import { dateFilter } from './listRequests';
import { childText, childTexts, type RequestContext, type RequestOutcome } from './requestContext';
import { recordInUse, RequestFailure, statusMessages, unknownObject } from './requestFailure';
import { renderNodes, textNode } from './retRender';

/**
 * Deleting list records and transactions and asking which were deleted (qbXML 13 `ListDelRq`, `ListDeletedQueryRq`,
 * `TxnDelRq`, `TxnDeletedQueryRq`; reference §13). The connector never deletes; the simulator deletes so that tests
 * can do what a bookkeeper does in QuickBooks.
 */

/** qbXML 13 `ListDelType` enumeration (qbxml130.xsd). */
export const LIST_DEL_TYPES = [
  'Account',
  'BillingRate',
  'Class',
  'Currency',
  'Customer',
  'CustomerMsg',
  'CustomerType',
  'DateDrivenTerms',
  'Employee',
  'InventorySite',
  'ItemDiscount',
  'ItemFixedAsset',
  'ItemGroup',
  'ItemInventory',
  'ItemInventoryAssembly',
  'ItemNonInventory',
  'ItemOtherCharge',
  'ItemPayment',
  'ItemSalesTax',
  'ItemSalesTaxGroup',
  'ItemService',
  'ItemSubtotal',
  'JobType',
  'OtherName',
  'PaymentMethod',
  'PayrollItemNonWage',
  'PayrollItemWage',
  'PriceLevel',
  'SalesRep',
  'SalesTaxCode',
  'ShipMethod',
  'StandardTerms',
  'ToDo',
  'UnitOfMeasureSet',
  'Vehicle',
  'Vendor',
  'VendorType',
  'WorkersCompCode',
] as const;

function deletedFields(d: DeletedListRecord, ctx: RequestContext, withCreated: boolean): StoredNode[] {
  return [
    textNode('ListDelType', d.listDelType),
    textNode('ListID', d.listId),
    ...(withCreated ? [textNode('TimeCreated', ctx.clock.formatDateTime(d.created))] : []),
    textNode('TimeDeleted', ctx.clock.formatDateTime(d.deleted)),
    textNode('FullName', d.fullName),
  ];
}

/**
 * `ListDelRq`: the record of that type is removed. QuickBooks refuses to delete a record other data still uses (a
 * customer with jobs or transactions, an item on a transaction line); the status it answers is an assumption (3175,
 * "the list element is in use", the nearest documented text), since the SDK's list of codes does not name one.
 */
export function deleteListRecord(rq: XmlElement, ctx: RequestContext): RequestOutcome {
  const type = childText(rq, 'ListDelType') ?? '';
  const listId = childText(rq, 'ListID') ?? '';
  const record = ctx.store.list(listId);
  if (!record || record.kind !== type) throw unknownObject(listId, 'ListID');
  const { store } = ctx;
  const used =
    store.state.lists.some((r) => r.parentId === listId) ||
    store.state.txns.some((t) => t.customerId === listId || t.lines.some((l) => l.itemId === listId));
  if (used) {
    const failure = recordInUse(3175, type, listId);
    throw new RequestFailure(failure.statusCode, failure.message.replace('modifying', 'deleting'));
  }
  const deleted = store.deleteList(record, ctx.clock.nowSeconds());
  ctx.markDirty();
  // ListDelRs carries its fields directly, not inside a Ret element.
  return { body: renderNodes(deletedFields(deleted, ctx, false), ctx.store) };
}

/** `ListDeletedQueryRq`: the deletions of the asked types, optionally within a DeletedDateRangeFilter, oldest first. */
export function queryDeletedLists(rq: XmlElement, ctx: RequestContext): RequestOutcome {
  const types = new Set(childTexts(rq, 'ListDelType'));
  const range = rq.children.find((c) => c.name === 'DeletedDateRangeFilter');
  const from = range ? dateFilter(range, 'FromDeletedDate', ctx, false) : undefined;
  const to = range ? dateFilter(range, 'ToDeletedDate', ctx, true) : undefined;
  const found = ctx.store
    .deletedLists()
    .filter((d) => types.has(d.listDelType))
    .filter((d) => inRange(ctx.clock.wallSeconds(d.deleted), from, to))
    .sort((a, b) => a.deleted - b.deleted);
  if (found.length === 0) {
    return { body: '', statusCode: 1, statusSeverity: 'Info', statusMessage: statusMessages.noMatch };
  }
  const rets = found.map((d): StoredNode => ({ n: 'ListDeletedRet', c: deletedFields(d, ctx, true) }));
  return { body: renderNodes(rets, ctx.store) };
}

/** qbXML 13 `TxnDelType` enumeration (qbxml130.xsd). */
export const TXN_DEL_TYPES = [
  'ARRefundCreditCard',
  'Bill',
  'BillPaymentCheck',
  'BillPaymentCreditCard',
  'BuildAssembly',
  'Charge',
  'Check',
  'CreditCardCharge',
  'CreditCardCredit',
  'CreditMemo',
  'Deposit',
  'Estimate',
  'InventoryAdjustment',
  'Invoice',
  'ItemReceipt',
  'JournalEntry',
  'PayrollLiabilityAdjustment',
  'PayrollPriorPayment',
  'PayrollYearToDateAdjustment',
  'PurchaseOrder',
  'ReceivePayment',
  'SalesOrder',
  'SalesReceipt',
  'SalesTaxPaymentCheck',
  'TimeTracking',
  'TransferInventory',
  'VehicleMileage',
  'VendorCredit',
] as const;

function deletedTxnFields(d: DeletedTxnRecord, ctx: RequestContext, withCreated: boolean): StoredNode[] {
  return [
    textNode('TxnDelType', d.txnDelType),
    textNode('TxnID', d.txnId),
    ...(withCreated ? [textNode('TimeCreated', ctx.clock.formatDateTime(d.created))] : []),
    textNode('TimeDeleted', ctx.clock.formatDateTime(d.deleted)),
    textNode('RefNumber', d.refNumber),
  ];
}

/** `TxnDelRq`: the transaction of that type is removed with its lines. */
export function deleteTxnRecord(rq: XmlElement, ctx: RequestContext): RequestOutcome {
  const type = childText(rq, 'TxnDelType') ?? '';
  const txnId = childText(rq, 'TxnID') ?? '';
  const txn = ctx.store.txn(txnId);
  if (!txn || txn.kind !== type) throw unknownObject(txnId, 'TxnID');
  const deleted = ctx.store.deleteTxn(txn, ctx.clock.nowSeconds());
  ctx.markDirty();
  return { body: renderNodes(deletedTxnFields(deleted, ctx, false), ctx.store) };
}

/** `TxnDeletedQueryRq`: the deletions of the asked types, optionally within a DeletedDateRangeFilter, oldest first. */
export function queryDeletedTxns(rq: XmlElement, ctx: RequestContext): RequestOutcome {
  const types = new Set(childTexts(rq, 'TxnDelType'));
  const range = rq.children.find((c) => c.name === 'DeletedDateRangeFilter');
  const from = range ? dateFilter(range, 'FromDeletedDate', ctx, false) : undefined;
  const to = range ? dateFilter(range, 'ToDeletedDate', ctx, true) : undefined;
  const found = ctx.store
    .deletedTxns()
    .filter((d) => types.has(d.txnDelType))
    .filter((d) => inRange(ctx.clock.wallSeconds(d.deleted), from, to))
    .sort((a, b) => a.deleted - b.deleted);
  if (found.length === 0) {
    return { body: '', statusCode: 1, statusSeverity: 'Info', statusMessage: statusMessages.noMatch };
  }
  const rets = found.map((d): StoredNode => ({ n: 'TxnDeletedRet', c: deletedTxnFields(d, ctx, true) }));
  return { body: renderNodes(rets, ctx.store) };
}

/** A deletion's local time within a DeletedDateRangeFilter (QuickBooks compares local times). */
function inRange(wall: number, from: number | undefined, to: number | undefined): boolean {
  return (from === undefined || wall >= from) && (to === undefined || wall <= to);
}
