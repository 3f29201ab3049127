import Decimal from 'decimal.js';
import { type DataverseClient, type DataverseRow, type UpdateWithRetryOptions } from './client';
import { DataverseDuplicateKeyError, DataverseValidationError } from './errors';
import { type AlternateKey, isGuid } from './odataAddress';

/**
 * The Dynamics 365 Sales tables the connector reads and writes (reference §2), their choice values (§2.1) and
 * the connector's own provisioned columns. Rows are JSON-safe; money travels as decimal strings so amounts agree
 * with QuickBooks to the cent.
 */

// ---- connector columns (created by provisioning) -------------------------------------------------------

/** QuickBooks ListID of the source record (account, contact, product). */
export const QB_LIST_ID_COLUMN = 'qbsync_qblistid';
/** Which QuickBooks company file the row came from: several files feed one organisation. */
export const COMPANY_FILE_COLUMN = 'qbsync_companyfile';
/** QuickBooks TxnID of the invoice/order a sales order is paired with. */
export const QB_TXN_ID_COLUMN = 'qbsync_qbtxnid';
/** QuickBooks invoice number (RefNumber) once the order was invoiced there. */
export const INVOICE_NUMBER_COLUMN = 'qbsync_invoicenumber';
/** When the paired QuickBooks record was deleted (its TimeDeleted); the row is kept, deactivated. */
export const QB_DELETED_COLUMN = 'qbsync_qbdeletedon';
/** Alternate key (company file, ListID) on account, contact and product. */
export const SOURCE_KEY_NAME = 'qbsync_sourcekey';

export const ENTITY_SETS = {
  account: 'accounts',
  contact: 'contacts',
  product: 'products',
  uom: 'uoms',
  uomschedule: 'uomschedules',
  pricelevel: 'pricelevels',
  productpricelevel: 'productpricelevels',
  salesorder: 'salesorders',
  salesorderdetail: 'salesorderdetails',
  invoice: 'invoices',
  organization: 'organizations',
} as const;
export type TableName = keyof typeof ENTITY_SETS;

/** Address of a row fed from QuickBooks by its alternate key. */
export function qbListKey(companyFile: string, listId: string): AlternateKey {
  return { [COMPANY_FILE_COLUMN]: companyFile, [QB_LIST_ID_COLUMN]: listId };
}

/** `"/accounts(<id>)"` for `<navigation>@odata.bind`. */
export function bindTo(table: TableName, id: string): string {
  if (!isGuid(id)) throw new TypeError(`cannot bind ${table} to "${id}": not a row id`);
  return `/${ENTITY_SETS[table]}(${id})`;
}

// ---- choices --------------------------------------------------------------------------------------------

/** `account.customertypecode` ("Relationship Type"). QuickBooks customer → Customer, vendor → Vendor. */
export const CustomerTypeCode = {
  Competitor: 1,
  Consultant: 2,
  Customer: 3,
  Investor: 4,
  Partner: 5,
  Influencer: 6,
  Press: 7,
  Prospect: 8,
  Reseller: 9,
  Supplier: 10,
  Vendor: 11,
  Other: 12,
} as const;

export interface StateAndStatus {
  statecode: number;
  statuscode: number;
}

/** Product state with its default status (statecode and statuscode always travel together). */
export const ProductState = {
  Active: { statecode: 0, statuscode: 1 },
  Retired: { statecode: 1, statuscode: 2 },
  Draft: { statecode: 2, statuscode: 0 },
  UnderRevision: { statecode: 3, statuscode: 3 },
} as const satisfies Record<string, StateAndStatus>;

export const SalesOrderStateCode = { Active: 0, Submitted: 1, Canceled: 2, Fulfilled: 3, Invoiced: 4 } as const;

export const SalesOrderStatusCode = {
  New: 1,
  Pending: 2,
  InProgress: 3,
  NoMoney: 4,
  Complete: 100001,
  Partial: 100002,
  Invoiced: 100003,
} as const;

const SALES_ORDER_STATE_OF_STATUS: ReadonlyMap<number, number> = new Map([
  [SalesOrderStatusCode.New, SalesOrderStateCode.Active],
  [SalesOrderStatusCode.Pending, SalesOrderStateCode.Active],
  [SalesOrderStatusCode.InProgress, SalesOrderStateCode.Submitted],
  [SalesOrderStatusCode.NoMoney, SalesOrderStateCode.Canceled],
  [SalesOrderStatusCode.Complete, SalesOrderStateCode.Fulfilled],
  [SalesOrderStatusCode.Partial, SalesOrderStateCode.Fulfilled],
  [SalesOrderStatusCode.Invoiced, SalesOrderStateCode.Invoiced],
]);

/**
 * The PATCH body that moves a sales order to `statuscode`: statecode cannot be set on create and must always be
 * sent with a matching statuscode (reference §2). Other columns may travel in the same update: the Update message
 * writes them and then changes the state, in one transaction (assumed from the Update message's handling of
 * statecode since v9, not tried on a real organisation; the sandbox checks the order editable before the update).
 */
export function salesOrderStatusChange(statuscode: number): StateAndStatus {
  const statecode = SALES_ORDER_STATE_OF_STATUS.get(statuscode);
  if (statecode === undefined) throw new RangeError(`unknown salesorder statuscode ${statuscode}`);
  return { statecode, statuscode };
}

// ---- money ----------------------------------------------------------------------------------------------

/** Decimal string such as `"1234.50"`; never a binary float inside the connector. */
export type Money = string;

/**
 * Dataverse sends money as JSON numbers. Amounts with up to 15 significant digits survive JSON.parse exactly and
 * `Number#toString` gives back their shortest decimal form, which is what we keep.
 */
export function moneyFromWire(value: unknown): Money | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number' && Number.isFinite(value)) return new Decimal(value.toString()).toFixed();
  if (typeof value === 'string' && value.trim() !== '') return new Decimal(value).toFixed();
  throw new TypeError(`not a money value: ${JSON.stringify(value)}`);
}

/** The JSON number to send for a decimal string, refusing amounts a double cannot carry exactly. */
export function moneyToWire(value: Money): number {
  const d = new Decimal(value);
  if (!d.isFinite()) throw new TypeError(`not a money value: ${value}`);
  if (d.precision(true) > 15 || d.decimalPlaces() > 4) {
    throw new RangeError(`money value ${value} has more precision than Dataverse money (15 digits, 4 decimals) keeps`);
  }
  const n = d.toNumber();
  if (!new Decimal(n.toString()).equals(d)) throw new RangeError(`money value ${value} cannot be sent exactly`);
  return n;
}

// ---- rows -----------------------------------------------------------------------------------------------

interface RowBase {
  '@odata.etag'?: string;
  statecode?: number;
  statuscode?: number;
  modifiedon?: string;
}

interface QbSourced {
  qbsync_companyfile?: string | null;
  qbsync_qblistid?: string | null;
}

export interface ProductRow extends RowBase, QbSourced {
  productid?: string;
  name?: string;
  productnumber?: string;
  description?: string | null;
  producttypecode?: number | null;
  productstructure?: number | null;
  price?: Money | null;
  standardcost?: Money | null;
  _defaultuomid_value?: string | null;
  _defaultuomscheduleid_value?: string | null;
  _parentproductid_value?: string | null;
}

export interface ProductPriceLevelRow extends RowBase {
  productpricelevelid?: string;
  amount?: Money | null;
  _pricelevelid_value?: string | null;
  _productid_value?: string | null;
  _uomid_value?: string | null;
}

const ADDRESS1 = ['line1', 'line2', 'line3', 'city', 'stateorprovince', 'postalcode', 'country'].map(
  (p) => `address1_${p}`,
);

/** `$select` lists: only what the connector maps, so reads stay small and diffs stay meaningful. */
const COLUMNS = {
  account: [
    'accountid',
    'name',
    'accountnumber',
    'customertypecode',
    'accountcategorycode',
    ...ADDRESS1,
    'telephone1',
    'emailaddress1',
    'paymenttermscode',
    '_primarycontactid_value',
    '_defaultpricelevelid_value',
    '_transactioncurrencyid_value',
    'statecode',
    'statuscode',
    'modifiedon',
    COMPANY_FILE_COLUMN,
    QB_LIST_ID_COLUMN,
  ],
  contact: [
    'contactid',
    'firstname',
    'lastname',
    'fullname',
    'emailaddress1',
    'telephone1',
    '_parentcustomerid_value',
    'statecode',
    'statuscode',
    'modifiedon',
    COMPANY_FILE_COLUMN,
    QB_LIST_ID_COLUMN,
  ],
  product: [
    'productid',
    'name',
    'productnumber',
    'description',
    'producttypecode',
    'productstructure',
    'price',
    'standardcost',
    '_defaultuomid_value',
    '_defaultuomscheduleid_value',
    '_parentproductid_value',
    'statecode',
    'statuscode',
    'modifiedon',
    COMPANY_FILE_COLUMN,
    QB_LIST_ID_COLUMN,
  ],
  uomschedule: ['uomscheduleid', 'name', 'baseuomname'],
  uom: ['uomid', 'name', 'quantity', '_uomscheduleid_value', '_baseuom_value'],
  pricelevel: ['pricelevelid', 'name', '_transactioncurrencyid_value', 'statecode', 'statuscode'],
  productpricelevel: ['productpricelevelid', 'amount', '_pricelevelid_value', '_productid_value', '_uomid_value'],
  salesorder: [
    'salesorderid',
    'name',
    'ordernumber',
    'paymenttermscode',
    'freightamount',
    'discountamount',
    'totalamount',
    '_customerid_value',
    '_pricelevelid_value',
    '_transactioncurrencyid_value',
    'statecode',
    'statuscode',
    'modifiedon',
    COMPANY_FILE_COLUMN,
    QB_TXN_ID_COLUMN,
    INVOICE_NUMBER_COLUMN,
  ],
  salesorderdetail: [
    'salesorderdetailid',
    'quantity',
    'priceperunit',
    'manualdiscountamount',
    'extendedamount',
    'isproductoverridden',
    'ispriceoverridden',
    'productdescription',
    'lineitemnumber',
    '_salesorderid_value',
    '_productid_value',
    '_uomid_value',
  ],
} as const satisfies Partial<Record<TableName, readonly string[]>>;

/** Money columns per table: converted to decimal strings on read. Quantities are decimals too. */
const DECIMAL_COLUMNS: Partial<Record<TableName, readonly string[]>> = {
  product: ['price', 'standardcost'],
  uom: ['quantity'],
  productpricelevel: ['amount'],
  salesorder: ['freightamount', 'discountamount', 'totalamount'],
  salesorderdetail: ['quantity', 'priceperunit', 'manualdiscountamount', 'extendedamount'],
};

/** A Web API row with its decimal columns turned into strings. */
export function rowFromWire<T extends RowBase>(table: TableName, row: DataverseRow): T {
  const out: DataverseRow = { ...row };
  for (const column of DECIMAL_COLUMNS[table] ?? []) {
    if (column in out) out[column] = moneyFromWire(out[column]);
  }
  return out as T;
}

// ---- products -------------------------------------------------------------------------------------------

export interface PublishResult {
  /** True when this call moved the product to Active. */
  changed: boolean;
  /** statecode before the call. */
  previousState: number;
}

/**
 * Draft (or Under Revision) → Active, the Web API form of "publish" (reference §2.2). Already-active products are
 * left alone; retired ones are not revived (that is a mapping decision, not a publishing one).
 */
export async function publishProduct(client: DataverseClient, productId: string): Promise<PublishResult> {
  let previousState = -1;
  const { changed } = await client.updateWithRetry(
    ENTITY_SETS.product,
    productId,
    (row) => {
      previousState = typeof row.statecode === 'number' ? row.statecode : -1;
      if (previousState === ProductState.Draft.statecode || previousState === ProductState.UnderRevision.statecode) {
        return { ...ProductState.Active };
      }
      return null;
    },
    { select: ['productid', 'statecode', 'statuscode'] },
  );
  return { changed, previousState };
}

// ---- price lists ----------------------------------------------------------------------------------------

export interface PriceListItem {
  priceLevelId: string;
  productId: string;
  uomId: string;
  amount: Money;
}

export interface EnsureResult {
  id: string;
  outcome: 'created' | 'updated' | 'unchanged';
}

/**
 * One price per (price list, product, unit): Dataverse refuses a second with `0x80043b08`, so look first, write
 * only a differing amount, and treat a duplicate on create (someone else won the race) as "look again".
 */
export async function ensurePriceListItem(
  client: DataverseClient,
  item: PriceListItem,
  options: {
    /**
     * The product was created by the caller just now, so it has no price-list item yet: the look is skipped (one
     * request less per new product). Should another run of the same record have made one meanwhile, the create is
     * refused as a duplicate and the look follows, as without this option.
     */
    productIsNew?: boolean;
    /**
     * Creates the price-list item instead of a POST of its own, e.g. through a bulk creator shared with other
     * activities; must answer the new row's id, or fail with Dataverse's error for this row (a duplicate alone).
     */
    create?: (row: DataverseRow) => Promise<{ id: string | undefined }>;
  } = {},
): Promise<EnsureResult> {
  for (const id of [item.priceLevelId, item.productId, item.uomId]) {
    if (!isGuid(id)) throw new TypeError(`price list item needs row ids, got "${id}"`);
  }
  const wireAmount = moneyToWire(item.amount);
  for (let attempt = 1; attempt <= 2; attempt += 1) {
    const existing = attempt === 1 && options.productIsNew ? undefined : await findPriceListItem(client, item);
    if (existing) {
      const id = String(existing.productpricelevelid ?? '');
      const current = rowFromWire<ProductPriceLevelRow>('productpricelevel', existing).amount;
      if (current !== null && current !== undefined && new Decimal(current).equals(item.amount)) {
        return { id, outcome: 'unchanged' };
      }
      const { changed } = await client.updateWithRetry(ENTITY_SETS.productpricelevel, id, (row) => {
        const now = moneyFromWire(row.amount);
        return now !== null && new Decimal(now).equals(item.amount) ? null : { amount: wireAmount };
      });
      return { id, outcome: changed ? 'updated' : 'unchanged' };
    }
    try {
      const row: DataverseRow = {
        'pricelevelid@odata.bind': bindTo('pricelevel', item.priceLevelId),
        'productid@odata.bind': bindTo('product', item.productId),
        'uomid@odata.bind': bindTo('uom', item.uomId),
        amount: wireAmount,
      };
      const created = options.create
        ? await options.create(row)
        : await client.create(ENTITY_SETS.productpricelevel, row);
      if (!created.id) {
        throw new DataverseValidationError({
          connection: client.connection,
          status: 0,
          code: '',
          message: 'productpricelevel created without an OData-EntityId',
        });
      }
      return { id: created.id, outcome: 'created' };
    } catch (err) {
      if (!(err instanceof DataverseDuplicateKeyError) || attempt === 2) throw err;
    }
  }
  throw new Error('unreachable');
}

/** What `publishWithDefaultPriceList` reads of a product (a bulk reader handed in as `read` selects the same). */
export const PUBLISHING_COLUMNS: readonly string[] = ['productid', 'statecode', 'statuscode', '_pricelevelid_value'];

/**
 * Publishes the product (Draft or Under Revision → Active, as `publishProduct`) and makes `priceLevelId` its default
 * price list when it has none, in one read and at most one write: run after `ensurePriceListItem`, since Dataverse
 * takes a default price list only once the product has an item in it. Whether Dataverse takes the state and the
 * default in one Update is an assumption (the Update message accepts statecode/statuscode with other columns since
 * SetState was deprecated; not confirmed against a real organisation for products). `priceLevelId` null only
 * publishes.
 */
export async function publishWithDefaultPriceList(
  client: DataverseClient,
  productId: string,
  priceLevelId: string | null,
  options: Pick<UpdateWithRetryOptions, 'read' | 'write'> = {},
): Promise<{ changed: boolean }> {
  if (!isGuid(productId) || (priceLevelId !== null && !isGuid(priceLevelId))) {
    throw new TypeError(`publishing needs row ids, got "${productId}" and "${priceLevelId}"`);
  }
  const { changed } = await client.updateWithRetry(
    ENTITY_SETS.product,
    productId,
    (row) => {
      const changes: DataverseRow = {};
      if (row.statecode === ProductState.Draft.statecode || row.statecode === ProductState.UnderRevision.statecode) {
        Object.assign(changes, ProductState.Active);
      }
      const current = row._pricelevelid_value;
      if (priceLevelId !== null && !(typeof current === 'string' && current.length > 0)) {
        changes['pricelevelid@odata.bind'] = bindTo('pricelevel', priceLevelId);
      }
      return Object.keys(changes).length > 0 ? changes : null;
    },
    { select: PUBLISHING_COLUMNS, ...options },
  );
  return { changed };
}

async function findPriceListItem(client: DataverseClient, item: PriceListItem): Promise<DataverseRow | undefined> {
  const filter = [
    `_pricelevelid_value eq ${item.priceLevelId}`,
    `_productid_value eq ${item.productId}`,
    `_uomid_value eq ${item.uomId}`,
  ].join(' and ');
  for await (const page of client.query(ENTITY_SETS.productpricelevel, {
    select: COLUMNS.productpricelevel,
    filter,
    pageSize: 2,
  })) {
    return page[0];
  }
  return undefined;
}
