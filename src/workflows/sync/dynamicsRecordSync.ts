import { ApplicationFailure, log } from '@temporalio/workflow';
import type { SyncContext } from '../../activities/syncContext';
import type { AccountForQuickBooks, ProductForQuickBooks, SalesOrderForInvoice } from '../../activities/dataverse';
import { accountToCustomerAdd, accountToCustomerMod, customerToAccount } from '../../mapping/customerAccount';
import type { AccountRecord, ProductRecord } from '../../mapping/dataverseRows';
import { numericColumns, orderIdOfInvoiceLink } from '../../mapping/entityRegistry';
import { changedColumns } from '../../mapping/fields';
import { itemToProduct, productToItemAdd, productToItemMod, type SyncedItem } from '../../mapping/itemProduct';
import {
  invoiceToOrderStatus,
  invoiceTotalsDifference,
  salesOrderToInvoice,
  type TotalsDifference,
} from '../../mapping/salesOrderInvoice';
import {
  accountSyncFields,
  decodeSyncBase,
  encodeSyncBase,
  mergeSyncFields,
  productSyncFields,
  PRODUCT_COLUMN_GROUPS,
  sameSyncFields,
  type FieldConflict,
  type SyncFields,
} from '../../mapping/syncBase';
import type { CustomerRet, InvoiceRet, QbRecord, QbxmlRequest } from '../../qbxml/requests';
import { modifyListRecord } from '../companyFile/modifyListRecord';
import { dataverse } from './activities';
import { ownershipPolicy } from './quickbooksRecordSync';
import { addRecord, findInvoices, readCustomer, readItem, rememberOwnWrite } from './quickbooksRecords';
import { mappedOrFail, markRecord, type RecordOutcome } from './recordOutcome';

export interface DynamicsSyncResult {
  outcome: Exclude<RecordOutcome, 'failed'>;
  connection?: string;
  targetId?: string;
  conflicts?: FieldConflict[];
  /** Sales orders: invoice total − order total, reported and never hidden. */
  totals?: TotalsDifference;
  note?: string;
}

/** Loads the context of the connection a Dynamics row belongs to (its company file, or the receiving one). */
export type ContextFor = (connection: string) => Promise<SyncContext>;

const MAX_MERGE_ATTEMPTS = 3;

// ---- accounts and products: rows paired with a QuickBooks list record ------------------------------------------

/** What differs between syncing an account and a product: everything else is the same three-way merge. */
interface PairedRowSpec<
  Row extends { qbsync_companyfile?: string | null; qbsync_qblistid?: string | null },
  Q extends QbRecord,
> {
  entity: 'account' | 'product';
  read(): Promise<{ row: Row & { modifiedon?: string; qbsync_syncbase?: string | null }; etag: string } | null>;
  name(row: Row): string | null | undefined;
  /** The row's synced fields. */
  rowFields(row: Row): SyncFields;
  /** The QuickBooks record's synced fields, as the row would hold them; `base` fills what QuickBooks is silent on. */
  recordFields(
    record: Q,
    connection: string,
    ctx: SyncContext,
    what: string,
    base: SyncFields | null,
    row: SyncFields,
  ): SyncFields;
  /** The record this row becomes, found by name or created. */
  create(row: Row, connection: string, ctx: SyncContext, what: string): Promise<Q>;
  readRecord(connection: string, listId: string): Promise<Q | null>;
  queryById(requestId: string, listId: string): QbxmlRequest;
  /** The Mod that makes `current` agree with the merged row, or null when it already does. */
  modFor(requestId: string, current: Q, merged: Row, ctx: SyncContext, what: string): QbxmlRequest | null;
  columnGroups?: Readonly<Record<string, string>>;
  money?: readonly string[];
}

/**
 * A Dynamics row into its QuickBooks record: created (and its ListID written back) when it has none, otherwise merged
 * three ways with the record, QuickBooks first (EditSequence), then the row (ETag). A row edited again meanwhile is
 * merged again rather than overwritten.
 */
async function pairedRowToQuickBooks<
  Row extends { qbsync_companyfile?: string | null; qbsync_qblistid?: string | null },
  Q extends QbRecord & { listId: string; timeModified?: string },
>(rowId: string, spec: PairedRowSpec<Row, Q>, contextFor: ContextFor): Promise<DynamicsSyncResult> {
  for (let attempt = 1; attempt <= MAX_MERGE_ATTEMPTS; attempt++) {
    const read = await spec.read();
    if (!read) return { outcome: 'unchanged', note: `the ${spec.entity} no longer exists` };
    const { row } = read;
    const connection = row.qbsync_companyfile ?? (await contextFor('')).receivingConnection;
    if (!connection) {
      return { outcome: 'unchanged', note: `no connection receives ${spec.entity}s created in Dynamics` };
    }
    markRecord({ connection });
    const ctx = await contextFor(connection);
    const what = `Dynamics ${spec.entity} ${spec.name(row) ?? rowId}`;
    const writeBack = async (changes: Record<string, unknown>, base: SyncFields): Promise<boolean> => {
      try {
        await dataverse.writeBackToRow({ entity: spec.entity, rowId, etag: read.etag, changes, base });
        return true;
      } catch (err) {
        if (isStaleRow(err) && attempt < MAX_MERGE_ATTEMPTS) return false;
        throw err;
      }
    };
    const dynamicsFields = spec.rowFields(row);

    if (!row.qbsync_qblistid) {
      const record = await spec.create(row, connection, ctx, what);
      const quickbooks = spec.recordFields(record, connection, ctx, what, null, dynamicsFields);
      const changes = changedColumns(quickbooks, dynamicsFields, spec.money as never[]) ?? {};
      const paired = { ...changes, qbsync_companyfile: connection, qbsync_qblistid: record.listId };
      if (!(await writeBack(paired, quickbooks))) continue;
      markRecord({ targetId: record.listId, outcome: 'created' });
      return { outcome: 'created', connection, targetId: record.listId };
    }

    const listId = row.qbsync_qblistid;
    markRecord({ targetId: listId });
    const record = await spec.readRecord(connection, listId);
    if (!record) {
      throw ApplicationFailure.nonRetryable(
        `${what} is linked to QuickBooks record ${listId}, which no longer exists in company file ${connection}`,
        'ObjectNotFoundError',
      );
    }
    const base = decodeSyncBase(row.qbsync_syncbase);
    const quickbooks = spec.recordFields(record, connection, ctx, what, base, dynamicsFields);
    const merge = mappedOrFail(
      mergeSyncFields({
        base,
        quickbooks,
        dynamics: dynamicsFields,
        qbModifiedAt: record.timeModified ?? '',
        dvModifiedAt: row.modifiedon ?? null,
        policy: ownershipPolicy(ctx.settings),
        ...(spec.columnGroups ? { columnGroups: spec.columnGroups } : {}),
      }),
      what,
    );
    const merged = merge.merged;
    let quickbooksChanged = false;
    if (!sameSyncFields(merged, quickbooks)) {
      const result = await modifyListRecord<Q>({
        connection,
        current: record,
        read: (requestId) => spec.queryById(requestId, listId),
        write: (requestId, current) => spec.modFor(requestId, current, { ...row, ...merged }, ctx, what),
      });
      quickbooksChanged = result.changed;
      if (result.changed) await rememberOwnWrite(connection, result.record);
    }
    const changes = changedColumns(merged as Record<string, unknown>, dynamicsFields, spec.money as never[]) ?? {};
    if (Object.keys(changes).length > 0 || row.qbsync_syncbase !== encodeSyncBase(merged)) {
      if (!(await writeBack(changes, merged))) continue;
    }
    const outcome: DynamicsSyncResult['outcome'] =
      merge.conflicts.length > 0
        ? 'conflict'
        : quickbooksChanged || Object.keys(changes).length > 0
          ? 'updated'
          : 'unchanged';
    markRecord({ outcome });
    return { outcome, connection, targetId: listId, conflicts: merge.conflicts };
  }
  throw ApplicationFailure.nonRetryable(
    `the ${spec.entity} kept changing in Dynamics while it was synced`,
    'StaleEtag',
  );
}

/** A Dynamics account into its QuickBooks customer. */
export async function accountToQuickBooks(accountId: string, contextFor: ContextFor): Promise<DynamicsSyncResult> {
  let parentListId: string | null = null;
  const addContext = (ctx: SyncContext) => ({ choices: ctx.choices, ...(parentListId ? { parentListId } : {}) });
  return pairedRowToQuickBooks<AccountForQuickBooks['account'], CustomerRet>(
    accountId,
    {
      entity: 'account',
      read: async () => {
        const read = await dataverse.readAccountForQuickBooks({ accountId });
        parentListId = read?.parentListId ?? null;
        return read ? { row: read.account, etag: read.etag } : null;
      },
      name: (row) => row.name,
      rowFields: (row) => accountSyncFields(row),
      recordFields: (customer, connection, ctx, what, base, row) => {
        const desired = mappedOrFail(
          customerToAccount(customer, { companyFile: connection, choices: ctx.choices }),
          what,
        );
        const fields: Record<string, string | number | null> = { ...accountSyncFields(desired) };
        // A customer without a type has no opinion on the category, which Dynamics owns.
        if (desired.accountcategorycode === undefined) {
          fields.accountcategorycode = base?.accountcategorycode ?? row.accountcategorycode ?? null;
        }
        return fields;
      },
      create: (row, connection, ctx, what) => {
        const fields = mappedOrFail(accountToCustomerAdd(row, addContext(ctx)), what);
        return ensureCustomer(connection, fields.name, (requestId) => ({ type: 'CustomerAdd', requestId, fields }));
      },
      readRecord: (connection, listId) => readCustomer(connection, { listId }),
      queryById: (requestId, listId) => ({ type: 'CustomerQuery', requestId, listIds: [listId] }),
      modFor: (requestId, current, merged, ctx, what) => {
        const fields = mappedOrFail(accountToCustomerMod(merged as AccountRecord, current, addContext(ctx)), what);
        return fields ? { type: 'CustomerMod', requestId, fields } : null;
      },
      money: numericColumns('account'),
    },
    contextFor,
  );
}

function isStaleRow(err: unknown): boolean {
  const cause = (err as { cause?: unknown }).cause;
  return cause instanceof ApplicationFailure && cause.type === 'StaleEtag';
}

/**
 * The customer named `name`, created when missing. A customer already carrying the name (a lost Add answer, a second
 * run, or the same customer entered by hand) is taken as this account's: QuickBooks names are unique per list, and
 * this is the documented rule that keeps a retry from creating a twin.
 */
async function ensureCustomer(
  connection: string,
  name: string,
  add: (requestId: string) => QbxmlRequest & { type: 'CustomerAdd' },
): Promise<CustomerRet> {
  for (let attempt = 1; attempt <= 3; attempt++) {
    const existing = await readCustomer(connection, { fullName: name });
    if (existing) return existing;
    const added = await addRecord<CustomerRet>(connection, add, `customer ${name}`);
    if (added.kind === 'added') return added.record;
    log.info('customer Add answer lost or name taken; looking it up', { name, kind: added.kind });
  }
  throw ApplicationFailure.nonRetryable(`customer ${name} could not be created in ${connection}`, 'CustomerAddFailed');
}

// ---- products ------------------------------------------------------------------------------------------------

/** A Dynamics product into its QuickBooks item. */
export async function productToQuickBooks(productId: string, contextFor: ContextFor): Promise<DynamicsSyncResult> {
  return pairedRowToQuickBooks<ProductForQuickBooks['product'], SyncedItem>(
    productId,
    {
      entity: 'product',
      read: async () => {
        const read = await dataverse.readProductForQuickBooks({ productId });
        return read ? { row: read.product, etag: read.etag } : null;
      },
      name: (row) => row.name,
      rowFields: (row) => productSyncFields(row),
      recordFields: (item, connection, _ctx, what) =>
        productSyncFields(mappedOrFail(itemToProduct(item, { companyFile: connection }), what)),
      create: (row, connection, ctx, what) => ensureItem(connection, row, ctx, what),
      readRecord: (connection, listId) => readItem(connection, { listId }),
      queryById: (requestId, listId) => ({ type: 'ItemQuery', requestId, listIds: [listId] }),
      modFor: (requestId, current, merged, _ctx, what) => {
        const mod = mappedOrFail(productToItemMod(merged as ProductRecord, current), what);
        return mod ? ({ type: `${mod.kind}Mod`, requestId, fields: mod.fields } as QbxmlRequest) : null;
      },
      columnGroups: PRODUCT_COLUMN_GROUPS,
      money: numericColumns('product'),
    },
    contextFor,
  );
}

/** The item named like the product in this company file, created with the configured accounts when missing. */
async function ensureItem(
  connection: string,
  product: ProductRecord,
  ctx: SyncContext,
  what: string,
): Promise<SyncedItem> {
  const add = mappedOrFail(
    productToItemAdd(product, {
      defaultAccounts: ctx.settings.items.accounts,
      itemKind: ctx.settings.items.newItemKind,
    }),
    what,
  );
  for (let attempt = 1; attempt <= 3; attempt++) {
    const existing = await readItem(connection, { fullName: add.fields.name });
    if (existing) return existing;
    const added = await addRecord<SyncedItem>(
      connection,
      (requestId) =>
        ({ type: `${add.kind}Add`, requestId, fields: add.fields }) as QbxmlRequest & { type: 'ItemServiceAdd' },
      `item ${add.fields.name}`,
    );
    if (added.kind === 'added') return added.record;
  }
  throw ApplicationFailure.nonRetryable(
    `item ${add.fields.name} could not be created in ${connection}`,
    'ItemAddFailed',
  );
}

// ---- sales orders --------------------------------------------------------------------------------------------

/**
 * A Dynamics sales order into one QuickBooks invoice. Customer and items first (created when missing), then a look
 * for an invoice already carrying this order's number before adding one: what makes a crash, a lost QBWC answer or a
 * replay safe. Then the invoice's number, TxnID and balance onto the order, and the order to Invoiced.
 */
export async function salesOrderToQuickBooks(orderId: string, contextFor: ContextFor): Promise<DynamicsSyncResult> {
  const read = await dataverse.readSalesOrderForInvoice({ orderId });
  if (!read) return { outcome: 'unchanged', note: 'the order no longer exists' };
  const { order } = read;
  const what = `Dynamics order ${order.ordernumber ?? orderId}`;
  if (order.qbsync_qbtxnid) return { outcome: 'unchanged', targetId: order.qbsync_qbtxnid, note: 'already invoiced' };
  if (order.statecode === 2) return { outcome: 'unchanged', note: 'the order is canceled' };
  if (!read.customer) {
    throw ApplicationFailure.nonRetryable(`${what} has no customer account`, 'MappingError');
  }

  let customerListId = read.customer.listId;
  let connection = read.customer.companyFile;
  if (!customerListId || !connection) {
    // The order's account is new in Dynamics: it becomes a customer first, in the receiving company file.
    const created = await accountToQuickBooks(read.customer.accountId, contextFor);
    const again = await dataverse.readSalesOrderForInvoice({ orderId });
    customerListId = again?.customer?.listId ?? created.targetId ?? null;
    connection = again?.customer?.companyFile ?? created.connection ?? null;
  }
  if (!customerListId || !connection) {
    throw ApplicationFailure.nonRetryable(
      `${what}: its customer ${read.customer.name} could not be paired with a QuickBooks customer`,
      'MappingError',
    );
  }
  markRecord({ connection });
  const ctx = await contextFor(connection);

  const itemListIdByProductId = await itemsForOrder(read, connection, ctx);
  const fields = mappedOrFail(
    salesOrderToInvoice(order, read.lines, {
      customerListId,
      itemListIdByProductId,
      writeInItem: ctx.settings.items.writeInItem,
      discountItem: ctx.settings.items.discountItem,
      freightItem: ctx.settings.items.freightItem,
      refNumber: ctx.settings.invoices.refNumber,
    }),
    what,
  );
  if (!fields.refNumber) {
    throw ApplicationFailure.nonRetryable(
      `${what}: invoices numbered by QuickBooks cannot be matched to their order after a crash; configure a refNumber rule`,
      'MappingError',
    );
  }
  const refNumber = fields.refNumber;
  const ours = (invoice: InvoiceRet): boolean =>
    invoice.customerRef?.listId === customerListId &&
    (invoice.externalGuid === undefined || orderIdOfInvoiceLink(invoice.externalGuid) === orderId.toLowerCase());

  let invoice: InvoiceRet | undefined;
  let outcome: DynamicsSyncResult['outcome'] = 'unchanged';
  for (let attempt = 1; attempt <= 3 && !invoice; attempt++) {
    const existing = await findInvoices(connection, refNumber);
    invoice = existing.find(ours);
    if (invoice) break;
    if (existing.length > 0) {
      throw ApplicationFailure.nonRetryable(
        `${what}: QuickBooks already has invoice ${refNumber} for another customer or order`,
        'DuplicateInvoiceNumber',
      );
    }
    const added = await addRecord<InvoiceRet>(
      connection,
      (requestId) => ({ type: 'InvoiceAdd', requestId, fields }),
      `invoice ${refNumber}`,
    );
    if (added.kind === 'added') {
      invoice = added.record;
      outcome = 'created';
    }
    // Answer lost: the next pass looks for the invoice before trying again.
  }
  if (!invoice) throw ApplicationFailure.nonRetryable(`${what}: the invoice could not be added`, 'InvoiceAddFailed');
  markRecord({ targetId: invoice.txnId });

  const status = mappedOrFail(invoiceToOrderStatus(invoice), `QuickBooks invoice ${refNumber}`);
  const totals = invoiceTotalsDifference(order, invoice);
  if (totals.ok && totals.value.difference !== '0.00') {
    log.warn('invoice total differs from the order total', { order: order.ordernumber, ...totals.value });
  }
  const recorded = await dataverse.recordInvoiceOnOrder({
    orderId,
    txnId: status.txnId,
    invoiceNumber: status.invoiceNumber,
    balance: status.balance,
    paid: status.paid,
  });
  if (outcome === 'unchanged' && recorded.changed) outcome = 'updated';
  markRecord({ outcome });
  return { outcome, connection, targetId: invoice.txnId, ...(totals.ok ? { totals: totals.value } : {}) };
}

/**
 * productid → ListID of the item in the order's company file. A product synced from this file uses its own item; one
 * from another file (or created in Dynamics) is matched by name, and created when the file has no such item.
 */
async function itemsForOrder(
  read: SalesOrderForInvoice,
  connection: string,
  ctx: SyncContext,
): Promise<Record<string, string>> {
  const map: Record<string, string> = {};
  for (const [productId, product] of Object.entries(read.products)) {
    if (product.companyFile === connection && product.listId) {
      map[productId] = product.listId;
      continue;
    }
    const existing = product.name ? await readItem(connection, { fullName: product.name }) : null;
    if (existing) {
      map[productId] = existing.listId;
      continue;
    }
    const full = await dataverse.readProductForQuickBooks({ productId });
    if (!full) continue; // the line then fails the mapping as an unknown product, naming the line
    const what = `Dynamics product ${product.name}`;
    const item = await ensureItem(connection, full.product, ctx, what);
    map[productId] = item.listId;
    if (!product.companyFile) {
      // A product created in Dynamics is paired with the item of the first company file that sells it.
      const base = productSyncFields(mappedOrFail(itemToProduct(item, { companyFile: connection }), what));
      await dataverse.writeBackToRow({
        entity: 'product',
        rowId: productId,
        changes: { qbsync_companyfile: connection, qbsync_qblistid: item.listId },
        base,
      });
    }
  }
  return map;
}
