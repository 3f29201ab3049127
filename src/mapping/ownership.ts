import { sameDecimal } from './money';
import { Issues, type MappingResult } from './result';

export type SystemSide = 'quickbooks' | 'dynamics';
/** Who wins a field both systems changed since the last sync: one system always, or the later change. */
export type FieldOwner = SystemSide | 'latest';

export interface OwnershipPolicy {
  owners: Readonly<Record<string, FieldOwner>>;
  /** For fields the policy does not name. */
  fallback: FieldOwner;
  /**
   * Fields compared as decimals (`"5000"` = `"5000.00"`). Everything else compares as text, so a phone or account
   * number `007` never equals `7`.
   */
  decimalFields?: readonly string[];
}

/**
 * The declared defaults: the books own what accounting decides (terms, credit limit, tax, balances), the sales
 * team owns how it classifies and assigns accounts (relationship type, category, owner), and details both sides
 * legitimately edit (name, address, phone, email) go to whoever changed them last.
 */
export const DEFAULT_OWNERSHIP: OwnershipPolicy = {
  owners: {
    terms: 'quickbooks',
    creditLimit: 'quickbooks',
    tax: 'quickbooks',
    balance: 'quickbooks',
    relationshipType: 'dynamics',
    category: 'dynamics',
    owner: 'dynamics',
    name: 'latest',
    address: 'latest',
    phone: 'latest',
    email: 'latest',
  },
  fallback: 'latest',
  decimalFields: ['creditLimit', 'balance', 'price', 'cost'],
};

export interface ConflictResolution<T> {
  field: string;
  /** False when both sides hold the same value: nothing to resolve, nothing to record. */
  conflict: boolean;
  winner: SystemSide;
  value: T;
  reason: 'equal' | 'owner' | 'later-change' | 'same-time';
}

/**
 * Decides a field both systems changed since the last sync. Equal values (blank = null, `"5000"` = `"5000.00"`)
 * are no conflict. A tie in time goes to QuickBooks, the book of record, so the decision is deterministic.
 * Timestamps are ISO 8601 with offsets (QuickBooks local time with offset, Dataverse UTC); an unreadable
 * timestamp under a later-change rule is an error rather than a guess.
 */
export function resolveConflict<T>(
  field: string,
  qbValue: T,
  dvValue: T,
  qbModifiedAt: string,
  dvModifiedAt: string,
  policy: OwnershipPolicy = DEFAULT_OWNERSHIP,
): MappingResult<ConflictResolution<T>> {
  const issues = new Issues();
  if (sameValue(qbValue, dvValue, policy.decimalFields?.includes(field) ?? false)) {
    return issues.result({ field, conflict: false, winner: 'quickbooks', value: qbValue, reason: 'equal' });
  }
  const owner = Object.prototype.hasOwnProperty.call(policy.owners, field) ? policy.owners[field] : policy.fallback;
  if (owner === 'quickbooks' || owner === 'dynamics') {
    const value = owner === 'quickbooks' ? qbValue : dvValue;
    return issues.result({ field, conflict: true, winner: owner, value, reason: 'owner' });
  }
  const qbTime = instant(issues, 'qbModifiedAt', qbModifiedAt);
  const dvTime = instant(issues, 'dvModifiedAt', dvModifiedAt);
  if (qbTime === null || dvTime === null) {
    return issues.result({ field, conflict: true, winner: 'quickbooks', value: qbValue, reason: 'same-time' });
  }
  if (qbTime === dvTime) {
    return issues.result({ field, conflict: true, winner: 'quickbooks', value: qbValue, reason: 'same-time' });
  }
  const winner: SystemSide = qbTime > dvTime ? 'quickbooks' : 'dynamics';
  return issues.result({
    field,
    conflict: true,
    winner,
    value: winner === 'quickbooks' ? qbValue : dvValue,
    reason: 'later-change',
  });
}

/** Date-time with an explicit zone; a zone-less time would be read in the worker's zone and differ per machine. */
const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

function instant(issues: Issues, field: string, value: string): number | null {
  const ms = ISO_WITH_ZONE.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms)) {
    issues.add(field, 'timestamp', `${field} "${value}" is not an ISO 8601 date-time with a zone`);
    return null;
  }
  return ms;
}

function sameValue(a: unknown, b: unknown, decimal: boolean): boolean {
  const blank = (v: unknown): boolean => v === undefined || v === null || (typeof v === 'string' && v.trim() === '');
  if (blank(a) || blank(b)) return blank(a) && blank(b);
  const scalar = (v: unknown): v is string | number => typeof v === 'string' || typeof v === 'number';
  if (decimal && scalar(a) && scalar(b)) return sameDecimal(a, b);
  if (scalar(a) && scalar(b)) return a === b;
  return stableJson(a) === stableJson(b);
}

/** JSON with sorted keys, so two equal addresses written in a different key order compare equal. */
function stableJson(v: unknown): string {
  return JSON.stringify(v, (_key, value: unknown) =>
    value !== null && typeof value === 'object' && !Array.isArray(value)
      ? Object.fromEntries(Object.entries(value as Record<string, unknown>).sort(([x], [y]) => (x < y ? -1 : 1)))
      : value,
  );
}
