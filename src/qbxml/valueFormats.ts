/**
 * The value formats qbXML's schema types allow, beyond what the XSD's lexical types say. QuickBooks refuses a
 * request holding any other form with a status error (3040 for a number, 3020 for a date, 3070 for a string too
 * long); it never rounds or truncates, so neither may we. Pure: the mapping checks values with the same rules.
 */

export type NumberFormat = 'amount' | 'price' | 'quantity' | 'percent' | 'float';

/**
 * AMTTYPE: no decimals or exactly two, at most 13 integer digits. PRICETYPE, QUANTYPE and PERCENTTYPE: at most five
 * decimals. FLOATTYPE (exchange rates): any decimal.
 */
const NUMBER_RULES: Readonly<Record<NumberFormat, { pattern: RegExp; rule: string }>> = {
  amount: {
    pattern: /^-?\d{1,13}(\.\d{2})?$/,
    rule: 'an amount (AMTTYPE) has no decimals or exactly two, and at most 13 digits before the point',
  },
  price: { pattern: /^-?\d+(\.\d{1,5})?$/, rule: 'a price (PRICETYPE) has at most 5 decimals' },
  quantity: { pattern: /^-?\d+(\.\d{1,5})?$/, rule: 'a quantity (QUANTYPE) has at most 5 decimals' },
  percent: { pattern: /^-?\d+(\.\d{1,5})?$/, rule: 'a percent (PERCENTTYPE) has at most 5 decimals' },
  float: { pattern: /^-?\d+(\.\d+)?$/, rule: 'a decimal number like 1.25' },
};

/** Why `value` is not a `format` QuickBooks accepts, or undefined when it is one. */
export function numberFormatViolation(format: NumberFormat, value: string): string | undefined {
  const { pattern, rule } = NUMBER_RULES[format];
  return pattern.test(value) ? undefined : `"${value}" is not accepted: ${rule}`;
}

/** A calendar date that exists (`2024-02-30` does not), written YYYY-MM-DD. */
export function isCalendarDate(value: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!m) return false;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const d = new Date(Date.UTC(year, month - 1, day));
  return d.getUTCFullYear() === year && d.getUTCMonth() === month - 1 && d.getUTCDate() === day;
}

/** GUIDTYPE: `0` or `{XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX}` in hexadecimal digits. */
export function isQbxmlGuid(value: string): boolean {
  return (
    value === '0' || /^\{[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}\}$/.test(value)
  );
}

/** A list reference's FullName limit when no narrower one applies below. */
export const LIST_REF_FULL_NAME_MAX = 159;
/** Customer and job full names (`Parent:Job`) may be longer than other list names. */
export const CUSTOMER_FULL_NAME_MAX = 209;

/**
 * References whose lists have shorter names than the general 159: a sales tax code is 3 characters, a sales rep's
 * initials 5, and so on (qbXML 13.0 reference, each reference's FullName).
 */
const NARROW_REF_FULL_NAME_MAX: Readonly<Record<string, number>> = {
  SalesTaxCodeRef: 3,
  CustomerSalesTaxCodeRef: 3,
  PurchaseTaxCodeRef: 3,
  SalesRepRef: 5,
  ShipMethodRef: 15,
  TermsRef: 31,
  TemplateRef: 31,
  PrefVendorRef: 41,
  CurrencyRef: 64,
  CustomerMsgRef: 101,
};

/** The longest FullName QuickBooks accepts in reference element `refElement` (e.g. `SalesRepRef`). */
export function refFullNameMax(refElement: string, general = LIST_REF_FULL_NAME_MAX): number {
  return NARROW_REF_FULL_NAME_MAX[refElement] ?? general;
}
