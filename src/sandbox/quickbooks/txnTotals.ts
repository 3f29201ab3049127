import Decimal from 'decimal.js';
import type { TxnRecord } from './companyState';
import type { CompanyStore } from './companyStore';
import { salesTaxOf } from './salesTax';

/** Totals of a transaction, always recomputed from its lines with decimal arithmetic (never binary floats). */
export function subtotal(txn: TxnRecord): Decimal {
  return txn.lines.reduce((sum, line) => sum.plus(line.amount), new Decimal(0));
}

/** What the customer owes: lines plus sales tax, less payments. */
function totalAmount(txn: TxnRecord, store: CompanyStore): Decimal {
  return subtotal(txn).plus(salesTaxOf(txn, store).total);
}

export function balanceRemaining(txn: TxnRecord, store: CompanyStore): Decimal {
  return totalAmount(txn, store).minus(txn.paid);
}

/** Amount = Quantity × Rate rounded half-up to cents, as QuickBooks fills it in when the request leaves it out. */
export function lineAmount(quantity: string | undefined, rate: string): string {
  return new Decimal(quantity ?? '1').times(rate).toDecimalPlaces(2, Decimal.ROUND_HALF_UP).toFixed(2);
}
