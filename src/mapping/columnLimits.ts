import { Dec } from './money';

/**
 * What a Dataverse number column accepts (its metadata's `MinValue`, `MaxValue` and precision), for the columns the
 * connector writes from QuickBooks values that may not fit: QuickBooks keeps prices to five decimals and lets stock
 * go negative. Dataverse rounds a value to the column's precision and refuses one out of range (the record's whole
 * write with it), so the connector writes what the column accepts and records that same value in its merge base.
 */
export interface ColumnLimit {
  min: number;
  max: number;
  /** Decimals Dataverse stores. */
  decimals: number;
}

/**
 * The organisation's pricing decimal precision, which product prices and costs follow (`PrecisionSource` 1). 2 is
 * Dataverse's default; an organisation set otherwise is not read yet (assumption: the default).
 */
const PRICING_DECIMALS = 2;

/** A currency's precision (money columns with `PrecisionSource` 2): 2 for the usual currencies (assumption). */
export const CURRENCY_DECIMALS = 2;

/** Product table reference: List Price, Standard Cost and Quantity On Hand (its precision of 2 is an assumption). */
export const PRODUCT_COLUMN_LIMITS = {
  price: { min: 0, max: 1_000_000_000_000, decimals: PRICING_DECIMALS },
  standardcost: { min: 0, max: 1_000_000_000_000, decimals: PRICING_DECIMALS },
  quantityonhand: { min: 0, max: 1_000_000_000, decimals: 2 },
} as const satisfies Record<string, ColumnLimit>;

export type ColumnFit = { carried: true; value: Dec } | { carried: false; reason: string };

/**
 * The value as the column stores it (rounded half away from zero to its decimals), or why the column cannot carry it.
 * Out of range is checked on the value as given, as Dataverse checks what it is sent.
 */
export function fitToColumn(column: string, limit: ColumnLimit, value: Dec): ColumnFit {
  if (value.lessThan(limit.min) || value.greaterThan(limit.max)) {
    return {
      carried: false,
      reason: `${value.toFixed()} does not fit Dataverse's ${column}, which accepts ${limit.min} to ${limit.max}`,
    };
  }
  return { carried: true, value: value.toDecimalPlaces(limit.decimals, Dec.ROUND_HALF_UP) };
}
