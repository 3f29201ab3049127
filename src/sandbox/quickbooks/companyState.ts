import type { Namespace } from './contentModel';

/** A stored field, named as in the Ret element; `ref` holds the ListID of a referenced list record. */
export interface StoredNode {
  n: string;
  t?: string;
  c?: StoredNode[];
  ref?: string;
}

export const itemKinds = [
  'ItemService',
  'ItemNonInventory',
  'ItemInventory',
  'ItemOtherCharge',
  'ItemDiscount',
] as const;
export type ItemKind = (typeof itemKinds)[number];
export type ListKind = 'Customer' | 'Vendor' | 'CustomerType' | 'VendorType' | 'Class' | 'Terms' | 'Account' | ItemKind;
export type TxnKind = 'Invoice' | 'SalesOrder' | 'Estimate';

export interface ListRecord {
  kind: ListKind;
  listId: string;
  created: number;
  modified: number;
  editSequence: string;
  name: string;
  parentId?: string;
  isActive: boolean;
  fields: StoredNode[];
}

export interface TxnLine {
  txnLineId: string;
  itemId?: string;
  fields: StoredNode[];
  amount: string;
  /** The sales-order line an invoice line was made from (`LinkToTxn`, `LinkToTxnID`); absent on unlinked lines. */
  link?: { txnId: string; txnLineId: string };
}

export interface TxnRecord {
  kind: TxnKind;
  txnId: string;
  created: number;
  modified: number;
  editSequence: string;
  txnNumber: number;
  customerId: string;
  refNumber: string;
  txnDate: string;
  fields: StoredNode[];
  lines: TxnLine[];
  /** Payments applied so far (positive), lowering BalanceRemaining. */
  paid: string;
}

export interface DataExtDef {
  ownerId: string;
  name: string;
  type: string;
  assignTo: string[];
  /** QuickBooks' number for the definition, kept for life (files saved before it was stored number by position). */
  dataExtId?: number;
  listRequire?: boolean;
  txnRequire?: boolean;
  formatString?: string;
}

export interface DataExtValue {
  ownerId: string;
  name: string;
  objectId: string;
  lineId?: string;
  value: string;
}

/** A list record deleted from the company file, as `ListDeletedQuery` reports it. */
export interface DeletedListRecord {
  listDelType: ListKind;
  listId: string;
  created: number;
  deleted: number;
  fullName: string;
}

/* Sales tax: codes say whether a line or customer is taxed, items carry the rate (see salesTax.ts). */
export interface SalesTaxCode {
  name: string;
  taxable: boolean;
  listId?: string;
}

export interface SalesTaxItem {
  name: string;
  /** Percent, e.g. `7.25`. */
  ratePercent: string;
  listId?: string;
}

export interface SalesTaxTable {
  codes: SalesTaxCode[];
  items: SalesTaxItem[];
}

/** A transaction deleted from the company file, as `TxnDeletedQuery` reports it. */
export interface DeletedTxnRecord {
  txnDelType: TxnKind;
  txnId: string;
  created: number;
  deleted: number;
  refNumber: string;
}

/** Everything a company file holds, JSON-serialisable so it can be persisted and snapshotted as one value. */
export interface CompanyState {
  schemaVersion: 1;
  counters: { list: number; txn: number; txnNumber: number; refNumber: number; line: number };
  lists: ListRecord[];
  txns: TxnRecord[];
  dataExtDefs: DataExtDef[];
  dataExtValues: DataExtValue[];
  /** Absent in company files saved before deletions were simulated. */
  deletedLists?: DeletedListRecord[];
  deletedTxns?: DeletedTxnRecord[];
  /** Sales tax codes and items; absent: the two default codes and no tax item (no tax is computed). */
  salesTax?: SalesTaxTable;
}

export function emptyState(): CompanyState {
  return {
    schemaVersion: 1,
    counters: { list: 0x80000000, txn: 0, txnNumber: 0, refNumber: 0, line: 0 },
    lists: [],
    txns: [],
    dataExtDefs: [],
    dataExtValues: [],
    deletedLists: [],
    deletedTxns: [],
  };
}

/** Which kinds a Ref of a given target may point at. */
export function kindsFor(target: Namespace): readonly ListKind[] {
  switch (target) {
    case 'Entity':
      return ['Customer', 'Vendor'];
    case 'Item':
      return itemKinds;
    case 'Other':
      return [];
    default:
      return [target];
  }
}

/** Names are unique per namespace: customers and vendors share one (with Other Names/Employees), items another. */
export function uniquenessNamespace(kind: ListKind): string {
  if (kind === 'Customer' || kind === 'Vendor') return 'Entity';
  if ((itemKinds as readonly string[]).includes(kind)) return 'Item';
  return kind;
}

export function isItemKind(kind: string): kind is ItemKind {
  return (itemKinds as readonly string[]).includes(kind);
}
