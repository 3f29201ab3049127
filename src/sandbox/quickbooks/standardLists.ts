import type { CompanyClock } from './companyClock';
import type { ListKind, StoredNode } from './companyState';
import type { CompanyStore } from './companyStore';

/* What a brand-new QuickBooks company file already contains: the standard terms and a small chart of accounts. */
const standardTerms: [string, number, number?, string?][] = [
  ['Due on receipt', 0],
  ['Net 15', 15],
  ['Net 30', 30],
  ['Net 60', 60],
  ['1% 10 Net 30', 30, 10, '1.00'],
  ['2% 10 Net 30', 30, 10, '2.00'],
];

const chartOfAccounts: [string, string][] = [
  ['Checking', 'Bank'],
  ['Accounts Receivable', 'AccountsReceivable'],
  ['Inventory Asset', 'OtherCurrentAsset'],
  ['Accounts Payable', 'AccountsPayable'],
  ['Sales', 'Income'],
  ['Service Income', 'Income'],
  ['Freight Income', 'Income'],
  ['Sales Discounts', 'Income'],
  ['Cost of Goods Sold', 'CostOfGoodsSold'],
  ['Other Expenses', 'OtherExpense'],
];

export function createStandardLists(store: CompanyStore, clock: CompanyClock): void {
  const now = clock.nowSeconds();
  const add = (kind: ListKind, name: string, fields: StoredNode[]) => store.addNewList(kind, name, fields, now);
  for (const [name, due, discountDays, pct] of standardTerms) {
    const fields: StoredNode[] = [{ n: 'StdDueDays', t: String(due) }];
    if (discountDays !== undefined) fields.push({ n: 'StdDiscountDays', t: String(discountDays) });
    if (pct !== undefined) fields.push({ n: 'DiscountPct', t: pct });
    add('Terms', name, fields);
  }
  for (const [name, type] of chartOfAccounts) add('Account', name, [{ n: 'AccountType', t: type }]);
}
