/**
 * The least-privilege security role the sync runs under (docs/deployment.md §4.2, "QuickBooks connector"): table
 * privileges at Organization depth, by table SchemaName as privilege names spell it (`prvWriteAccount`). No metadata
 * privilege: columns, keys and choice options are created by `qbsync provision` under an administrator's role.
 */
export type AccessRight = 'Create' | 'Read' | 'Write' | 'Delete' | 'Append' | 'AppendTo';

const FULL: readonly AccessRight[] = ['Create', 'Read', 'Write', 'Append', 'AppendTo'];

export const CONNECTOR_ROLE_NAME = 'QuickBooks connector';

const CONNECTOR_ROLE: Readonly<Record<string, readonly AccessRight[]>> = {
  Account: FULL,
  Contact: FULL,
  Product: FULL,
  ProductPriceLevel: FULL,
  SalesOrder: ['Read', 'Write', 'Append', 'AppendTo'],
  SalesOrderDetail: ['Read'],
  // The QuickBooks invoice as the order's invoice row (ConvertSalesOrderToInvoice copies the order's lines).
  Invoice: FULL,
  InvoiceDetail: ['Create', 'Read'],
  // Won opportunities become estimates; the estimate's TxnID and number go back onto them.
  Opportunity: ['Read', 'Write'],
  OpportunityProduct: ['Read'],
  UoM: ['Read', 'AppendTo'],
  UoMSchedule: ['Read', 'AppendTo'],
  PriceLevel: ['Read', 'AppendTo'],
  TransactionCurrency: ['Read'],
  Organization: ['Read'],
};

/** Every privilege name of the role (`prvCreateAccount`, …). */
export function connectorRolePrivileges(): string[] {
  return Object.entries(CONNECTOR_ROLE).flatMap(([table, rights]) => rights.map((right) => `prv${right}${table}`));
}
