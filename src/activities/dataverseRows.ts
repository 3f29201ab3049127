import { type DataverseRow } from '../dataverse/client';
import { moneyToWire } from '../dataverse/entities';
import { ADDRESS_PARTS } from '../mapping/dataverseRows';

/**
 * The columns the sync reads and writes, and the conversion between the mapping's row shapes (money as decimal text)
 * and the Web API's JSON (money and decimals as numbers).
 */

export const SYNC_BASE_COLUMN = 'qbsync_syncbase';
export const ORDER_BALANCE_COLUMN = 'qbsync_balance';
export const ORDER_INVOICE_STATUS_COLUMN = 'qbsync_invoicestatus';

const addressColumns = (prefix: string): string[] => ADDRESS_PARTS.map((part) => `${prefix}_${part}`);

export const ACCOUNT_SELECT = [
  'accountid',
  'name',
  'accountnumber',
  'customertypecode',
  'accountcategorycode',
  'telephone1',
  'fax',
  'emailaddress1',
  'paymenttermscode',
  'creditlimit',
  ...addressColumns('address1'),
  ...addressColumns('address2'),
  '_parentaccountid_value',
  'statecode',
  'modifiedon',
  'qbsync_companyfile',
  'qbsync_qblistid',
  SYNC_BASE_COLUMN,
] as const;

export const CONTACT_SELECT = [
  'contactid',
  'firstname',
  'lastname',
  'emailaddress1',
  'telephone1',
  'jobtitle',
  '_parentcustomerid_value',
] as const;

export const PRODUCT_SELECT = [
  'productid',
  'name',
  'productnumber',
  'description',
  'producttypecode',
  'price',
  'standardcost',
  'quantityonhand',
  'statecode',
  'modifiedon',
  'qbsync_companyfile',
  'qbsync_qblistid',
  SYNC_BASE_COLUMN,
] as const;

export const SALES_ORDER_SELECT = [
  'salesorderid',
  'name',
  'ordernumber',
  'description',
  'freightamount',
  'discountamount',
  'discountpercentage',
  'totalamount',
  ...addressColumns('billto'),
  ...addressColumns('shipto'),
  '_customerid_value',
  'statecode',
  'statuscode',
  'modifiedon',
  'qbsync_qbtxnid',
  'qbsync_invoicenumber',
  ORDER_BALANCE_COLUMN,
  ORDER_INVOICE_STATUS_COLUMN,
] as const;

export const SALES_ORDER_LINE_SELECT = [
  'salesorderdetailid',
  'lineitemnumber',
  '_productid_value',
  'isproductoverridden',
  'productdescription',
  'quantity',
  'priceperunit',
  'manualdiscountamount',
  'extendedamount',
] as const;

/** Columns the Web API sends as JSON numbers and the mapping reads as decimal text (money and decimals). */
const MONEY_COLUMNS = new Set([
  'creditlimit',
  'price',
  'standardcost',
  'freightamount',
  'discountamount',
  'totalamount',
  'priceperunit',
  'manualdiscountamount',
  'extendedamount',
]);
const DECIMAL_COLUMNS = new Set(['quantityonhand', 'quantity', 'discountpercentage']);

/** A mapping-shaped row (money as decimal text) as a Web API body. */
export function toWire(row: Readonly<Record<string, unknown>>): DataverseRow {
  const body: DataverseRow = {};
  for (const [column, value] of Object.entries(row)) {
    if (value === undefined) continue;
    if ((MONEY_COLUMNS.has(column) || DECIMAL_COLUMNS.has(column)) && typeof value === 'string') {
      body[column] = MONEY_COLUMNS.has(column) ? moneyToWire(value) : Number(value);
    } else {
      body[column] = value;
    }
  }
  return body;
}

/** A Web API row with numbers turned back into decimal text, the way the mapping reads money. */
export function fromWire<T>(row: DataverseRow): T {
  const out: Record<string, unknown> = {};
  for (const [column, value] of Object.entries(row)) {
    if (column.includes('@')) continue;
    out[column] =
      typeof value === 'number' && (MONEY_COLUMNS.has(column) || DECIMAL_COLUMNS.has(column)) ? String(value) : value;
  }
  return out as T;
}

export function etagOf(row: DataverseRow): string | undefined {
  const etag = row['@odata.etag'];
  return typeof etag === 'string' ? etag : undefined;
}
