/**
 * The least-privilege security role the sync runs under (docs/deployment.md §4.2, "QuickBooks connector"): what the
 * sync does on each table it reads and writes, and the privileges that takes, named as Dataverse names them. The
 * Dataverse sandbox enforces exactly this role, `qbsync check` verifies it against the application user, and a test
 * keeps the documentation's table in step with it. No metadata privilege: columns, keys and choice options are
 * created by `qbsync provision` under an administrator's role.
 */
export type AccessRight = 'Create' | 'Read' | 'Write' | 'Delete' | 'Append' | 'AppendTo';

const FULL: readonly AccessRight[] = ['Create', 'Read', 'Write', 'Append', 'AppendTo'];

export const CONNECTOR_ROLE_NAME = 'QuickBooks connector';

/** What the sync does on one table (by logical name), and why. */
export interface TableAccess {
  table: string;
  rights: readonly AccessRight[];
  why: string;
}

export const CONNECTOR_TABLE_ACCESS: readonly TableAccess[] = [
  {
    table: 'account',
    rights: FULL,
    why: 'QuickBooks customers and vendors become accounts; accounts made in Dynamics are read',
  },
  { table: 'contact', rights: FULL, why: 'primary contacts, bound to their account' },
  { table: 'product', rights: FULL, why: 'items ⇄ products, including publishing Draft products' },
  { table: 'productpricelevel', rights: FULL, why: 'product prices on the price list' },
  {
    table: 'pricelevel',
    rights: ['Read', 'AppendTo'],
    why: "price list items, accounts and a product's default price list refer to a price list",
  },
  { table: 'uom', rights: ['Read', 'AppendTo'], why: 'products refer to their unit' },
  { table: 'uomschedule', rights: ['Read', 'AppendTo'], why: 'products refer to their unit group' },
  {
    table: 'salesorder',
    rights: ['Read', 'Write', 'Append', 'AppendTo'],
    why: "orders become invoices; the order's TxnID and number, then its state Invoiced",
  },
  { table: 'salesorderdetail', rights: ['Read'], why: 'order lines' },
  // The QuickBooks invoice as the order's invoice row (ConvertSalesOrderToInvoice copies the order's lines).
  {
    table: 'invoice',
    rights: FULL,
    why: "the QuickBooks invoice as the order's invoice row, its balance and Paid state",
  },
  {
    table: 'invoicedetail',
    rights: ['Create', 'Read'],
    why: "the invoice row's lines, copied from the order by ConvertSalesOrderToInvoice",
  },
  // Won opportunities become estimates; the estimate's TxnID and number go back onto them.
  {
    table: 'opportunity',
    rights: ['Read', 'Write'],
    why: "won opportunities become estimates; the estimate's TxnID and number go onto them",
  },
  { table: 'opportunityproduct', rights: ['Read'], why: 'opportunity lines' },
  { table: 'transactioncurrency', rights: ['Read'], why: 'amounts carry their currency' },
  { table: 'organization', rights: ['Read'], why: '`qbsync provision` reads whether products start Draft or Active' },
];

/**
 * Tables whose privileges Dataverse names after another (the row of the security role editor that governs them).
 * - `salesorder`'s privileges are `prvReadOrder`, `prvWriteOrder`, … (Microsoft's "SalesOrder (order) entity
 *   privileges"), not `prvReadSalesOrder`.
 * - `salesorderdetail` and `invoicedetail` have no privileges of their own ("There are no specific privileges for the
 *   SalesOrderDetail entity", likewise InvoiceDetail): their parent's apply. That `opportunityproduct` follows its
 *   opportunity the same way is an assumption.
 * - `pricelevel` and `productpricelevel` have no privileges of their own either (Microsoft's "PriceLevel (price list)
 *   entity privileges", "ProductPriceLevel … entity privileges"); the SDK names `prvWriteProduct` for updating a price
 *   list or a unit and `prvCreateProduct` for creating a unit group, so that the product's privileges govern price
 *   lists, price list items, units and unit groups is an assumption drawn from those pages, not confirmed on a
 *   current organisation.
 */
const GOVERNED_BY: Readonly<Record<string, string>> = {
  salesorder: 'Order',
  salesorderdetail: 'Order',
  invoicedetail: 'Invoice',
  opportunityproduct: 'Opportunity',
  pricelevel: 'Product',
  productpricelevel: 'Product',
  uom: 'Product',
  uomschedule: 'Product',
};

/** The name privileges of a table are spelled with: `Order` for `salesorder`, else the table's SchemaName. */
export function privilegeEntityOf(table: { logicalName: string; schemaName: string }): string {
  return GOVERNED_BY[table.logicalName] ?? table.schemaName;
}

/** SchemaNames of the tables the role covers whose privileges carry their own name. */
const SCHEMA_NAMES: Readonly<Record<string, string>> = {
  account: 'Account',
  contact: 'Contact',
  product: 'Product',
  invoice: 'Invoice',
  opportunity: 'Opportunity',
  transactioncurrency: 'TransactionCurrency',
  organization: 'Organization',
};

/** One privilege of the role: its Dataverse name, the row and right it is in the role editor, the tables it serves. */
export interface RolePrivilege {
  name: string;
  /** The role editor's row (`Order`), as the privilege name spells it. */
  entity: string;
  right: AccessRight;
  /** The tables (logical names) the sync needs it for. */
  tables: string[];
}

export function connectorRoleRequirements(): RolePrivilege[] {
  const byName = new Map<string, RolePrivilege>();
  for (const access of CONNECTOR_TABLE_ACCESS) {
    const entity = GOVERNED_BY[access.table] ?? SCHEMA_NAMES[access.table];
    if (entity === undefined) throw new Error(`connectorRole: no privilege name known for table ${access.table}`);
    for (const right of access.rights) {
      const name = `prv${right}${entity}`;
      const known = byName.get(name);
      if (known) known.tables.push(access.table);
      else byName.set(name, { name, entity, right, tables: [access.table] });
    }
  }
  return [...byName.values()];
}

/** Every privilege name of the role (`prvCreateAccount`, `prvWriteOrder`, …), each once. */
export function connectorRolePrivileges(): string[] {
  return connectorRoleRequirements().map((p) => p.name);
}
