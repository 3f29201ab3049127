import Decimal from 'decimal.js';
import type { CompanyState, SalesTaxCode, SalesTaxTable, StoredNode, TxnRecord } from './companyState';
import type { CompanyStore } from './companyStore';

/*
 * US sales tax as QuickBooks Desktop computes it on an invoice or sales order (assumptions listed in
 * docs/quickbooks.md): the rate is the sales tax item's (the transaction's ItemSalesTaxRef, else the customer's);
 * a line is taxed when its sales tax code is taxable (the line's SalesTaxCodeRef, else its item's; none is
 * non-taxable), and no line is taxed when the customer's code (CustomerSalesTaxCodeRef, else the customer's
 * SalesTaxCodeRef) is non-taxable. The tax is the rate applied once to the sum of the taxed lines, rounded half-up
 * to the cent.
 */

/** Every US company file starts with these two codes. */
export const DEFAULT_SALES_TAX_CODES: readonly SalesTaxCode[] = [
  { name: 'Tax', taxable: true },
  { name: 'Non', taxable: false },
];

function salesTaxTable(state: CompanyState): SalesTaxTable {
  return state.salesTax ?? { codes: [...DEFAULT_SALES_TAX_CODES], items: [] };
}

/** The ListID or FullName an `Other` reference was stored with (the simulator keeps such references as sent). */
function refKey(fields: readonly StoredNode[], name: string): { listId?: string; fullName?: string } | undefined {
  const node = fields.find((f) => f.n === name);
  if (!node?.c) return undefined;
  const listId = node.c.find((c) => c.n === 'ListID')?.t;
  const fullName = node.c.find((c) => c.n === 'FullName')?.t;
  return { ...(listId === undefined ? {} : { listId }), ...(fullName === undefined ? {} : { fullName }) };
}

function find<T extends { name: string; listId?: string }>(
  entries: readonly T[],
  key: { listId?: string; fullName?: string } | undefined,
): T | undefined {
  if (!key) return undefined;
  // ListID wins over FullName, as for every reference.
  if (key.listId !== undefined) return entries.find((e) => e.listId === key.listId);
  return entries.find((e) => e.name.toLowerCase() === (key.fullName ?? '').toLowerCase());
}

export interface SalesTax {
  percent: Decimal;
  total: Decimal;
}

export function salesTaxOf(txn: TxnRecord, store: CompanyStore): SalesTax {
  const table = salesTaxTable(store.state);
  const customerFields = store.list(txn.customerId)?.fields ?? [];
  const item = find(table.items, refKey(txn.fields, 'ItemSalesTaxRef') ?? refKey(customerFields, 'ItemSalesTaxRef'));
  if (!item) return { percent: new Decimal(0), total: new Decimal(0) };
  const percent = new Decimal(item.ratePercent);
  const customerCode = find(
    table.codes,
    refKey(txn.fields, 'CustomerSalesTaxCodeRef') ?? refKey(customerFields, 'SalesTaxCodeRef'),
  );
  if (customerCode !== undefined && !customerCode.taxable) return { percent, total: new Decimal(0) };
  const taxed = txn.lines.reduce((sum, line) => {
    const itemFields = line.itemId === undefined ? [] : (store.list(line.itemId)?.fields ?? []);
    const code = find(table.codes, refKey(line.fields, 'SalesTaxCodeRef') ?? refKey(itemFields, 'SalesTaxCodeRef'));
    return code?.taxable === true ? sum.plus(line.amount) : sum;
  }, new Decimal(0));
  return { percent, total: taxed.times(percent).div(100).toDecimalPlaces(2, Decimal.ROUND_HALF_UP) };
}
