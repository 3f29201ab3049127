import { type QbAddress, type QbRef } from '../qbxml/requests';
import { type ChoiceMaps, choiceValue } from './choices';
import { stateOfQuickBooks } from './activeStatus';
import { type AccountWrite } from './dataverseRows';
import { accountKeyReference, checkKeyValue, prefixAddress, qbAddressToParts, requireText, text } from './fields';
import { cents, DATAVERSE_MONEY_DECIMALS, readDecimal } from './money';
import { type Issues } from './result';

export interface AccountMappingContext {
  /** The connection's company-file identifier: half of the alternate key, so it must be URL-key safe. */
  companyFile: string;
  choices: ChoiceMaps;
}

/** What customers and vendors share on their way to an account. */
export interface PartySource {
  listId: string;
  name: string;
  fullName?: string;
  parentRef?: QbRef;
  sublevel?: number;
  accountNumber?: string;
  phone?: string;
  fax?: string;
  email?: string;
  termsRef?: QbRef;
  creditLimit?: string;
  customerTypeRef?: QbRef;
  mainAddress?: QbAddress;
  shipAddress?: QbAddress;
  isActive?: boolean;
}

export function partyToAccount(
  source: PartySource,
  relationshipType: number,
  ctx: AccountMappingContext,
  issues: Issues,
): AccountWrite {
  const companyFile = checkKeyValue(issues, 'companyFile', ctx.companyFile) ?? '';
  const listId = checkKeyValue(issues, 'listId', source.listId) ?? '';
  // `name` is the leaf (FullName `Parent:Child` → `Child`); the hierarchy travels as the parent lookup instead.
  const name = requireText(issues, 'name', source.name) ?? '';

  let paymenttermscode: number | null = null;
  const terms = refName(source.termsRef);
  if (terms !== null) paymenttermscode = choiceValue(issues, 'termsRef', ctx.choices, 'terms', terms) ?? null;

  const creditLimit = readDecimal(issues, 'creditLimit', source.creditLimit, DATAVERSE_MONEY_DECIMALS);

  const account: AccountWrite = {
    qbsync_companyfile: companyFile,
    qbsync_qblistid: listId,
    name,
    accountnumber: text(source.accountNumber),
    customertypecode: relationshipType,
    telephone1: text(source.phone),
    fax: text(source.fax),
    emailaddress1: text(source.email),
    paymenttermscode,
    creditlimit: creditLimit === null ? null : cents(creditLimit),
    statecode: stateOfQuickBooks(source.isActive),
    ...prefixAddress('address1', qbAddressToParts(source.mainAddress)),
    ...prefixAddress('address2', qbAddressToParts(source.shipAddress)),
  };

  const customerType = refName(source.customerTypeRef);
  if (customerType !== null) {
    const category = choiceValue(issues, 'customerTypeRef', ctx.choices, 'customerTypes', customerType);
    if (category !== undefined) account.accountcategorycode = category;
  }

  if (isSubLevel(source)) {
    const parentListId = checkKeyValue(issues, 'parentRef.listId', source.parentRef?.listId);
    if (parentListId !== null && companyFile !== '') {
      account['parentaccountid@odata.bind'] = accountKeyReference(companyFile, parentListId);
    }
  }
  return account;
}

/** A job / sub-customer: QuickBooks says so through any of ParentRef, Sublevel or a `:` in FullName. */
function isSubLevel(source: PartySource): boolean {
  return source.parentRef !== undefined || (source.sublevel ?? 0) > 0 || (source.fullName?.includes(':') ?? false);
}

/** The name a reference carries (QuickBooks choice maps are keyed by name, not ListID). */
export function refName(ref: QbRef | undefined): string | null {
  return text(ref?.fullName);
}
