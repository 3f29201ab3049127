import type { ListDelType, ListDeletedRet } from '../qbxml/requests';
import { INACTIVE_STATE, rowStateChange } from './activeStatus';
import {
  DELETED_IN_QUICKBOOKS_COLUMN,
  ORDER_BALANCE_COLUMN,
  ORDER_INVOICE_STATUS_COLUMN,
  type QuickBooksEntity,
} from './entityRegistry';

/**
 * The decisions of the QuickBooks deletion flow: a customer, vendor or item deleted in QuickBooks (read by the poll
 * with `ListDeletedQuery`) deactivates its paired account or retires its product, and marks it with the time of the
 * deletion (`qbsync_qbdeletedon`). Dynamics rows are never deleted: orders, activities and history hang off them.
 * A marked row is no longer synced either way, since its QuickBooks record is gone.
 */

/** The list types the poll asks `ListDeletedQuery` about: those the connector syncs. */
export const DELETED_LIST_TYPES: readonly ListDelType[] = [
  'Customer',
  'Vendor',
  'ItemService',
  'ItemNonInventory',
  'ItemInventory',
];

/** The cursor key of the deletion read (its TimeDeleted, with the deletions already handed off, `:seen`). */
export const DELETIONS_CURSOR = 'qb:ListDeleted';

/** The record workflow a deletion of this list type belongs to, or null for a list the connector does not sync. */
export function deletedListEntity(listDelType: string): QuickBooksEntity | null {
  if (listDelType === 'Customer') return 'customer';
  if (listDelType === 'Vendor') return 'vendor';
  return (DELETED_LIST_TYPES as readonly string[]).includes(listDelType) ? 'item' : null;
}

/** The deletions read, by the entity whose record workflow takes them (in the order read). */
export function deletionsByEntity(deleted: readonly ListDeletedRet[]): Map<QuickBooksEntity, ListDeletedRet[]> {
  const by = new Map<QuickBooksEntity, ListDeletedRet[]>();
  for (const d of deleted) {
    const entity = deletedListEntity(d.listDelType);
    if (entity === null) continue;
    by.set(entity, [...(by.get(entity) ?? []), d]);
  }
  return by;
}

export interface DeletedRowPlan {
  /** Columns to write (state and status together, the mark); empty when the row already shows the deletion. */
  changes: Record<string, unknown>;
  outcome: 'deleted' | 'unchanged';
  note: string;
}

/** What the paired row must take for a deletion in QuickBooks: deactivated (retired) and marked with its time. */
export function planDeletedRow(
  table: 'account' | 'product',
  row: Readonly<Record<string, unknown>>,
  timeDeleted: string,
): DeletedRowPlan {
  const changes: Record<string, unknown> = { ...rowStateChange(table, INACTIVE_STATE, row.statecode) };
  if (row[DELETED_IN_QUICKBOOKS_COLUMN] !== timeDeleted) changes[DELETED_IN_QUICKBOOKS_COLUMN] = timeDeleted;
  const done = Object.keys(changes).length === 0;
  const what = table === 'account' ? 'account deactivated' : 'product retired';
  return {
    changes,
    outcome: done ? 'unchanged' : 'deleted',
    note: done
      ? `deleted in QuickBooks at ${timeDeleted}; the ${table} already shows it`
      : `deleted in QuickBooks at ${timeDeleted}: ${what} and marked (${DELETED_IN_QUICKBOOKS_COLUMN}), never deleted`,
  };
}

/** A row whose QuickBooks record was deleted is no longer synced: there is nothing left to sync it with. */
export function deletedInQuickBooks(row: { qbsync_qbdeletedon?: string | null }): boolean {
  const mark = row[DELETED_IN_QUICKBOOKS_COLUMN];
  return typeof mark === 'string' && mark.trim() !== '';
}

// ---- invoices ------------------------------------------------------------------------------------------------

/** The cursor key of the invoice deletion read (`TxnDeletedQuery`, TxnDelType Invoice). */
export const INVOICE_DELETIONS_CURSOR = 'qb:TxnDeleted';

/** The invoice status an order shows once its QuickBooks invoice was deleted (the column holds 20 characters). */
export const DELETED_INVOICE_STATUS = 'Deleted';

/**
 * What an order shows once the invoice made from it was deleted in QuickBooks: status Deleted and nothing owed. The
 * TxnID and number stay, so the order still says which invoice it was; the order itself stays Invoiced, the state the
 * platform keeps it in once invoiced.
 */
export function deletedInvoiceOnOrder(): Record<string, string> {
  return { [ORDER_INVOICE_STATUS_COLUMN]: DELETED_INVOICE_STATUS, [ORDER_BALANCE_COLUMN]: '0.00' };
}

/** An order already showing that its QuickBooks invoice was deleted. */
export function invoiceDeletedOnOrder(row: Readonly<Record<string, unknown>>): boolean {
  return row[ORDER_INVOICE_STATUS_COLUMN] === DELETED_INVOICE_STATUS;
}
