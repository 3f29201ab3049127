/**
 * The Dataverse row shapes the mapping produces and consumes (reference dataverse.md §2). They are declared here,
 * not imported from `src/dataverse/entities.ts`, because the mapping needs columns that module does not select yet
 * (ship-to address, fax, credit limit, parent account, order addresses) and because workflow code imports the
 * mapping, which must not pull in the Web API client. Money and quantities are decimal strings.
 */

/** Option values of `account.customertypecode` ("Relationship Type"). */
export const RelationshipType = { Customer: 3, Supplier: 10, Vendor: 11 } as const;

/** Option values of `product.producttypecode`. */
export const ProductType = { SalesInventory: 1, MiscellaneousCharges: 2, Services: 3, FlatFees: 4 } as const;

export const ADDRESS_PARTS = ['line1', 'line2', 'line3', 'city', 'stateorprovince', 'postalcode', 'country'] as const;
export type AddressPart = (typeof ADDRESS_PARTS)[number];

/** One address, independent of the column prefix it is stored under. */
export type AddressParts = { [K in AddressPart]?: string | null };

/** `address1_line1` …: the columns of one address under a prefix. */
export type AddressColumns<P extends string> = { [K in AddressPart as `${P}_${K}`]?: string | null };

/** Connector columns carrying the QuickBooks identity (with the alternate key on both). */
export interface QuickBooksListIdentity {
  qbsync_companyfile: string;
  qbsync_qblistid: string;
}

/**
 * An account as the QuickBooks side wants it (create or upsert body). `null` clears a column; the parent lookup is
 * bound by the parent's alternate key, so the parent's Dataverse id need not be known.
 */
export interface AccountWrite extends QuickBooksListIdentity, AddressColumns<'address1'>, AddressColumns<'address2'> {
  name: string;
  accountnumber: string | null;
  customertypecode: number;
  /** Present only when QuickBooks has a customer type: the category is owned by Dynamics otherwise. */
  accountcategorycode?: number;
  telephone1: string | null;
  fax: string | null;
  emailaddress1: string | null;
  paymenttermscode: number | null;
  creditlimit: string | null;
  /** 0 active, 1 inactive (`activeStatus.ts`); never sent on create, where Dataverse refuses it. */
  statecode: number;
  'parentaccountid@odata.bind'?: string;
}

/** An account as read from Dataverse; every column may be missing from a `$select`. */
export interface AccountRecord extends AddressColumns<'address1'>, AddressColumns<'address2'> {
  accountid?: string;
  name?: string | null;
  accountnumber?: string | null;
  customertypecode?: number | null;
  accountcategorycode?: number | null;
  telephone1?: string | null;
  fax?: string | null;
  emailaddress1?: string | null;
  paymenttermscode?: number | null;
  creditlimit?: string | number | null;
  _parentaccountid_value?: string | null;
  _primarycontactid_value?: string | null;
  /** 0 Active, 1 Inactive. */
  statecode?: number | null;
  qbsync_companyfile?: string | null;
  qbsync_qblistid?: string | null;
  modifiedon?: string;
}

/** The primary contact derived from a QuickBooks customer or vendor. */
export interface ContactWrite {
  firstname: string | null;
  lastname: string;
  emailaddress1: string | null;
  telephone1: string | null;
  jobtitle: string | null;
  qbsync_companyfile?: string;
  qbsync_qblistid?: string;
  'parentcustomerid_account@odata.bind'?: string;
}

export interface ProductWrite extends QuickBooksListIdentity {
  name: string;
  productnumber: string;
  description: string | null;
  producttypecode: number;
  price: string | null;
  standardcost: string | null;
  /** Inventory items only. */
  quantityonhand?: string | null;
  /** 0 active, 1 retired (`activeStatus.ts`); never sent on create, where Dataverse refuses it. */
  statecode: number;
}

export interface ProductRecord {
  productid?: string;
  name?: string | null;
  productnumber?: string | null;
  description?: string | null;
  producttypecode?: number | null;
  price?: string | number | null;
  standardcost?: string | number | null;
  quantityonhand?: string | number | null;
  /** 0 Active, 1 Retired, 2 Draft, 3 Under Revision. */
  statecode?: number | null;
  qbsync_companyfile?: string | null;
  qbsync_qblistid?: string | null;
  modifiedon?: string;
}

export interface SalesOrderRecord extends AddressColumns<'billto'>, AddressColumns<'shipto'> {
  salesorderid?: string;
  name?: string | null;
  ordernumber?: string | null;
  /** Becomes the invoice memo. */
  description?: string | null;
  freightamount?: string | number | null;
  discountamount?: string | number | null;
  discountpercentage?: string | number | null;
  totalamount?: string | number | null;
  _customerid_value?: string | null;
  qbsync_qbtxnid?: string | null;
  qbsync_invoicenumber?: string | null;
  /** Sales-order mode: the QuickBooks sales order made from this order. */
  qbsync_salesordertxnid?: string | null;
  qbsync_salesordernumber?: string | null;
  /** When the order row was last saved (ISO); a line's save moves it only when the order's totals change. */
  modifiedon?: string | null;
}

/** An order line (`salesorderdetail`). */
export interface SalesOrderLineRecord {
  salesorderdetailid?: string;
  lineitemnumber?: number | null;
  _productid_value?: string | null;
  /** True for a write-in line (not in the catalog); its text is in `productdescription`. */
  isproductoverridden?: boolean | null;
  productdescription?: string | null;
  quantity?: string | number | null;
  priceperunit?: string | number | null;
  manualdiscountamount?: string | number | null;
  extendedamount?: string | number | null;
  /** When the line was last saved (ISO). */
  modifiedon?: string | null;
}

/** An opportunity (`opportunity`), as the won-opportunity flow reads it. */
export interface OpportunityRecord {
  opportunityid?: string;
  name?: string | null;
  /** Becomes the estimate memo, after the name. */
  description?: string | null;
  freightamount?: string | number | null;
  discountamount?: string | number | null;
  discountpercentage?: string | number | null;
  totalamount?: string | number | null;
  /** The opportunity's account (the form's "Account"). */
  _parentaccountid_value?: string | null;
  /** The potential customer: an account or a contact. */
  _customerid_value?: string | null;
  statecode?: number | null;
  statuscode?: number | null;
  qbsync_estimatetxnid?: string | null;
  qbsync_estimatenumber?: string | null;
  qbsync_companyfile?: string | null;
  modifiedon?: string | null;
}

/** An opportunity's product line (`opportunityproduct`): an order line's columns under its own id. */
export interface OpportunityProductRecord extends Omit<SalesOrderLineRecord, 'salesorderdetailid'> {
  opportunityproductid?: string;
}
