import { type VendorRet } from '../qbxml/requests';
import { type AccountWrite, type ContactWrite, RelationshipType } from './dataverseRows';
import { personContact } from './fields';
import { type AccountMappingContext, partyToAccount } from './party';
import { Issues, type MappingResult } from './result';

/**
 * A QuickBooks vendor as a Dynamics account with relationship type Vendor. The vendor address is the account's
 * main address (address1), its ship-from address address2. Vendors carry no customer type; vendor types are not
 * mapped (Dynamics has no matching choice on the account).
 */
export function vendorToAccount(v: VendorRet, ctx: AccountMappingContext): MappingResult<AccountWrite> {
  const issues = new Issues();
  const account = partyToAccount(
    {
      listId: v.listId,
      name: v.name,
      accountNumber: v.accountNumber,
      phone: v.phone,
      fax: v.fax,
      email: v.email,
      termsRef: v.termsRef,
      creditLimit: v.creditLimit,
      mainAddress: v.vendorAddress,
      shipAddress: v.shipAddress,
      ...(v.isActive === undefined ? {} : { isActive: v.isActive }),
    },
    RelationshipType.Vendor,
    ctx,
    issues,
  );
  return issues.result(account);
}

/** The vendor's primary contact, or null when QuickBooks holds no person on it. */
export function vendorContact(v: VendorRet, ctx?: { companyFile: string }): MappingResult<ContactWrite | null> {
  const issues = new Issues();
  const owner = ctx === undefined ? undefined : { companyFile: ctx.companyFile, listId: v.listId };
  const contact = personContact(v, owner, issues);
  return issues.result(contact);
}
