import Decimal from 'decimal.js';
import { type Issues } from './result';

/**
 * Money and quantities stay decimal strings end to end. A private Decimal constructor (not the shared global one)
 * fixes precision and half-up rounding, the way QuickBooks and Dynamics round amounts to the cent, without touching
 * the configuration other modules rely on.
 */
export const Dec = Decimal.clone({ precision: 40, rounding: Decimal.ROUND_HALF_UP, toExpNeg: -40, toExpPos: 40 });
export type Dec = Decimal;

/** Plain decimal notation only: decimal.js would also accept hex, exponents and Infinity, none of which is money. */
const DECIMAL_TEXT = /^[-+]?(\d+(\.\d*)?|\.\d+)$/;

/** Dataverse money columns keep at most 4 decimals (and reject more through the Web API client). */
export const DATAVERSE_MONEY_DECIMALS = 4;

/**
 * Reads an optional decimal; absent (undefined, null, empty) gives null. A malformed value is recorded as an issue
 * and also gives null, so the caller continues collecting further issues.
 */
export function readDecimal(
  issues: Issues,
  field: string,
  value: string | number | null | undefined,
  maxDecimals?: number,
): Decimal | null {
  if (value === undefined || value === null) return null;
  const text = typeof value === 'number' ? (Number.isFinite(value) ? String(value) : 'NaN') : value.trim();
  if (text === '') return null;
  if (!DECIMAL_TEXT.test(text)) {
    issues.add(field, 'decimal', `${field} must be a decimal number, got "${String(value)}"`);
    return null;
  }
  const d = new Dec(text);
  if (maxDecimals !== undefined && d.decimalPlaces() > maxDecimals) {
    issues.add(
      field,
      'precision',
      `${field} ${d.toFixed()} has more than ${maxDecimals} decimals; rounding it would change the amount`,
    );
    return null;
  }
  return d;
}

/** Canonical decimal text without trailing zeros (`"19.90"` → `"19.9"`), for values that are not yet amounts. */
export function decimalText(d: Decimal): string {
  return d.toFixed();
}

/** Amount rounded half-up to the cent, always with two decimals (`"59.97"`). */
export function cents(d: Decimal): string {
  return d.toDecimalPlaces(2, Decimal.ROUND_HALF_UP).toFixed(2);
}

/** Two optional decimals are equal when both are absent or both are the same number (`"5000"` = `"5000.00"`). */
export function sameDecimal(a: string | number | null | undefined, b: string | number | null | undefined): boolean {
  const x = blankToNull(a);
  const y = blankToNull(b);
  if (x === null || y === null) return x === y;
  // Malformed text is compared as text: never equal to a number, equal only to itself.
  if (!DECIMAL_TEXT.test(x) || !DECIMAL_TEXT.test(y)) return x === y;
  return new Dec(x).equals(new Dec(y));
}

function blankToNull(v: string | number | null | undefined): string | null {
  if (v === undefined || v === null) return null;
  const text = String(v).trim();
  return text === '' ? null : text;
}
