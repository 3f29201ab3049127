import { type CustomerAddFields, type CustomerModFields, type CustomerRet, type QbRef } from '../qbxml/requests';
import { quickBooksActive } from './activeStatus';
import { type ChoiceMaps, choiceName } from './choices';
import { type AccountRecord, type AccountWrite, type ContactWrite, RelationshipType } from './dataverseRows';
import {
  checkKeyValue,
  checkMaxLength,
  partsToQbAddress,
  personContact,
  qbAddressChange,
  quickBooksName,
  readAddress,
  text,
} from './fields';
import { readDecimal, sameDecimal } from './money';
import { type AccountMappingContext, partyToAccount, refName } from './party';
import { Issues, type MappingResult } from './result';

export type { AccountMappingContext } from './party';

/** qbXML 13 limits of the customer fields the account feeds (reference §14). */
const CUSTOMER_LIMITS = { name: 41, phone: 21, fax: 21, email: 1023, accountNumber: 99 } as const;

/** A QuickBooks customer (or job) as a Dynamics account with relationship type Customer. */
export function customerToAccount(c: CustomerRet, ctx: AccountMappingContext): MappingResult<AccountWrite> {
  const issues = new Issues();
  const account = partyToAccount(
    {
      listId: c.listId,
      name: c.name,
      fullName: c.fullName,
      parentRef: c.parentRef,
      sublevel: c.sublevel,
      accountNumber: c.accountNumber,
      phone: c.phone,
      fax: c.fax,
      email: c.email,
      termsRef: c.termsRef,
      creditLimit: c.creditLimit,
      customerTypeRef: c.customerTypeRef,
      mainAddress: c.billAddress,
      shipAddress: c.shipAddress,
      ...(c.isActive === undefined ? {} : { isActive: c.isActive }),
    },
    RelationshipType.Customer,
    ctx,
    issues,
  );
  return issues.result(account);
}

/**
 * The customer's primary contact, or null when QuickBooks holds no person on it. With `ctx` the contact carries
 * the customer's key (one primary contact per customer) and is bound to its account by that key.
 */
export function customerContact(c: CustomerRet, ctx?: { companyFile: string }): MappingResult<ContactWrite | null> {
  const issues = new Issues();
  const owner = ctx === undefined ? undefined : { companyFile: ctx.companyFile, listId: c.listId };
  const contact = personContact(c, owner, issues);
  return issues.result(contact);
}

export interface CustomerAddContext {
  choices: ChoiceMaps;
  /** ListID of the parent customer when the account has a parent account (resolved by the caller). */
  parentListId?: string;
}

/**
 * An account created in Dynamics as a QuickBooks customer. Every QuickBooks limit is checked and reported; no
 * value is shortened, because a truncated name can collide with another customer's.
 */
export function accountToCustomerAdd(a: AccountRecord, ctx: CustomerAddContext): MappingResult<CustomerAddFields> {
  const issues = new Issues();
  const name = quickBooksName(issues, 'name', a.name, CUSTOMER_LIMITS.name) ?? '';
  const fields: CustomerAddFields = { name };
  // Sent only for an inactive account: QuickBooks adds a record active unless told otherwise.
  if (!quickBooksActive(a.statecode)) fields.isActive = false;

  const parentListId = text(ctx.parentListId);
  if (parentListId !== null) fields.parentRef = { listId: parentListId };

  const billAddress = partsToQbAddress(issues, 'address1', readAddress('address1', a));
  if (billAddress !== undefined) fields.billAddress = billAddress;
  const shipAddress = partsToQbAddress(issues, 'address2', readAddress('address2', a));
  if (shipAddress !== undefined) fields.shipAddress = shipAddress;

  const limited = (field: keyof AccountRecord, value: string | null | undefined, max: number): string | undefined => {
    const t = text(value);
    if (t === null) return undefined;
    checkMaxLength(issues, field, t, max);
    return t;
  };
  const phone = limited('telephone1', a.telephone1, CUSTOMER_LIMITS.phone);
  if (phone !== undefined) fields.phone = phone;
  const fax = limited('fax', a.fax, CUSTOMER_LIMITS.fax);
  if (fax !== undefined) fields.fax = fax;
  const email = limited('emailaddress1', a.emailaddress1, CUSTOMER_LIMITS.email);
  if (email !== undefined) fields.email = email;
  const accountNumber = limited('accountnumber', a.accountnumber, CUSTOMER_LIMITS.accountNumber);
  if (accountNumber !== undefined) fields.accountNumber = accountNumber;

  if (a.customertypecode !== undefined && a.customertypecode !== null) {
    if (a.customertypecode !== RelationshipType.Customer) {
      issues.add(
        'customertypecode',
        'unsupported',
        `only accounts with relationship type Customer (${RelationshipType.Customer}) become QuickBooks customers`,
      );
    }
  }
  if (a.accountcategorycode !== undefined && a.accountcategorycode !== null) {
    const type = choiceName(issues, 'accountcategorycode', ctx.choices, 'customerTypes', a.accountcategorycode);
    if (type !== undefined) fields.customerTypeRef = { fullName: type };
  }
  if (a.paymenttermscode !== undefined && a.paymenttermscode !== null) {
    const terms = choiceName(issues, 'paymenttermscode', ctx.choices, 'terms', a.paymenttermscode);
    if (terms !== undefined) fields.termsRef = { fullName: terms };
  }
  const creditLimit = readDecimal(issues, 'creditlimit', a.creditlimit, 2);
  if (creditLimit !== null) fields.creditLimit = creditLimit.toFixed(2);

  return issues.result(fields);
}

/**
 * The CustomerMod that makes QuickBooks agree with the account: only the fields that differ, with the ListID and
 * EditSequence read last, or null when nothing differs (diff before write; an echoed change finds nothing to do).
 * Text the account cleared is sent empty, which clears it in QuickBooks. References (terms, type, parent) are
 * only set, never cleared: qbXML offers no reliable way to empty them.
 */
export function accountToCustomerMod(
  a: AccountRecord,
  current: CustomerRet,
  ctx: CustomerAddContext,
): MappingResult<CustomerModFields | null> {
  const issues = new Issues();
  checkKeyValue(issues, 'current.listId', current.listId);
  if (text(current.editSequence) === null)
    issues.add('current.editSequence', 'required', 'a Mod needs the EditSequence');
  const desired = issues.absorb(accountToCustomerAdd(a, ctx));
  if (desired === undefined || issues.failed) return issues.result(null);

  const mod: CustomerModFields = { listId: current.listId, editSequence: current.editSequence };
  let changed = false;
  const set = <K extends keyof CustomerModFields>(key: K, value: CustomerModFields[K]): void => {
    mod[key] = value;
    changed = true;
  };

  if (desired.name !== current.name) set('name', desired.name);
  const active = desired.isActive ?? true;
  if (active !== (current.isActive ?? true)) set('isActive', active);
  if (desired.parentRef?.listId !== undefined && desired.parentRef.listId !== current.parentRef?.listId) {
    set('parentRef', desired.parentRef);
  }
  const bill = qbAddressChange(desired.billAddress, current.billAddress);
  if (bill !== undefined) set('billAddress', bill);
  const ship = qbAddressChange(desired.shipAddress, current.shipAddress);
  if (ship !== undefined) set('shipAddress', ship);

  for (const key of ['phone', 'fax', 'email', 'accountNumber'] as const) {
    const want = text(desired[key]);
    const have = text(current[key]);
    if (want !== have) set(key, want ?? '');
  }
  if (refChanged(desired.customerTypeRef, current.customerTypeRef)) set('customerTypeRef', desired.customerTypeRef);
  if (refChanged(desired.termsRef, current.termsRef)) set('termsRef', desired.termsRef);
  if (desired.creditLimit !== undefined && !sameDecimal(desired.creditLimit, current.creditLimit)) {
    set('creditLimit', desired.creditLimit);
  }
  return issues.result(changed ? mod : null);
}

/** A reference the account sets that QuickBooks does not hold yet (names compare without case, as QuickBooks does). */
function refChanged(want: QbRef | undefined, have: QbRef | undefined): boolean {
  const w = refName(want);
  if (w === null) return false;
  const h = refName(have);
  return h === null || w.toLowerCase() !== h.toLowerCase();
}
