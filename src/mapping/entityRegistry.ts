import { ADDRESS_PARTS } from './dataverseRows';
import { CURRENCY_DECIMALS, PRODUCT_COLUMN_LIMITS } from './columnLimits';
import { DATAVERSE_MONEY_DECIMALS } from './money';

/**
 * The one place that says what the sync knows about each table and record: entity sets, the columns it reads, which
 * columns are money or decimals (and their precision), the alternate key, whether a webhook for the table starts a
 * sync, and how a record's workflow id is built and parsed. Plain data and string work: workflows import it, and
 * every list of columns, entities or ids in the connector reads it instead of keeping a copy.
 */

// ---- connector columns ---------------------------------------------------------------------------------------

/** The company file a row belongs to (several files feed one organisation). */
export const COMPANY_FILE_COLUMN = 'qbsync_companyfile';
/** QuickBooks ListID of the record an account, contact or product is paired with. */
export const LIST_ID_COLUMN = 'qbsync_qblistid';
/** The synced fields both systems last agreed on (see `syncBase.ts`). */
export const SYNC_BASE_COLUMN = 'qbsync_syncbase';
/**
 * When the QuickBooks record an account or product was paired with was deleted (its TimeDeleted): the row is kept,
 * deactivated, and no longer synced. Dynamics rows are never deleted by the connector.
 */
export const DELETED_IN_QUICKBOOKS_COLUMN = 'qbsync_qbdeletedon';
/** QuickBooks TxnID of the invoice made from a sales order. */
export const TXN_ID_COLUMN = 'qbsync_qbtxnid';
export const INVOICE_NUMBER_COLUMN = 'qbsync_invoicenumber';
export const ORDER_BALANCE_COLUMN = 'qbsync_balance';
export const ORDER_INVOICE_STATUS_COLUMN = 'qbsync_invoicestatus';
/**
 * Sales-order mode (`invoices.via: salesOrder`): TxnID and number of the QuickBooks sales order made from a Dynamics
 * order. The invoices accounting then makes from it are the order's invoice rows; the order itself shows their numbers
 * (INVOICE_NUMBER_COLUMN) and how far it is invoiced (ORDER_INVOICE_STATUS_COLUMN).
 */
export const SALES_ORDER_TXN_ID_COLUMN = 'qbsync_salesordertxnid';
export const SALES_ORDER_NUMBER_COLUMN = 'qbsync_salesordernumber';
/**
 * The columns the connector writes onto a sales order: the invoice's id, number, balance, state, and in sales-order
 * mode the QuickBooks sales order's id and number.
 */
export const ORDER_INVOICE_COLUMNS: readonly string[] = [
  TXN_ID_COLUMN,
  INVOICE_NUMBER_COLUMN,
  ORDER_BALANCE_COLUMN,
  ORDER_INVOICE_STATUS_COLUMN,
  SALES_ORDER_TXN_ID_COLUMN,
  SALES_ORDER_NUMBER_COLUMN,
];

/** TxnID and number of the QuickBooks estimate made from a won opportunity. */
export const ESTIMATE_TXN_ID_COLUMN = 'qbsync_estimatetxnid';
export const ESTIMATE_NUMBER_COLUMN = 'qbsync_estimatenumber';
/** The columns the connector writes onto a won opportunity once its estimate is made (with its company file). */
const OPPORTUNITY_ESTIMATE_COLUMNS: readonly string[] = [
  ESTIMATE_TXN_ID_COLUMN,
  ESTIMATE_NUMBER_COLUMN,
  COMPANY_FILE_COLUMN,
];
/**
 * The QuickBooks invoice in Dynamics: an invoice row made from its order (`ConvertSalesOrderToInvoice`), carrying the
 * company file, TxnID, number, balance and status in the connector's columns. An invoiced order is read-only, so what
 * changes after the invoice (payments, a deletion) lands here.
 */
export const INVOICE_ROW = {
  entitySet: 'invoices',
  idColumn: 'invoiceid',
  orderColumn: '_salesorderid_value',
  select: [
    'invoiceid',
    '_salesorderid_value',
    'statecode',
    'statuscode',
    COMPANY_FILE_COLUMN,
    TXN_ID_COLUMN,
    INVOICE_NUMBER_COLUMN,
    ORDER_BALANCE_COLUMN,
    ORDER_INVOICE_STATUS_COLUMN,
  ],
} as const;

const addressColumns = (prefix: string): string[] => ADDRESS_PARTS.map((part) => `${prefix}_${part}`);

// ---- tables --------------------------------------------------------------------------------------------------

export interface TableEntry {
  entitySet: string;
  idColumn: string;
  /** The `$select` of the sync's reads. */
  select: readonly string[];
  /** Money columns → decimals Dataverse keeps; read and written as decimal text, compared by value. */
  money: Readonly<Record<string, number>>;
  /** Decimal (non-money) columns → their precision; same handling as money. */
  decimals: Readonly<Record<string, number>>;
  /** The connector's alternate key: rows fed from QuickBooks are upserted by it. */
  alternateKey: readonly string[] | null;
  /** A webhook for this table starts (or signals) its `dataverseRecordSync`: only tables that flow to QuickBooks. */
  webhooks: boolean;
}

const LIST_KEY = [COMPANY_FILE_COLUMN, LIST_ID_COLUMN] as const;

export const TABLES = {
  account: {
    entitySet: 'accounts',
    idColumn: 'accountid',
    select: [
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
      COMPANY_FILE_COLUMN,
      LIST_ID_COLUMN,
      SYNC_BASE_COLUMN,
      DELETED_IN_QUICKBOOKS_COLUMN,
    ],
    // Credit limit follows the currency's precision (2 by default): Dataverse stores 12.345 as 12.35.
    money: { creditlimit: CURRENCY_DECIMALS },
    decimals: {},
    alternateKey: LIST_KEY,
    webhooks: true,
  },
  contact: {
    entitySet: 'contacts',
    idColumn: 'contactid',
    select: [
      'contactid',
      'firstname',
      'lastname',
      'emailaddress1',
      'telephone1',
      'jobtitle',
      '_parentcustomerid_value',
    ],
    money: {},
    decimals: {},
    alternateKey: LIST_KEY,
    // Contacts only flow from QuickBooks (a customer's or vendor's primary contact): nothing to sync back.
    webhooks: false,
  },
  product: {
    entitySet: 'products',
    idColumn: 'productid',
    select: [
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
      COMPANY_FILE_COLUMN,
      LIST_ID_COLUMN,
      SYNC_BASE_COLUMN,
      DELETED_IN_QUICKBOOKS_COLUMN,
    ],
    money: {
      price: PRODUCT_COLUMN_LIMITS.price.decimals,
      standardcost: PRODUCT_COLUMN_LIMITS.standardcost.decimals,
    },
    decimals: { quantityonhand: PRODUCT_COLUMN_LIMITS.quantityonhand.decimals },
    alternateKey: LIST_KEY,
    webhooks: true,
  },
  salesorder: {
    entitySet: 'salesorders',
    idColumn: 'salesorderid',
    select: [
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
      ...ORDER_INVOICE_COLUMNS,
    ],
    money: {
      freightamount: DATAVERSE_MONEY_DECIMALS,
      discountamount: DATAVERSE_MONEY_DECIMALS,
      totalamount: DATAVERSE_MONEY_DECIMALS,
    },
    decimals: { discountpercentage: 2 },
    alternateKey: null,
    webhooks: true,
  },
  salesorderdetail: {
    entitySet: 'salesorderdetails',
    idColumn: 'salesorderdetailid',
    select: [
      'salesorderdetailid',
      'lineitemnumber',
      '_productid_value',
      'isproductoverridden',
      'productdescription',
      'quantity',
      'priceperunit',
      'manualdiscountamount',
      'extendedamount',
      'modifiedon',
    ],
    money: {
      priceperunit: DATAVERSE_MONEY_DECIMALS,
      manualdiscountamount: DATAVERSE_MONEY_DECIMALS,
      extendedamount: DATAVERSE_MONEY_DECIMALS,
    },
    decimals: { quantity: 5 },
    alternateKey: null,
    // An order's lines are synced with their order (the order's webhook covers a save of both).
    webhooks: false,
  },
  opportunity: {
    entitySet: 'opportunities',
    idColumn: 'opportunityid',
    select: [
      'opportunityid',
      'name',
      'description',
      'freightamount',
      'discountamount',
      'discountpercentage',
      'totalamount',
      '_parentaccountid_value',
      '_customerid_value',
      'statecode',
      'statuscode',
      'modifiedon',
      ...OPPORTUNITY_ESTIMATE_COLUMNS,
    ],
    money: {
      freightamount: DATAVERSE_MONEY_DECIMALS,
      discountamount: DATAVERSE_MONEY_DECIMALS,
      totalamount: DATAVERSE_MONEY_DECIMALS,
    },
    decimals: { discountpercentage: 2 },
    alternateKey: null,
    // A won opportunity goes to QuickBooks at once (its account as a customer, and an estimate where configured).
    webhooks: true,
  },
  opportunityproduct: {
    entitySet: 'opportunityproducts',
    idColumn: 'opportunityproductid',
    select: [
      'opportunityproductid',
      'lineitemnumber',
      '_productid_value',
      'isproductoverridden',
      'productdescription',
      'quantity',
      'priceperunit',
      'manualdiscountamount',
      'extendedamount',
      'modifiedon',
    ],
    money: {
      priceperunit: DATAVERSE_MONEY_DECIMALS,
      manualdiscountamount: DATAVERSE_MONEY_DECIMALS,
      extendedamount: DATAVERSE_MONEY_DECIMALS,
    },
    decimals: { quantity: 5 },
    alternateKey: null,
    // Products of an opportunity are read with it; a won opportunity is read-only anyway.
    webhooks: false,
  },
} as const satisfies Record<string, TableEntry>;

export type SyncedTable = keyof typeof TABLES;

/** The columns of `table` that Dataverse sends as JSON numbers and the mapping reads as decimal text. */
export function numericColumns(table: SyncedTable): readonly string[] {
  const entry: TableEntry = TABLES[table];
  return [...Object.keys(entry.money), ...Object.keys(entry.decimals)];
}

/** Every money or decimal column of every synced table (column names do not clash across tables). */
export const NUMERIC_COLUMNS: ReadonlySet<string> = new Set(
  (Object.keys(TABLES) as SyncedTable[]).flatMap(numericColumns),
);
export const MONEY_COLUMNS: ReadonlySet<string> = new Set(
  Object.values(TABLES).flatMap((entry: TableEntry) => Object.keys(entry.money)),
);

/** Tables whose webhook deliveries start a record sync; any other table is acknowledged and dropped. */
export const WEBHOOK_TABLES: ReadonlySet<string> = new Set(
  (Object.keys(TABLES) as SyncedTable[]).filter((table) => TABLES[table].webhooks),
);

// ---- record workflow ids -------------------------------------------------------------------------------------

/** Dataverse tables with a record workflow (`d365/<table>/<id>`): the ones that flow to QuickBooks. */
export type DynamicsEntity = 'account' | 'product' | 'salesorder' | 'opportunity';
/** QuickBooks lists with a record workflow (`qb/<connection>/<entity>/<ListID>`). */
export type QuickBooksEntity = 'customer' | 'vendor' | 'item';

const DYNAMICS_ENTITIES: readonly DynamicsEntity[] = ['account', 'product', 'salesorder', 'opportunity'];
const QUICKBOOKS_ENTITIES: readonly QuickBooksEntity[] = ['customer', 'vendor', 'item'];

export class RecordIdError extends Error {
  override readonly name = 'RecordIdError';
}

function segment(label: string, value: string): string {
  if (value.length === 0) throw new RecordIdError(`${label} must not be empty`);
  // A '/' inside a part would make two different records share an ID (a/b + c vs a + b/c).
  if (value.includes('/')) throw new RecordIdError(`${label} must not contain '/': ${JSON.stringify(value)}`);
  if (value.trim() !== value) throw new RecordIdError(`${label} must not have surrounding whitespace`);
  return value;
}

/**
 * `d365/<entity>/<id>`. Every trigger for the same record (webhook, poll, replay) computes the same id, so Temporal
 * collapses them into one run. One Dynamics organisation serves every connection and a row's company file is known
 * only once it is read (an order belongs to its customer's file), so the id names the row alone. Dataverse GUIDs are
 * case-insensitive and the Web API returns them lower-case, so the id is lower-cased here.
 */
export function dataverseRecordWorkflowId(entity: string, id: string): string {
  return `d365/${segment('entity', entity)}/${segment('id', id).toLowerCase()}`;
}

/** `qb/<connection>/<entity>/<ListID or TxnID>`. QuickBooks ids are kept verbatim: they are opaque to us. */
export function quickBooksRecordWorkflowId(connection: string, entity: string, listIdOrTxnId: string): string {
  return `qb/${segment('connection', connection)}/${segment('entity', entity)}/${segment('id', listIdOrTxnId)}`;
}

export type RecordWorkflow =
  | { side: 'dynamics'; entity: DynamicsEntity; id: string }
  | { side: 'quickbooks'; connection: string; entity: QuickBooksEntity; listId: string };

/** The record a record workflow id names, or null for any other workflow id (or an entity no longer synced). */
export function parseRecordWorkflowId(workflowId: string): RecordWorkflow | null {
  const parts = workflowId.split('/');
  if (parts[0] === 'd365' && parts.length === 3) {
    const [, entity, id] = parts;
    if (!entity || !id || !(DYNAMICS_ENTITIES as readonly string[]).includes(entity)) return null;
    return { side: 'dynamics', entity: entity as DynamicsEntity, id };
  }
  if (parts[0] === 'qb' && parts.length === 4) {
    const [, connection, entity, listId] = parts;
    if (!connection || !listId || !(QUICKBOOKS_ENTITIES as readonly string[]).includes(entity ?? '')) return null;
    return { side: 'quickbooks', connection, entity: entity as QuickBooksEntity, listId };
  }
  return null;
}

// ---- the invoice → order link --------------------------------------------------------------------------------

const GUID_TEXT = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
/** A Dataverse row id as the Web API gives it. */
const ROW_ID = new RegExp(`^${GUID_TEXT}$`, 'i');
/** An `ExternalGUID` as QuickBooks returns it: braces are the documented form, but tolerated when missing. */
const EXTERNAL_GUID = new RegExp(`^\\{?(${GUID_TEXT})\\}?$`, 'i');

/**
 * The `ExternalGUID` an invoice made from this order carries: the order's id in braces, upper-case, the form qbXML
 * requires. Null for anything that is not a GUID (QuickBooks would refuse the request).
 */
export function invoiceLinkToOrder(orderId: string): string | null {
  return ROW_ID.test(orderId) ? `{${orderId.toUpperCase()}}` : null;
}

/** The order id (lower-case, no braces) an invoice's `ExternalGUID` names, or null when it names none. */
export function orderIdOfInvoiceLink(externalGuid: string | undefined): string | null {
  return EXTERNAL_GUID.exec((externalGuid ?? '').trim())?.[1]?.toLowerCase() ?? null;
}
