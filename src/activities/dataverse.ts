import { ApplicationFailure } from '@temporalio/activity';
import { type DataverseClient, type DataverseRow } from '../dataverse/client';
import {
  ENTITY_SETS,
  ensurePriceListItem,
  publishProduct,
  qbListKey,
  salesOrderStatusChange,
  SalesOrderStateCode,
  SalesOrderStatusCode,
} from '../dataverse/entities';
import {
  DataverseConcurrencyError,
  DataverseDuplicateKeyError,
  DataverseError,
  DataverseNotFoundError,
  DataverseThrottledError,
  DataverseKeyNotActiveError,
  DataverseValidationError,
} from '../dataverse/errors';
import {
  accountSyncFields,
  changedColumns,
  decodeSyncBase,
  encodeSyncBase,
  mergeSyncFields,
  productSyncFields,
  sameSyncFields,
  type AccountRecord,
  type AccountWrite,
  type ContactWrite,
  type FieldConflict,
  type OwnershipPolicy,
  type ProductRecord,
  type ProductWrite,
  type SalesOrderLineRecord,
  type SalesOrderRecord,
  type SyncFields,
} from '../mapping';
import { recordSynced } from '../observability/metrics';
import {
  numericColumns,
  ORDER_BALANCE_COLUMN,
  ORDER_INVOICE_STATUS_COLUMN,
  SYNC_BASE_COLUMN,
  TABLES,
} from '../mapping/entityRegistry';
import { etagOf, fromWire, toWire } from './dataverseRows';

export interface DataverseActivityDeps {
  dataverse: DataverseClient;
  /** Price list that carries the QuickBooks sales price of synced products (default: the first active one). */
  priceListName?: string;
}

export type SyncOutcome = 'created' | 'updated' | 'unchanged' | 'conflict';

export interface PartyToDataverseInput {
  desired: AccountWrite;
  contact: ContactWrite | null;
  /** QuickBooks TimeModified of the version `desired` came from. */
  qbModifiedAt: string;
  ownership: OwnershipPolicy;
  /** Customers take Dynamics' changes back; vendors only flow from QuickBooks. */
  returnsToQuickBooks: boolean;
}

export interface ToDataverseResult {
  rowId: string;
  outcome: SyncOutcome;
  /** Columns written to Dataverse (empty when unchanged). */
  written: string[];
  conflicts: FieldConflict[];
  /**
   * The values QuickBooks must take because Dynamics' side won some fields, or null when QuickBooks already agrees.
   * The sync base is committed only after QuickBooks took them (`commitSyncBase`), so a failed QuickBooks write is
   * retried by the next sync instead of being forgotten.
   */
  quickbooksTarget: SyncFields | null;
  etag?: string;
}

export interface AccountForQuickBooks {
  account: AccountRecord & { statecode?: number | null; qbsync_syncbase?: string | null };
  etag: string;
  /** ListID of the parent account's QuickBooks customer in the same company file, when it has one. */
  parentListId: string | null;
}

export interface ProductForQuickBooks {
  product: ProductRecord & { statecode?: number | null; qbsync_syncbase?: string | null };
  etag: string;
}

export interface SalesOrderForInvoice {
  order: SalesOrderRecord & { statecode: number; statuscode: number; modifiedon?: string };
  lines: SalesOrderLineRecord[];
  customer: { accountId: string; name: string; companyFile: string | null; listId: string | null } | null;
  /** productid → its QuickBooks identity (null when the product is not synced to any company file yet). */
  products: Record<string, { name: string; companyFile: string | null; listId: string | null }>;
}

export interface InvoiceOnOrder {
  orderId: string;
  txnId: string;
  invoiceNumber: string;
  balance: string;
  paid: boolean;
}

export interface DataverseChangesInput {
  connection: string;
  receivesNewAccounts: boolean;
  since: { account?: string; product?: string; salesorder?: string };
  /** Per entity and cycle; the cursor stops at the last row handed off. */
  limit?: number;
}

export interface DataverseChanges {
  accountIds: string[];
  productIds: string[];
  salesOrderIds: string[];
  /** modifiedon of the last row looked at per entity (rows beyond `limit` wait for the next cycle). */
  cursors: { account?: string; product?: string; salesorder?: string };
  /** Rows that changed only because the connector wrote them (their fields equal the sync base). */
  echoesSkipped: number;
}

const ACCOUNT_SELECT = TABLES.account.select;
const CONTACT_SELECT = TABLES.contact.select;
const PRODUCT_SELECT = TABLES.product.select;

/**
 * Turns Dataverse errors into failures the workflow can act on: bad data fails the record at once with Dataverse's
 * message; throttling and transport problems stay retryable.
 */
function asFailure(err: unknown, doing: string): unknown {
  // An alternate key still indexing turns Active by itself: retry, never fail the record for it.
  if (err instanceof DataverseThrottledError || err instanceof DataverseKeyNotActiveError) return err;
  if (err instanceof DataverseValidationError || err instanceof DataverseDuplicateKeyError) {
    return ApplicationFailure.nonRetryable(`${doing}: ${err.message}`, err.name);
  }
  if (
    err instanceof DataverseError &&
    err.status >= 400 &&
    err.status < 500 &&
    err.status !== 401 &&
    err.status !== 408
  ) {
    return ApplicationFailure.nonRetryable(`${doing}: ${err.message}`, err.name);
  }
  return err;
}

/** The text columns of `wanted` the row does not hold yet, or null when it holds them all (diff before write). */
function textPatch(row: DataverseRow, wanted: Readonly<Record<string, string>>): DataverseRow | null {
  const patch: DataverseRow = {};
  for (const [column, value] of Object.entries(wanted)) if (str(row, column) !== value) patch[column] = value;
  return Object.keys(patch).length > 0 ? patch : null;
}

function str(row: DataverseRow, column: string): string | null {
  const v = row[column];
  return typeof v === 'string' && v !== '' ? v : null;
}

export function createDataverseActivities({ dataverse, priceListName }: DataverseActivityDeps) {
  let catalog: Promise<{ priceLevelId: string; uomScheduleId: string; uomId: string }> | undefined;

  /** The price list and unit new products use; looked up once per worker (they do not move). */
  function productCatalog(): Promise<{ priceLevelId: string; uomScheduleId: string; uomId: string }> {
    catalog ??= (async () => {
      const filter = priceListName ? `name eq '${priceListName.replace(/'/g, "''")}'` : 'statecode eq 0';
      const priceLevel = await first(ENTITY_SETS.pricelevel, { select: ['pricelevelid', 'name'], filter });
      const schedule = await first(ENTITY_SETS.uomschedule, { select: ['uomscheduleid', 'name'] });
      if (!priceLevel || !schedule) {
        throw ApplicationFailure.nonRetryable(
          `Dataverse has no ${priceLevel ? 'unit group' : `price list${priceListName ? ` named ${priceListName}` : ''}`} for synced products`,
          'CatalogMissing',
        );
      }
      const scheduleId = String(schedule.uomscheduleid);
      const unit = await first(ENTITY_SETS.uom, {
        select: ['uomid', 'name'],
        filter: `_uomscheduleid_value eq ${scheduleId} and quantity eq 1`,
      });
      if (!unit) throw ApplicationFailure.nonRetryable('the unit group has no base unit', 'CatalogMissing');
      return { priceLevelId: String(priceLevel.pricelevelid), uomScheduleId: scheduleId, uomId: String(unit.uomid) };
    })();
    catalog.catch(() => {
      catalog = undefined;
    });
    return catalog;
  }

  async function first(
    entitySet: string,
    options: { select: readonly string[]; filter?: string },
  ): Promise<DataverseRow | undefined> {
    for await (const page of dataverse.query(entitySet, { ...options, top: 1 })) return page[0];
    return undefined;
  }

  /** The one account with this name and relationship type (or none) that no company file has claimed yet. */
  async function unpairedAccountNamed(name: string, relationshipType: number): Promise<DataverseRow | null> {
    const rows: DataverseRow[] = [];
    for await (const row of dataverse.queryRows(ENTITY_SETS.account, {
      select: ACCOUNT_SELECT,
      filter: `name eq '${name.replace(/'/g, "''")}' and qbsync_qblistid eq null and (customertypecode eq ${relationshipType} or customertypecode eq null)`,
      pageSize: 3,
    })) {
      rows.push(row);
      if (rows.length > 1) return null; // ambiguous: two candidates, so a new account is safer than a guess
    }
    return rows[0] ?? null;
  }

  async function upsertContact(contact: ContactWrite, key: { companyFile: string; listId: string }): Promise<void> {
    const current = await dataverse.retrieve(ENTITY_SETS.contact, qbListKey(key.companyFile, key.listId), {
      select: CONTACT_SELECT,
    });
    const {
      'parentcustomerid_account@odata.bind': parentBind,
      qbsync_companyfile,
      qbsync_qblistid,
      ...fields
    } = contact;
    void qbsync_companyfile;
    void qbsync_qblistid;
    if (!current) {
      await dataverse.upsertByKey(
        ENTITY_SETS.contact,
        qbListKey(key.companyFile, key.listId),
        { ...fields, ...(parentBind ? { 'parentcustomerid_account@odata.bind': parentBind } : {}) },
        { mode: 'createOnly' },
      );
      return;
    }
    const changes = changedColumns(fields, current);
    if (changes) {
      await dataverse.update(ENTITY_SETS.contact, String(current.contactid), changes, {
        ...(etagOf(current) ? { etag: etagOf(current)! } : {}),
      });
    }
  }

  /**
   * Three-way merge of one QuickBooks-paired row: the QuickBooks version, the Dataverse row and the base both
   * agreed on last time. Writes what Dataverse must change, with the row's ETag, re-reading on a concurrent change.
   */
  async function mergeIntoRow(args: {
    entitySet: string;
    key: { companyFile: string; listId: string };
    desired: Record<string, unknown>;
    select: readonly string[];
    fields: (row: Record<string, unknown>) => SyncFields;
    money: readonly string[];
    qbModifiedAt: string;
    ownership: OwnershipPolicy;
    returnsToQuickBooks: boolean;
    columnGroups?: Readonly<Record<string, string>>;
    /**
     * An unpaired row that is the same record entered on both sides before the connector ran: taken over (first pairing,
     * merged by the ownership policy) instead of creating a twin.
     */
    adoptable?: () => Promise<DataverseRow | null>;
    /** Columns QuickBooks has no opinion on for this record (e.g. the category of a customer without a type). */
    qbSilent?: readonly string[];
    /** Lookup bindings sent only when the row does not hold that lookup yet (a read returns ids, not keys). */
    binds: (row: DataverseRow | null) => Readonly<Record<string, string | undefined>>;
  }): Promise<ToDataverseResult> {
    const key = qbListKey(args.key.companyFile, args.key.listId);
    const qbFields = args.fields(args.desired);
    for (let attempt = 1; attempt <= 5; attempt++) {
      let current = await dataverse.retrieve(args.entitySet, key, { select: args.select });
      let adopting = false;
      if (!current && args.adoptable) {
        current = await args.adoptable();
        adopting = current !== null;
      }
      if (!current) {
        try {
          const created = await dataverse.upsertByKey(
            args.entitySet,
            key,
            { ...toWire(args.desired), ...args.binds(null), [SYNC_BASE_COLUMN]: encodeSyncBase(qbFields) },
            { mode: 'createOnly', returnRepresentation: true, select: [args.select[0]!] },
          );
          return {
            rowId: created.id ?? String(created.row?.[args.select[0]!] ?? ''),
            outcome: 'created',
            written: Object.keys(args.desired),
            conflicts: [],
            quickbooksTarget: null,
            ...(created.etag ? { etag: created.etag } : {}),
          };
        } catch (err) {
          // Someone created it between our read and write (a webhook run, a second poll): merge into theirs.
          if (err instanceof DataverseDuplicateKeyError || err instanceof DataverseConcurrencyError) continue;
          throw asFailure(err, `creating the ${args.entitySet} row`);
        }
      }
      const row = fromWire<Record<string, unknown>>(current);
      const base = decodeSyncBase(str(current, SYNC_BASE_COLUMN));
      const dynamicsFields: Record<string, string | number | null> = { ...args.fields(row) };
      const quickbooks: Record<string, string | number | null> = { ...qbFields };
      // Silence is not a change: QuickBooks keeps whatever both sides last agreed on (or what Dynamics holds).
      for (const column of args.qbSilent ?? []) quickbooks[column] = base?.[column] ?? dynamicsFields[column] ?? null;
      const quickbooksAsIs = { ...quickbooks };
      if (base === null) {
        // First pairing of a record both sides already had: a blank on one side is not a competing value.
        for (const column of Object.keys(quickbooks)) {
          if (quickbooks[column] === null && dynamicsFields[column] !== null)
            quickbooks[column] = dynamicsFields[column] ?? null;
          else if (dynamicsFields[column] === null && quickbooks[column] !== null)
            dynamicsFields[column] = quickbooks[column] ?? null;
        }
      }
      const merge = mergeSyncFields({
        base,
        quickbooks,
        dynamics: dynamicsFields,
        qbModifiedAt: args.qbModifiedAt,
        dvModifiedAt: str(current, 'modifiedon'),
        policy: args.ownership,
        ...(args.columnGroups ? { columnGroups: args.columnGroups } : {}),
      });
      if (!merge.ok) {
        throw ApplicationFailure.nonRetryable(
          `merging the ${args.entitySet} row: ${merge.errors.map((e) => `${e.field}: ${e.message}`).join('; ')}`,
          'MappingError',
        );
      }
      const merged = merge.value.merged;
      const desiredRow: Record<string, unknown> = { ...args.desired, ...merged };
      const quickbooksNeedsChange = args.returnsToQuickBooks && !sameSyncFields(merged, quickbooksAsIs);
      const changes: Record<string, unknown> = changedColumns(desiredRow, row, args.money as never[]) ?? {};
      const newBase = encodeSyncBase(merged);
      if (!quickbooksNeedsChange && str(current, SYNC_BASE_COLUMN) !== newBase) changes[SYNC_BASE_COLUMN] = newBase;
      for (const [bind, target] of Object.entries(args.binds(current))) if (target) changes[bind] = target;
      if (adopting)
        Object.assign(changes, { qbsync_companyfile: args.key.companyFile, qbsync_qblistid: args.key.listId });
      const written = Object.keys(changes).filter((c) => c !== SYNC_BASE_COLUMN);
      const rowId = String(current[args.select[0]!]);
      let etag = etagOf(current);
      if (Object.keys(changes).length > 0) {
        try {
          const result = await dataverse.update(args.entitySet, rowId, toWire(changes), {
            ...(etag ? { etag } : {}),
          });
          etag = result.etag ?? etag;
        } catch (err) {
          if (err instanceof DataverseConcurrencyError) continue;
          throw asFailure(err, `updating the ${args.entitySet} row`);
        }
      }
      const conflicts = merge.value.conflicts;
      const outcome: SyncOutcome =
        conflicts.length > 0 ? 'conflict' : written.length > 0 || quickbooksNeedsChange ? 'updated' : 'unchanged';
      return {
        rowId,
        outcome,
        written,
        conflicts,
        quickbooksTarget: quickbooksNeedsChange ? merged : null,
        ...(etag ? { etag } : {}),
      };
    }
    throw ApplicationFailure.retryable(`the ${args.entitySet} row kept changing while we wrote it`, 'StaleEtag');
  }

  return {
    /** A QuickBooks customer or vendor into its account (and primary contact). */
    async syncPartyToDataverse(input: PartyToDataverseInput): Promise<ToDataverseResult> {
      const key = { companyFile: input.desired.qbsync_companyfile, listId: input.desired.qbsync_qblistid };
      const { 'parentaccountid@odata.bind': parentBind, ...desired } = input.desired;
      const result = await mergeIntoRow({
        entitySet: ENTITY_SETS.account,
        key,
        desired,
        select: ACCOUNT_SELECT,
        fields: (row) => accountSyncFields(row as AccountRecord),
        money: numericColumns('account'),
        qbModifiedAt: input.qbModifiedAt,
        ownership: input.ownership,
        returnsToQuickBooks: input.returnsToQuickBooks,
        qbSilent: desired.accountcategorycode === undefined ? ['accountcategorycode'] : [],
        ...(input.returnsToQuickBooks && !parentBind
          ? { adoptable: () => unpairedAccountNamed(desired.name, desired.customertypecode) }
          : {}),
        binds: (row) =>
          parentBind &&
          (row === null || row._parentaccountid_value === null || row._parentaccountid_value === undefined)
            ? { 'parentaccountid@odata.bind': parentBind }
            : {},
      });
      if (input.contact) {
        try {
          await upsertContact(input.contact, key);
        } catch (err) {
          throw asFailure(err, 'writing the primary contact');
        }
      }
      const entity = input.desired.customertypecode === 3 ? 'customer' : 'vendor';
      recordSynced(entity, 'quickbooks-to-dataverse', result.outcome);
      return result;
    },

    /** A QuickBooks item into its product, with its price on the price list, published when created as Draft. */
    async syncItemToDataverse(input: {
      desired: ProductWrite;
      qbModifiedAt: string;
      ownership: OwnershipPolicy;
      returnsToQuickBooks: boolean;
    }): Promise<ToDataverseResult> {
      const cat = await productCatalog();
      const result = await mergeIntoRow({
        entitySet: ENTITY_SETS.product,
        key: { companyFile: input.desired.qbsync_companyfile, listId: input.desired.qbsync_qblistid },
        desired: { ...input.desired },
        select: PRODUCT_SELECT,
        fields: (row) => productSyncFields(row as ProductRecord),
        money: numericColumns('product'),
        qbModifiedAt: input.qbModifiedAt,
        ownership: input.ownership,
        returnsToQuickBooks: input.returnsToQuickBooks,
        binds: (row) =>
          row === null
            ? {
                'defaultuomscheduleid@odata.bind': `/uomschedules(${cat.uomScheduleId})`,
                'defaultuomid@odata.bind': `/uoms(${cat.uomId})`,
                'pricelevelid@odata.bind': `/pricelevels(${cat.priceLevelId})`,
              }
            : {},
      });
      try {
        await publishProduct(dataverse, result.rowId);
        const price = input.desired.price;
        if (price !== null) {
          await ensurePriceListItem(dataverse, {
            priceLevelId: cat.priceLevelId,
            productId: result.rowId,
            uomId: cat.uomId,
            amount: price,
          });
        }
      } catch (err) {
        throw asFailure(err, 'publishing the product and its price');
      }
      recordSynced('item', 'quickbooks-to-dataverse', result.outcome);
      return result;
    },

    /** Records that both systems now hold `fields` (after QuickBooks took Dynamics' side of a merge). */
    async commitSyncBase(input: { entity: 'account' | 'product'; rowId: string; fields: SyncFields }): Promise<void> {
      try {
        await dataverse.update(ENTITY_SETS[input.entity], input.rowId, {
          [SYNC_BASE_COLUMN]: encodeSyncBase(input.fields),
        });
      } catch (err) {
        throw asFailure(err, `recording the sync base on ${input.entity} ${input.rowId}`);
      }
    },

    async readAccountForQuickBooks(input: { accountId: string }): Promise<AccountForQuickBooks | null> {
      const row = await dataverse.retrieve(ENTITY_SETS.account, input.accountId, { select: ACCOUNT_SELECT });
      if (!row) return null;
      const account = fromWire<AccountForQuickBooks['account']>(row);
      let parentListId: string | null = null;
      const parentId = str(row, '_parentaccountid_value');
      if (parentId) {
        const parent = await dataverse.retrieve(ENTITY_SETS.account, parentId, {
          select: ['accountid', 'qbsync_companyfile', 'qbsync_qblistid'],
        });
        if (parent && str(parent, 'qbsync_companyfile') === account.qbsync_companyfile) {
          parentListId = str(parent, 'qbsync_qblistid');
        }
      }
      return { account, etag: etagOf(row) ?? '', parentListId };
    },

    async readProductForQuickBooks(input: { productId: string }): Promise<ProductForQuickBooks | null> {
      const row = await dataverse.retrieve(ENTITY_SETS.product, input.productId, { select: PRODUCT_SELECT });
      if (!row) return null;
      return { product: fromWire<ProductForQuickBooks['product']>(row), etag: etagOf(row) ?? '' };
    },

    /**
     * Writes back onto a row what the QuickBooks side decided: the ListID of a customer or item created from it, the
     * merged fields, the new sync base. With `etag`, a concurrent edit in Dynamics fails the write (`StaleEtag`) so the
     * workflow merges again instead of overwriting it.
     */
    async writeBackToRow(input: {
      entity: 'account' | 'product';
      rowId: string;
      etag?: string;
      changes: Record<string, unknown>;
      base: SyncFields | null;
    }): Promise<{ written: string[] }> {
      const body: Record<string, unknown> = { ...input.changes };
      if (input.base) body[SYNC_BASE_COLUMN] = encodeSyncBase(input.base);
      if (Object.keys(body).length === 0) return { written: [] };
      try {
        await dataverse.update(ENTITY_SETS[input.entity], input.rowId, toWire(body), {
          ...(input.etag ? { etag: input.etag } : {}),
        });
      } catch (err) {
        if (err instanceof DataverseConcurrencyError) {
          throw ApplicationFailure.nonRetryable(
            `${input.entity} ${input.rowId} changed in Dynamics meanwhile`,
            'StaleEtag',
          );
        }
        throw asFailure(err, `writing back to ${input.entity} ${input.rowId}`);
      }
      const created = 'qbsync_qblistid' in input.changes;
      recordSynced(input.entity, 'dataverse-to-quickbooks', created ? 'created' : 'updated');
      return { written: Object.keys(input.changes) };
    },

    async readSalesOrderForInvoice(input: { orderId: string }): Promise<SalesOrderForInvoice | null> {
      const row = await dataverse.retrieve(ENTITY_SETS.salesorder, input.orderId, { select: TABLES.salesorder.select });
      if (!row) return null;
      const order = fromWire<SalesOrderForInvoice['order']>(row);
      const lines: SalesOrderLineRecord[] = [];
      for await (const line of dataverse.queryRows(ENTITY_SETS.salesorderdetail, {
        select: TABLES.salesorderdetail.select,
        filter: `_salesorderid_value eq ${input.orderId}`,
      })) {
        lines.push(fromWire<SalesOrderLineRecord>(line));
      }
      let customer: SalesOrderForInvoice['customer'] = null;
      const customerId = str(row, '_customerid_value');
      if (customerId) {
        const account = await dataverse.retrieve(ENTITY_SETS.account, customerId, {
          select: ['accountid', 'name', 'qbsync_companyfile', 'qbsync_qblistid'],
        });
        if (account) {
          customer = {
            accountId: String(account.accountid),
            name: str(account, 'name') ?? '',
            companyFile: str(account, 'qbsync_companyfile'),
            listId: str(account, 'qbsync_qblistid'),
          };
        }
      }
      // Every product of the order in one request, not one per line.
      const productIds = [...new Set(lines.map((l) => l._productid_value).filter((id): id is string => !!id))];
      const found = new Map<string, DataverseRow>();
      if (productIds.length > 0) {
        for await (const product of dataverse.queryRows(ENTITY_SETS.product, {
          select: ['productid', 'name', 'qbsync_companyfile', 'qbsync_qblistid'],
          filter: productIds.map((id) => `productid eq ${id}`).join(' or '),
        })) {
          found.set(String(product.productid).toLowerCase(), product);
        }
      }
      const products: SalesOrderForInvoice['products'] = {};
      for (const productId of productIds) {
        const product = found.get(productId.toLowerCase());
        products[productId] = {
          name: product ? (str(product, 'name') ?? '') : '',
          companyFile: product ? str(product, 'qbsync_companyfile') : null,
          listId: product ? str(product, 'qbsync_qblistid') : null,
        };
      }
      return { order, lines, customer, products };
    },

    /**
     * The invoice's identity and balance onto the order, then the order to Invoiced. In that order: Dynamics makes a
     * non-active order read-only, so the numbers must land first.
     */
    async recordInvoiceOnOrder(input: InvoiceOnOrder): Promise<{ changed: boolean; state: number }> {
      const status = input.paid ? 'Paid' : 'Open';
      let changed = false;
      try {
        const result = await dataverse.updateWithRetry(
          ENTITY_SETS.salesorder,
          input.orderId,
          (row) =>
            textPatch(row, {
              qbsync_qbtxnid: input.txnId,
              qbsync_invoicenumber: input.invoiceNumber,
              [ORDER_BALANCE_COLUMN]: input.balance,
              [ORDER_INVOICE_STATUS_COLUMN]: status,
            }),
          {
            select: [
              'salesorderid',
              'statecode',
              'qbsync_qbtxnid',
              'qbsync_invoicenumber',
              ORDER_BALANCE_COLUMN,
              ORDER_INVOICE_STATUS_COLUMN,
            ],
          },
        );
        changed = result.changed;
        let state = -1;
        const moved = await dataverse.updateWithRetry(
          ENTITY_SETS.salesorder,
          input.orderId,
          (row) => {
            state = typeof row.statecode === 'number' ? row.statecode : -1;
            return state === SalesOrderStateCode.Active || state === SalesOrderStateCode.Submitted
              ? { ...salesOrderStatusChange(SalesOrderStatusCode.Invoiced) }
              : null;
          },
          { select: ['salesorderid', 'statecode', 'statuscode'] },
        );
        if (moved.changed) state = SalesOrderStateCode.Invoiced;
        recordSynced('salesorder', 'dataverse-to-quickbooks', changed || moved.changed ? 'updated' : 'unchanged');
        return { changed: changed || moved.changed, state };
      } catch (err) {
        throw asFailure(err, `recording invoice ${input.invoiceNumber} on order ${input.orderId}`);
      }
    },

    /**
     * A payment landed in QuickBooks: the invoice's balance and paid state onto the order it was made from. Orders not
     * linked to this invoice yet are left to their own sync, which records everything at once.
     */
    async recordInvoicePayment(input: {
      orderId: string;
      txnId: string;
      balance: string;
      paid: boolean;
    }): Promise<{ changed: boolean }> {
      const status = input.paid ? 'Paid' : 'Open';
      try {
        // One read: the check that the order is linked to this invoice happens on the row the update starts from.
        const { changed } = await dataverse.updateWithRetry(
          ENTITY_SETS.salesorder,
          input.orderId,
          (current) =>
            str(current, 'qbsync_qbtxnid') !== input.txnId
              ? null
              : textPatch(current, { [ORDER_BALANCE_COLUMN]: input.balance, [ORDER_INVOICE_STATUS_COLUMN]: status }),
          { select: ['salesorderid', 'qbsync_qbtxnid', ORDER_BALANCE_COLUMN, ORDER_INVOICE_STATUS_COLUMN] },
        );
        return { changed };
      } catch (err) {
        if (err instanceof DataverseNotFoundError) return { changed: false };
        throw asFailure(err, `recording the payment of invoice ${input.txnId} on order ${input.orderId}`);
      }
    },

    /**
     * What changed in Dynamics since the cursors, for one connection: accounts and products whose synced fields differ
     * from their sync base (the connector's own writes do not count), new accounts when this connection receives them,
     * and sales orders not invoiced yet whose customer belongs to this company file.
     */
    async listDataverseChanges(input: DataverseChangesInput): Promise<DataverseChanges> {
      const limit = input.limit ?? 2000;
      const out: DataverseChanges = {
        accountIds: [],
        productIds: [],
        salesOrderIds: [],
        cursors: { ...input.since },
        echoesSkipped: 0,
      };
      const mine = `qbsync_companyfile eq '${input.connection.replace(/'/g, "''")}'`;
      const mineOrNew = `(${mine} or qbsync_companyfile eq null)`;
      /** Rows modified since the entity's cursor, oldest first, at most `limit`; the cursor follows each row seen. */
      const changed = async (
        entity: keyof DataverseChanges['cursors'],
        select: readonly string[],
        filter: string,
        visit: (row: DataverseRow) => void,
      ): Promise<void> => {
        const since = input.since[entity];
        let seen = 0;
        for await (const row of dataverse.queryRows(ENTITY_SETS[entity], {
          select,
          filter: since ? `${filter} and modifiedon ge ${since}` : filter,
          orderby: 'modifiedon asc',
          pageSize: 500,
        })) {
          if (seen++ >= limit) break;
          out.cursors[entity] = str(row, 'modifiedon') ?? out.cursors[entity];
          visit(row);
        }
      };
      /** A paired row whose synced fields equal its sync base changed only because the connector wrote it. */
      const isEcho = (row: DataverseRow, fields: SyncFields): boolean => {
        const base = decodeSyncBase(str(row, SYNC_BASE_COLUMN));
        if (base && sameSyncFields(base, fields)) {
          out.echoesSkipped++;
          return true;
        }
        return false;
      };

      await changed('account', ACCOUNT_SELECT, input.receivesNewAccounts ? mineOrNew : mine, (row) => {
        const account = fromWire<AccountRecord>(row);
        if (str(row, 'qbsync_qblistid') === null) {
          const type = row.customertypecode;
          if (type === null || type === undefined || type === 3) out.accountIds.push(String(row.accountid));
        } else if (!isEcho(row, accountSyncFields(account)) && account.customertypecode === 3) {
          out.accountIds.push(String(row.accountid));
        }
      });
      await changed('product', PRODUCT_SELECT, mineOrNew, (row) => {
        if (str(row, 'qbsync_qblistid') === null) {
          if (input.receivesNewAccounts) out.productIds.push(String(row.productid));
        } else if (!isEcho(row, productSyncFields(fromWire<ProductRecord>(row)))) {
          out.productIds.push(String(row.productid));
        }
      });
      await changed(
        'salesorder',
        ['salesorderid', 'modifiedon', '_customerid_value', 'qbsync_qbtxnid', 'statecode'],
        'statecode eq 0 and qbsync_qbtxnid eq null',
        (row) => out.salesOrderIds.push(String(row.salesorderid)),
      );
      return out;
    },
  };
}

export type DataverseActivities = ReturnType<typeof createDataverseActivities>;
