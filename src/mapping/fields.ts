import { type QbAddress } from '../qbxml/requests';
import { ADDRESS_PARTS, type AddressColumns, type AddressParts, type ContactWrite } from './dataverseRows';
import { sameDecimal } from './money';
import { type Issues } from './result';

/** qbXML 13 address limits (reference §14), the same for bill, ship and vendor addresses. */
const QB_ADDRESS_LIMITS = { line: 41, city: 31, state: 21, postalCode: 13, country: 31 } as const;

/** Absent, null and empty all mean "no value" on both sides. */
export function text(value: string | null | undefined): string | null {
  if (value === undefined || value === null) return null;
  return value.trim() === '' ? null : value;
}

/** Length in characters as QuickBooks counts them (code points, not UTF-16 units). */
export function charLength(value: string): number {
  return [...value].length;
}

export function checkMaxLength(issues: Issues, field: string, value: string | null | undefined, max: number): void {
  if (value === undefined || value === null) return;
  const length = charLength(value);
  if (length > max) {
    issues.add(
      field,
      'max-length',
      `${field} is ${length} characters, QuickBooks allows ${max}; shorten it at the source (it is never truncated)`,
    );
  }
}

export function requireText(issues: Issues, field: string, value: string | null | undefined): string | null {
  const t = text(value);
  if (t === null) issues.add(field, 'required', `${field} is required`);
  return t;
}

/**
 * A QuickBooks list name (customer, vendor, item): required, within its limit, and free of `:`, which QuickBooks
 * reads as the separator between a parent and its sub-level.
 */
export function quickBooksName(
  issues: Issues,
  field: string,
  value: string | null | undefined,
  max: number,
): string | null {
  const name = requireText(issues, field, value)?.trim() ?? null;
  if (name === null) return null;
  checkMaxLength(issues, field, name, max);
  if (name.includes(':')) {
    issues.add(field, 'forbidden-character', `${field} "${name}" contains ":", the QuickBooks sub-level separator`);
  }
  return name;
}

// ---- addresses ---------------------------------------------------------------------------------------------

/**
 * QuickBooks keeps five address lines, Dataverse three: lines 3 to 5 are joined into line 3 (", ") instead of
 * being dropped, so nothing the bookkeeper typed is lost.
 */
export function qbAddressToParts(address: QbAddress | undefined): AddressParts {
  const a = address ?? {};
  const tail = [a.addr3, a.addr4, a.addr5].map(text).filter((l): l is string => l !== null);
  return {
    line1: text(a.addr1),
    line2: text(a.addr2),
    line3: tail.length === 0 ? null : tail.join(', '),
    city: text(a.city),
    stateorprovince: text(a.state),
    postalcode: text(a.postalCode),
    country: text(a.country),
  };
}

export function prefixAddress<P extends string>(prefix: P, parts: AddressParts): AddressColumns<P> {
  const out: Record<string, string | null> = {};
  for (const part of ADDRESS_PARTS) out[`${prefix}_${part}`] = parts[part] ?? null;
  return out as AddressColumns<P>;
}

export function readAddress<P extends string>(prefix: P, row: AddressColumns<P>): AddressParts {
  const columns = row as Readonly<Record<string, string | null | undefined>>;
  const parts: AddressParts = {};
  for (const part of ADDRESS_PARTS) parts[part] = text(columns[`${prefix}_${part}`]);
  return parts;
}

/**
 * A Dataverse address as a QuickBooks address, checked against the qbXML limits. Errors name the Dataverse
 * column (`address1_city`) so the operator knows what to shorten. Undefined when the address is empty.
 */
export function partsToQbAddress(issues: Issues, prefix: string, parts: AddressParts): QbAddress | undefined {
  const address: QbAddress = {};
  const put = (key: keyof QbAddress, part: keyof AddressParts, max: number): void => {
    const value = text(parts[part]);
    if (value === null) return;
    checkMaxLength(issues, `${prefix}_${part}`, value, max);
    address[key] = value;
  };
  put('addr1', 'line1', QB_ADDRESS_LIMITS.line);
  put('addr2', 'line2', QB_ADDRESS_LIMITS.line);
  put('addr3', 'line3', QB_ADDRESS_LIMITS.line);
  put('city', 'city', QB_ADDRESS_LIMITS.city);
  put('state', 'stateorprovince', QB_ADDRESS_LIMITS.state);
  put('postalCode', 'postalcode', QB_ADDRESS_LIMITS.postalCode);
  put('country', 'country', QB_ADDRESS_LIMITS.country);
  return Object.keys(address).length === 0 ? undefined : address;
}

const QB_ADDRESS_KEYS = [
  'addr1',
  'addr2',
  'addr3',
  'addr4',
  'addr5',
  'city',
  'state',
  'postalCode',
  'country',
] as const;

/**
 * The address a Mod must send so QuickBooks ends up holding `desired`, or undefined when it already does.
 * Compared through the Dataverse projection (lines 3–5 folded), so an address that came from QuickBooks with
 * five lines is not rewritten on the way back. Lines QuickBooks has but `desired` lacks are sent empty (clears).
 */
export function qbAddressChange(desired: QbAddress | undefined, current: QbAddress | undefined): QbAddress | undefined {
  const want = desired ?? {};
  const have = qbAddressToParts(current);
  const wantParts = qbAddressToParts(want);
  const same = ADDRESS_PARTS.every((part) => (wantParts[part] ?? null) === (have[part] ?? null));
  if (same) return undefined;
  const change: QbAddress = {};
  for (const key of QB_ADDRESS_KEYS) {
    const value = text(want[key]);
    if (value !== null) change[key] = value;
    else if (text(current?.[key]) !== null) change[key] = '';
  }
  return change;
}

// ---- keys and references -------------------------------------------------------------------------------------

/** Characters Dataverse refuses in an alternate-key value used in a URL (reference dataverse.md §3.3). */
const KEY_UNSAFE = /[/<>*%&:\\?+]/;

export function checkKeyValue(issues: Issues, field: string, value: string | null | undefined): string | null {
  const v = requireText(issues, field, value);
  if (v !== null && KEY_UNSAFE.test(v)) {
    issues.add(field, 'key-unsafe', `${field} "${v}" contains a character Dataverse refuses in an alternate key`);
  }
  return v;
}

/** `/accounts(qbsync_companyfile='…',qbsync_qblistid='…')`: binds a lookup by the connector's alternate key. */
export function accountKeyReference(companyFile: string, listId: string): string {
  const quote = (v: string): string => `'${v.replace(/'/g, "''")}'`;
  return `/accounts(qbsync_companyfile=${quote(companyFile)},qbsync_qblistid=${quote(listId)})`;
}

// ---- people --------------------------------------------------------------------------------------------------

export interface PersonFields {
  firstName?: string;
  lastName?: string;
  jobTitle?: string;
  email?: string;
  phone?: string;
}

/**
 * The primary contact of a customer or vendor: null when QuickBooks holds no person (no first name, last name or
 * job title). Dataverse requires a last name, and guessing one from a first name would invent data, so a person
 * with only a first name is an error.
 */
export function personContact(
  source: PersonFields,
  owner: { companyFile: string; listId: string } | undefined,
  issues: Issues,
): ContactWrite | null {
  const firstname = text(source.firstName);
  const lastname = text(source.lastName);
  const jobtitle = text(source.jobTitle);
  if (firstname === null && lastname === null && jobtitle === null) return null;
  if (lastname === null) {
    issues.add('lastName', 'required', 'Dataverse contacts need a last name; QuickBooks has none for this person');
    return null;
  }
  const contact: ContactWrite = {
    firstname,
    lastname,
    emailaddress1: text(source.email),
    telephone1: text(source.phone),
    jobtitle,
  };
  if (owner !== undefined) {
    contact.qbsync_companyfile = owner.companyFile;
    contact.qbsync_qblistid = owner.listId;
    contact['parentcustomerid_account@odata.bind'] = accountKeyReference(owner.companyFile, owner.listId);
  }
  return contact;
}

// ---- diff before write on the Dataverse side ----------------------------------------------------------------

/**
 * The columns of `desired` whose value differs from `current`, or null when the row already agrees (so nothing is
 * written and the change does not echo back). Blank equals null; `decimalColumns` compare by value (`"5000"` =
 * `"5000.00"`), every other column as text, so an account number `007` never equals `7`. Lookup bindings
 * (`…@odata.bind`) are left out: the row read back holds the target's id, not its key reference, so the caller
 * compares those itself.
 */
export function changedColumns<T extends object>(
  desired: T,
  current: Partial<Record<keyof T, unknown>>,
  decimalColumns: readonly (keyof T)[] = [],
): Partial<T> | null {
  const changes: Partial<T> = {};
  let any = false;
  for (const key of Object.keys(desired) as (keyof T)[]) {
    if (String(key).endsWith('@odata.bind')) continue;
    const want = desired[key];
    const have = current[key];
    if (!sameColumnValue(want, have, decimalColumns.includes(key))) {
      changes[key] = want;
      any = true;
    }
  }
  return any ? changes : null;
}

function sameColumnValue(a: unknown, b: unknown, decimal: boolean): boolean {
  const blank = (v: unknown): boolean => v === undefined || v === null || (typeof v === 'string' && v.trim() === '');
  if (blank(a) || blank(b)) return blank(a) && blank(b);
  if (decimal && (typeof a === 'string' || typeof a === 'number') && (typeof b === 'string' || typeof b === 'number')) {
    return sameDecimal(a, b);
  }
  return a === b;
}
