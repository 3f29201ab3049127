import { ApplicationFailure, log, patched } from '@temporalio/workflow';
import type { SyncContext } from '../../activities/syncContext';
import type { ProductForQuickBooks } from '../../activities/dataversePairedRows';
import type { SalesOrderForInvoice } from '../../activities/dataverseSalesOrders';
import { itemToProduct, type SyncedItem } from '../../mapping/itemProduct';
import { ADD_ATTEMPTS, ROW_MERGE_ATTEMPTS } from '../../mapping/rereadLimits';
import {
  invoiceToOrderStatus,
  invoiceTotalsDifference,
  matchInvoice,
  orderReadiness,
  salesOrderToInvoice,
} from '../../mapping/salesOrderInvoice';
import { productSyncFields } from '../../mapping/syncBase';
import type { InvoiceRet } from '../../qbxml/requests';
import { dataverse } from './activities';
import {
  accountToQuickBooks,
  ensureItem,
  isStaleRow,
  type ContextFor,
  type DynamicsSyncResult,
} from './dynamicsRowToQuickBooks';
import { addRecord, findInvoices, readItem } from './quickbooksRecords';
import { mappedOrFail, markRecord } from './recordOutcome';

/**
 * The sales order → invoice flow. A Dynamics sales order into one QuickBooks invoice: customer and items first
 * (created when missing), then a look for an invoice already carrying this order's number before adding one, which is
 * what makes a crash, a lost QBWC answer or a replay safe. Then the invoice's number, TxnID and balance onto the order,
 * and the order to Invoiced. The decisions are `mapping/salesOrderInvoice.ts`'s.
 */
export async function salesOrderToQuickBooks(orderId: string, contextFor: ContextFor): Promise<DynamicsSyncResult> {
  const read = await dataverse.readSalesOrderForInvoice({ orderId });
  if (!read) return { outcome: 'unchanged', note: 'the order no longer exists' };
  const { order } = read;
  const what = `Dynamics order ${order.ordernumber ?? orderId}`;
  const readiness = orderReadiness(order);
  if (readiness.kind === 'skip') {
    return {
      outcome: 'unchanged',
      note: readiness.note,
      ...(readiness.targetId ? { targetId: readiness.targetId } : {}),
    };
  }
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

  let invoice: InvoiceRet | undefined;
  let outcome: DynamicsSyncResult['outcome'] = 'unchanged';
  for (let attempt = 1; attempt <= ADD_ATTEMPTS && !invoice; attempt++) {
    const match = matchInvoice(await findInvoices(connection, refNumber), customerListId, orderId);
    if (match.kind === 'ours') {
      invoice = match.invoice;
      break;
    }
    if (match.kind === 'numberTaken') {
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
    if (patched('sales-order-item-pairing-if-match')) {
      await pairProductWithItem(productId, full, item, connection, what);
    } else if (!product.companyFile) {
      // Before the patch: decided on the order's view of the product and written without its ETag.
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

/**
 * A product created in Dynamics is paired with the item of the first company file that sells it: decided on the
 * product as read just before its item was found or made, and written on that version only (If-Match). A product its
 * own run paired meanwhile, maybe with another company file's item, keeps that pairing; overwriting it from this
 * run's older view would orphan the item that run made. A row changed for another reason is read again.
 */
async function pairProductWithItem(
  productId: string,
  read: ProductForQuickBooks,
  item: SyncedItem,
  connection: string,
  what: string,
): Promise<void> {
  const unpaired = (p: ProductForQuickBooks['product']): boolean =>
    !p.qbsync_qblistid && (!p.qbsync_companyfile || p.qbsync_companyfile === connection);
  const base = productSyncFields(mappedOrFail(itemToProduct(item, { companyFile: connection }), what));
  let current: ProductForQuickBooks | null = read;
  for (let attempt = 1; attempt <= ROW_MERGE_ATTEMPTS && current && unpaired(current.product); attempt++) {
    try {
      await dataverse.writeBackToRow({
        entity: 'product',
        rowId: productId,
        etag: current.etag,
        changes: { qbsync_companyfile: connection, qbsync_qblistid: item.listId },
        base,
      });
      return;
    } catch (err) {
      if (!isStaleRow(err)) throw err;
    }
    current = await dataverse.readProductForQuickBooks({ productId });
  }
  if (current && unpaired(current.product)) {
    // Still changing: left unpaired rather than written blind; its own run or the next order pairs it.
    log.warn('product kept changing; not paired with the order item', { productId, item: item.listId });
  }
}
