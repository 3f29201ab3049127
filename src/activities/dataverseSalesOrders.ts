import { ApplicationFailure, log } from '@temporalio/activity';
import { type DataverseClient, type DataverseRow } from '../dataverse/client';
import { salesOrderStatusChange, SalesOrderStateCode, SalesOrderStatusCode } from '../dataverse/entities';
import { DataverseNotFoundError, DataverseValidationError } from '../dataverse/errors';
import { type SalesOrderLineRecord, type SalesOrderRecord } from '../mapping';
import {
  COMPANY_FILE_COLUMN,
  INVOICE_NUMBER_COLUMN,
  INVOICE_ROW,
  ORDER_BALANCE_COLUMN,
  TABLES,
  TXN_ID_COLUMN,
} from '../mapping/entityRegistry';
import {
  invoiceRowPlan,
  InvoiceRowState,
  orderStillEditable,
  type InvoiceRowWanted,
} from '../mapping/salesOrderInvoice';
import { deletedInvoiceOnOrder } from '../mapping/quickbooksDeletions';
import { odataString } from '../dataverse/odataAddress';
import { recordSynced } from '../observability/metrics';
import { type BulkActionCalls } from './bulkCreates';
import { BulkRowReader, guidLiteral, type BulkReadOptions } from './bulkReads';
import { rowUpdates, type BulkRowUpdater, type RowUpdate } from './bulkUpdates';
import { asFailure } from './dataverseFailure';
import { fromWire, textOf, textPatch } from './dataverseRows';

/**
 * The Dataverse side of the sales order → invoice flow and of payments → invoice status: the order as the invoice
 * needs it, and the QuickBooks invoice as the order's invoice row (identity, balance, paid state).
 */

export interface SalesOrderForInvoice {
  order: SalesOrderRecord & { statecode: number; statuscode: number; modifiedon?: string };
  lines: SalesOrderLineRecord[];
  customer: { accountId: string; name: string; companyFile: string | null; listId: string | null } | null;
  /** productid → its QuickBooks identity (null when the product is not synced to any company file yet). */
  products: Record<string, { name: string; companyFile: string | null; listId: string | null }>;
}

/** A QuickBooks invoice's balance and paid state, for the invoice row of the order it was made from. */
export interface InvoicePayment {
  orderId: string;
  txnId: string;
  /** Amount still owed, to the cent. */
  balance: string;
  paid: boolean;
  connection?: string;
}

/** An order and its lines as read at one moment, without what they point at. */
export type SalesOrderVersion = Pick<SalesOrderForInvoice, 'order' | 'lines'>;

export interface InvoiceOnOrder {
  orderId: string;
  txnId: string;
  invoiceNumber: string;
  balance: string;
  paid: boolean;
  /** The company file the invoice is in (absent in runs started before invoice rows: the order's, if any). */
  connection?: string;
}

const PAIRING = ['qbsync_companyfile', 'qbsync_qblistid'];

/**
 * The worker's bulk readers of the sales order flow (issue 15, item 3): the orders, lines, customers and products of
 * concurrent order runs, read in one query per table and page of ids instead of four requests an order.
 */
export interface SalesOrderReaders {
  orders: BulkRowReader;
  /** Lines by their order's id. */
  lines: BulkRowReader;
  accounts: BulkRowReader;
  products: BulkRowReader;
  /** An order's state and invoice link (company file, TxnID, number), read before they are written. */
  invoiceLinks: BulkRowReader;
  /** Invoice rows by the TxnID of the QuickBooks invoice they stand for. */
  invoicesByTxnId: BulkRowReader;
  /** Invoice rows made from an order that carry no TxnID yet (a conversion whose answer or stamp was lost). */
  unstampedInvoicesOfOrder: BulkRowReader;
}

/** What an order's invoice write-back reads of the order first. */
const INVOICE_LINK = ['salesorderid', 'statecode', COMPANY_FILE_COLUMN, TXN_ID_COLUMN, INVOICE_NUMBER_COLUMN];

const ORDER_OF_LINE = '_salesorderid_value';

/** The bulk readers of the sales order flow, on the worker's own client. */
export function createSalesOrderReaders(dataverse: DataverseClient, options: BulkReadOptions = {}): SalesOrderReaders {
  const byId = (entitySet: string, column: string, select: readonly string[]): BulkRowReader =>
    new BulkRowReader(dataverse, { entitySet, column, select, literal: guidLiteral }, options);
  return {
    orders: byId(TABLES.salesorder.entitySet, TABLES.salesorder.idColumn, TABLES.salesorder.select),
    lines: byId(TABLES.salesorderdetail.entitySet, ORDER_OF_LINE, [...TABLES.salesorderdetail.select, ORDER_OF_LINE]),
    accounts: byId(TABLES.account.entitySet, TABLES.account.idColumn, ['accountid', 'name', ...PAIRING]),
    products: byId(TABLES.product.entitySet, TABLES.product.idColumn, ['productid', 'name', ...PAIRING]),
    invoiceLinks: byId(TABLES.salesorder.entitySet, TABLES.salesorder.idColumn, INVOICE_LINK),
    invoicesByTxnId: new BulkRowReader(
      dataverse,
      { entitySet: INVOICE_ROW.entitySet, column: TXN_ID_COLUMN, select: INVOICE_ROW.select },
      options,
    ),
    unstampedInvoicesOfOrder: new BulkRowReader(
      dataverse,
      {
        entitySet: INVOICE_ROW.entitySet,
        column: INVOICE_ROW.orderColumn,
        select: INVOICE_ROW.select,
        groupFilter: () => `${TXN_ID_COLUMN} eq null`,
        literal: guidLiteral,
      },
      options,
    ),
  };
}

/**
 * The Dataverse invoice rows that stand for QuickBooks invoices (`INVOICE_ROW`): found by TxnID, made from their order,
 * brought to what QuickBooks says. Shared by the sales order → invoice flow and the sales-order mode.
 */
export function createInvoiceRows(
  dataverse: DataverseClient,
  /** How rows are updated: the worker's bulk updaters when the activities have them, else one PATCH each. */
  updateRow: RowUpdate = rowUpdates(dataverse, undefined),
  /** The worker's bulk readers: the two look-ups of an invoice row then share queries with other orders' runs. */
  readers?: Pick<SalesOrderReaders, 'invoicesByTxnId' | 'unstampedInvoicesOfOrder'>,
  /** The worker's `ConvertSalesOrderToInvoice` caller: conversions of concurrent runs then share a `$batch`. */
  conversions?: BulkActionCalls,
) {
  /**
   * The invoice row standing for QuickBooks invoice `txnId`: by its TxnID, else (with an order) the row made from
   * the order that carries no TxnID yet — a conversion whose answer or whose stamp was lost — so a retry or a replay
   * never converts the order twice.
   */
  const invoiceRowOf = async (orderId: string | null, txnId: string): Promise<DataverseRow | null> => {
    if (readers) {
      // Both looks at once, each in a query shared with other runs; the TxnID's row still wins over an unstamped one.
      const [byTxnId, unstamped] = await Promise.all([
        readers.invoicesByTxnId.read('', txnId),
        orderId !== null ? readers.unstampedInvoicesOfOrder.read('', orderId) : Promise.resolve([]),
      ]);
      return byTxnId[0] ?? unstamped[0] ?? null;
    }
    const filters = [`${TXN_ID_COLUMN} eq ${odataString(txnId)}`];
    if (orderId !== null) filters.push(`${INVOICE_ROW.orderColumn} eq ${orderId} and ${TXN_ID_COLUMN} eq null`);
    for (const filter of filters) {
      for await (const row of dataverse.queryRows(INVOICE_ROW.entitySet, {
        select: [...INVOICE_ROW.select],
        filter,
        pageSize: 2,
      })) {
        return row;
      }
    }
    return null;
  };

  /** `ConvertSalesOrderToInvoice`: the order's invoice row, with its lines, made by the platform. */
  const convertOrder = async (orderId: string): Promise<DataverseRow> => {
    const body = { SalesOrderId: orderId, ColumnSet: { AllColumns: false, Columns: [...INVOICE_ROW.select] } };
    const row = (
      conversions
        ? await conversions.call(body)
        : (await dataverse.execute('POST', 'ConvertSalesOrderToInvoice', { body })).body
    ) as DataverseRow | null;
    if (!row || typeof row.invoiceid !== 'string') {
      throw new Error(`ConvertSalesOrderToInvoice answered order ${orderId} without an invoice`);
    }
    return row;
  };

  /** Applies `invoiceRowPlan`: reactivate, write, then Paid or Canceled, each only when needed. */
  const bringInvoiceRow = async (row: DataverseRow, wanted: InvoiceRowWanted): Promise<boolean> => {
    const id = String(row.invoiceid);
    const plan = invoiceRowPlan(row, wanted);
    if (plan.reactivate) await updateRow(INVOICE_ROW.entitySet, id, { ...InvoiceRowState.Active });
    if (Object.keys(plan.columns).length > 0) await updateRow(INVOICE_ROW.entitySet, id, plan.columns);
    if (plan.close) await updateRow(INVOICE_ROW.entitySet, id, { ...plan.close });
    return plan.reactivate || Object.keys(plan.columns).length > 0 || plan.close !== null;
  };

  return { invoiceRowOf, convertOrder, bringInvoiceRow };
}

export function createDataverseSalesOrderActivities({
  dataverse,
  bulkReads,
  bulkUpdates,
  orderConversions,
}: {
  dataverse: DataverseClient;
  /** Without them each read is its own request. */
  bulkReads?: SalesOrderReaders;
  /** The worker's bulk updaters by entity set (`bulkUpdates.ts`); without them every update is its own PATCH. */
  bulkUpdates?: ReadonlyMap<string, BulkRowUpdater>;
  /** The worker's `ConvertSalesOrderToInvoice` caller (`bulkCreates.ts`); without it each conversion is a request. */
  orderConversions?: BulkActionCalls;
}) {
  const updateRow = rowUpdates(dataverse, bulkUpdates);
  /** The order row and its lines: two requests, or two shared queries. */
  const readOrderAndLines = async (
    orderId: string,
  ): Promise<{ row: DataverseRow; order: SalesOrderForInvoice['order']; lines: SalesOrderLineRecord[] } | null> => {
    if (bulkReads) {
      const [row] = await bulkReads.orders.read('', orderId);
      if (!row) return null;
      const lines = (await bulkReads.lines.read('', orderId)).map((line) => {
        // Selected only to find the line's order: a line reads as it always did, since runs compare their reads.
        const { [ORDER_OF_LINE]: _order, ...rest } = line;
        void _order;
        return fromWire<SalesOrderLineRecord>(rest);
      });
      return { row, order: fromWire<SalesOrderForInvoice['order']>(row), lines };
    }
    const row = await dataverse.retrieve(TABLES.salesorder.entitySet, orderId, { select: TABLES.salesorder.select });
    if (!row) return null;
    const lines: SalesOrderLineRecord[] = [];
    for await (const line of dataverse.queryRows(TABLES.salesorderdetail.entitySet, {
      select: TABLES.salesorderdetail.select,
      filter: `_salesorderid_value eq ${orderId}`,
    })) {
      lines.push(fromWire<SalesOrderLineRecord>(line));
    }
    return { row, order: fromWire<SalesOrderForInvoice['order']>(row), lines };
  };

  const { invoiceRowOf, convertOrder, bringInvoiceRow } = createInvoiceRows(
    dataverse,
    updateRow,
    bulkReads,
    orderConversions,
  );

  /**
   * The invoice row of an order's QuickBooks invoice, made now for an order invoiced before invoice rows existed (its
   * TxnID on the order). Null when the order is not linked to this invoice, or the platform will not convert it (a
   * canceled order): then there is nothing to record the payment on, and the record is not failed for ever.
   */
  const invoiceRowOrBackfill = async (
    orderId: string,
    txnId: string,
  ): Promise<{ invoice: DataverseRow; created: boolean; invoiceNumber?: string; companyFile?: string } | null> => {
    const order = await dataverse.retrieve(TABLES.salesorder.entitySet, orderId, {
      select: ['salesorderid', COMPANY_FILE_COLUMN, TXN_ID_COLUMN, INVOICE_NUMBER_COLUMN],
    });
    const extra = {
      ...(order && textOf(order, INVOICE_NUMBER_COLUMN)
        ? { invoiceNumber: textOf(order, INVOICE_NUMBER_COLUMN)! }
        : {}),
      ...(order && textOf(order, COMPANY_FILE_COLUMN) ? { companyFile: textOf(order, COMPANY_FILE_COLUMN)! } : {}),
    };
    const found = await invoiceRowOf(order && textOf(order, TXN_ID_COLUMN) === txnId ? orderId : null, txnId);
    if (found) return { invoice: found, created: false, ...extra };
    if (!order || textOf(order, TXN_ID_COLUMN) !== txnId) return null;
    try {
      return { invoice: await convertOrder(orderId), created: true, ...extra };
    } catch (err) {
      if (err instanceof DataverseValidationError) {
        log.warn('order invoiced before invoice rows cannot be converted', { orderId, txnId, err: err.message });
        return null;
      }
      throw err;
    }
  };

  /** The products with these ids, by lower-case id: one request, or one value each of a shared query. */
  const productsById = async (productIds: readonly string[]): Promise<Map<string, DataverseRow>> => {
    const found = new Map<string, DataverseRow>();
    if (productIds.length === 0) return found;
    if (bulkReads) {
      const rows = await Promise.all(productIds.map((id) => bulkReads.products.read('', id)));
      for (const row of rows.flat()) found.set(String(row.productid).toLowerCase(), row);
      return found;
    }
    for await (const product of dataverse.queryRows(TABLES.product.entitySet, {
      select: ['productid', 'name', ...PAIRING],
      filter: productIds.map((id) => `productid eq ${id}`).join(' or '),
    })) {
      found.set(String(product.productid).toLowerCase(), product);
    }
    return found;
  };

  return {
    /**
     * The order and its lines only, without its customer and products: what the flow compares with the read its
     * invoice was built from, right before the Add is queued and once the invoice is recorded.
     */
    async readSalesOrderVersion(input: { orderId: string }): Promise<SalesOrderVersion | null> {
      const read = await readOrderAndLines(input.orderId);
      return read ? { order: read.order, lines: read.lines } : null;
    },

    async readSalesOrderForInvoice(input: { orderId: string }): Promise<SalesOrderForInvoice | null> {
      const read = await readOrderAndLines(input.orderId);
      if (!read) return null;
      const { row, order, lines } = read;
      let customer: SalesOrderForInvoice['customer'] = null;
      const customerId = textOf(row, '_customerid_value');
      if (customerId) {
        const account = bulkReads
          ? ((await bulkReads.accounts.read('', customerId))[0] ?? null)
          : await dataverse.retrieve(TABLES.account.entitySet, customerId, {
              select: ['accountid', 'name', ...PAIRING],
            });
        if (account) {
          customer = {
            accountId: String(account.accountid),
            name: textOf(account, 'name') ?? '',
            companyFile: textOf(account, 'qbsync_companyfile'),
            listId: textOf(account, 'qbsync_qblistid'),
          };
        }
      }
      // Every product of the order in one request, not one per line.
      const productIds = [...new Set(lines.map((l) => l._productid_value).filter((id): id is string => !!id))];
      const found = await productsById(productIds);
      const products: SalesOrderForInvoice['products'] = {};
      for (const productId of productIds) {
        const product = found.get(productId.toLowerCase());
        products[productId] = {
          name: product ? (textOf(product, 'name') ?? '') : '',
          companyFile: product ? textOf(product, 'qbsync_companyfile') : null,
          listId: product ? textOf(product, 'qbsync_qblistid') : null,
        };
      }
      return { order, lines, customer, products };
    },

    /**
     * The QuickBooks invoice into Dynamics: its invoice row (found by its TxnID, else the row this order was converted
     * into before its answer was lost, else made now by `ConvertSalesOrderToInvoice`) carries its company file, TxnID,
     * number, balance and status (Paid through the invoice's state); then, while the order is still editable, its
     * TxnID and number onto the order and the order to Invoiced (SetState). The row comes first: an order that shows
     * a TxnID is skipped by later runs, so its invoice row must already exist. The activity keeps its name so that
     * runs started before invoice rows existed replay; what it does is the invoice row's.
     */
    async recordInvoiceOnOrder(input: InvoiceOnOrder): Promise<{ changed: boolean; state: number }> {
      try {
        const order = bulkReads
          ? ((await bulkReads.invoiceLinks.read('', input.orderId))[0] ?? null)
          : await dataverse.retrieve(TABLES.salesorder.entitySet, input.orderId, { select: INVOICE_LINK });
        if (!order) {
          throw ApplicationFailure.nonRetryable(`order ${input.orderId} no longer exists`, 'OrderNotFound');
        }
        const found = await invoiceRowOf(input.orderId, input.txnId);
        const row = found ?? (await convertOrder(input.orderId));
        const companyFile = input.connection ?? textOf(order, COMPANY_FILE_COLUMN) ?? undefined;
        const wrote = await bringInvoiceRow(row, {
          ...(companyFile ? { companyFile } : {}),
          txnId: input.txnId,
          invoiceNumber: input.invoiceNumber,
          balance: input.balance,
          status: input.paid ? 'Paid' : 'Open',
        });
        let changed = found === null || wrote;
        let state = typeof order.statecode === 'number' ? order.statecode : -1;
        if (orderStillEditable(order.statecode)) {
          // The invoice link and the state in one update: the columns are written before the state freezes the order
          // (`salesOrderStatusChange`), and a later run sees either both or neither.
          const own = textPatch(order, { [TXN_ID_COLUMN]: input.txnId, [INVOICE_NUMBER_COLUMN]: input.invoiceNumber });
          await updateRow(TABLES.salesorder.entitySet, input.orderId, {
            ...own,
            ...salesOrderStatusChange(SalesOrderStatusCode.Invoiced),
          });
          state = SalesOrderStateCode.Invoiced;
          changed = true;
        }
        recordSynced('salesorder', 'dataverse-to-quickbooks', changed ? 'updated' : 'unchanged');
        return { changed, state };
      } catch (err) {
        throw asFailure(err, `recording invoice ${input.invoiceNumber} on order ${input.orderId}`);
      }
    },

    /**
     * A payment landed in QuickBooks: the invoice's balance and paid state onto its invoice row. An order invoiced
     * before invoice rows existed (its TxnID on the order, no row) gets its row now, so its payments keep landing; an
     * order not linked to this invoice yet is left to its own sync, which records everything at once.
     */
    async recordInvoicePayment(input: InvoicePayment): Promise<{ changed: boolean }> {
      try {
        const row = await invoiceRowOrBackfill(input.orderId, input.txnId);
        if (!row) return { changed: false };
        const changed = await bringInvoiceRow(row.invoice, {
          txnId: input.txnId,
          ...(row.invoiceNumber ? { invoiceNumber: row.invoiceNumber } : {}),
          ...(input.connection || row.companyFile ? { companyFile: input.connection ?? row.companyFile } : {}),
          balance: input.balance,
          status: input.paid ? 'Paid' : 'Open',
        });
        return { changed: changed || row.created };
      } catch (err) {
        if (err instanceof DataverseNotFoundError) return { changed: false };
        throw asFailure(err, `recording the payment of invoice ${input.txnId} on order ${input.orderId}`);
      }
    },

    /**
     * The QuickBooks invoice was deleted: its invoice row shows it (status Deleted, nothing owed) and is canceled
     * (`mapping/quickbooksDeletions.ts`); it keeps its TxnID and number. An order invoiced before invoice rows existed
     * gets its row first. No order or row carries that TxnID: nothing to do.
     */
    async recordInvoiceDeleted(input: { txnId: string }): Promise<{ orderId: string | null; changed: boolean }> {
      try {
        let orderId: string | null = null;
        let invoice = await invoiceRowOf(null, input.txnId);
        if (invoice) orderId = textOf(invoice, INVOICE_ROW.orderColumn);
        if (!orderId) {
          for await (const r of dataverse.queryRows(TABLES.salesorder.entitySet, {
            select: ['salesorderid'],
            filter: `${TXN_ID_COLUMN} eq ${odataString(input.txnId)}`,
            pageSize: 2,
          })) {
            orderId = String(r.salesorderid);
            break;
          }
        }
        if (orderId === null) return { orderId: null, changed: false };
        let created = false;
        if (!invoice) {
          const backfilled = await invoiceRowOrBackfill(orderId, input.txnId);
          if (!backfilled) return { orderId, changed: false };
          invoice = backfilled.invoice;
          created = backfilled.created;
        }
        const changed = await bringInvoiceRow(invoice, {
          txnId: input.txnId,
          balance: deletedInvoiceOnOrder()[ORDER_BALANCE_COLUMN] ?? '0.00',
          status: 'Deleted',
        });
        return { orderId, changed: changed || created };
      } catch (err) {
        if (err instanceof DataverseNotFoundError) return { orderId: null, changed: false };
        throw asFailure(err, `recording the deletion of invoice ${input.txnId} on its order`);
      }
    },
  };
}
