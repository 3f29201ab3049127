import { ApplicationFailure, log, patched, sleep } from '@temporalio/workflow';
import type { SalesOrderForInvoice } from '../../activities/dataverseSalesOrders';
import { ORDER_QUIET_WAITS, ORDER_REBUILDS } from '../../mapping/rereadLimits';
import {
  invoiceBalanceAfterRecord,
  invoiceToOrderStatus,
  invoiceTotalsDifference,
  matchInvoice,
  orderChanges,
  orderReadiness,
  quietWait,
  salesOrderToInvoice,
  type OrderSnapshot,
} from '../../mapping/salesOrderInvoice';
import type { InvoiceAddFields, InvoiceRet } from '../../qbxml/requests';
import { dataverse } from './activities';
import { accountToQuickBooks, type ContextFor, type DynamicsSyncResult } from './dynamicsRowToQuickBooks';
import { legacySalesOrderToQuickBooks } from './legacySalesOrderToInvoice';
import { findInvoices, readInvoice } from './quickbooksRecords';
import { addOrderDocument } from './orderDocumentAdd';
import { mappedOrFail, markRecord } from './recordOutcome';
import { itemsForOrder } from './salesOrderItems';
import { salesOrderModeReadiness } from '../../mapping/salesOrderToQuickBooksSalesOrder';
import { salesOrderToQuickBooksSalesOrderPass } from './salesOrderToQuickBooksSalesOrder';

/** The flow re-reads the order before its Add and after its invoice is recorded (issue 11 item 9). */
const REREAD_BEFORE_ADD = 'sales-order-reread-before-add';
/**
 * Sales-order mode (issue 16): a connection with `invoices.via: salesOrder` sends the order as a QuickBooks sales
 * order. Marked only where the mode is on, so runs of invoicing connections keep the commands they had.
 */
const SALES_ORDER_MODE = 'sales-order-to-quickbooks-sales-order';
/**
 * Once the invoice row exists, the run reads the invoice again and records a payment QuickBooks took since its Add
 * (`invoiceBalanceAfterRecord`). Runs recorded before ended with the Add's balance.
 */
const BALANCE_AFTER_RECORD = 'sales-order-invoice-balance-after-record';

/** What one pass of the flow ends in: an invoice, or a reason to build it again from a fresher read. */
type Pass =
  | { kind: 'done'; result: DynamicsSyncResult }
  | {
      kind: 'invoiced';
      invoice: InvoiceRet;
      outcome: DynamicsSyncResult['outcome'];
      refNumber: string;
      connection: string;
    }
  | { kind: 'again'; read: SalesOrderForInvoice | null; why: string };

/**
 * The sales order → invoice flow. A Dynamics sales order into one QuickBooks invoice: customer and items first
 * (created when missing), then a look for an invoice already carrying this order's number before adding one, which is
 * what makes a crash, a lost QBWC answer or a replay safe. Then the invoice's number, TxnID and balance onto the order,
 * and the order to Invoiced. The decisions are `mapping/salesOrderInvoice.ts`'s.
 *
 * The Add may wait days for the Web Connector, so the order is held to the read its invoice was built from: an order
 * still being edited is waited out (the quiet period), one that changed by the time its Add is queued is built again,
 * and one that changed after that is reported (`changedAfterInvoice`) with the invoice it has, never passed off as
 * invoiced as it stands.
 */
export async function salesOrderToQuickBooks(orderId: string, contextFor: ContextFor): Promise<DynamicsSyncResult> {
  if (!patched(REREAD_BEFORE_ADD)) return legacySalesOrderToQuickBooks(orderId, contextFor);
  let read = await dataverse.readSalesOrderForInvoice({ orderId });
  let quietWaits = 0;
  for (let rebuilds = 0; ;) {
    if (!read) return { outcome: 'unchanged', note: 'the order no longer exists' };
    const pass = await invoiceFrom(read, orderId, contextFor, () => quietWaits++ < ORDER_QUIET_WAITS);
    if (pass.kind === 'done') return pass.result;
    if (pass.kind === 'invoiced') return recordInvoice(read, orderId, pass);
    if (pass.why !== 'editing' && ++rebuilds > ORDER_REBUILDS) {
      throw ApplicationFailure.retryable(
        `Dynamics order ${read.order.ordernumber ?? orderId} kept changing while its invoice was being prepared`,
        'OrderKeptChanging',
      );
    }
    read = pass.read;
  }
}

/** One pass over one read of the order: wait out its edits, build the invoice, and add it unless the order moved. */
async function invoiceFrom(
  read: SalesOrderForInvoice,
  orderId: string,
  contextFor: ContextFor,
  mayWait: () => boolean,
): Promise<Pass> {
  const { order } = read;
  const what = `Dynamics order ${order.ordernumber ?? orderId}`;
  const readiness = orderReadiness(order);
  if (readiness.kind === 'skip') {
    return {
      kind: 'done',
      result: {
        outcome: 'unchanged',
        note: readiness.note,
        ...(readiness.targetId ? { targetId: readiness.targetId } : {}),
      },
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
  const salesOrderMode = ctx.settings.invoices.via === 'salesOrder' && patched(SALES_ORDER_MODE);
  if (salesOrderMode) {
    // Before the quiet period: the connector's own write of the sales order's id is the usual reason to be here again.
    const ready = salesOrderModeReadiness(order);
    if (ready.kind === 'skip') {
      return {
        kind: 'done',
        result: {
          outcome: 'unchanged',
          note: ready.note,
          connection,
          ...(ready.targetId ? { targetId: ready.targetId } : {}),
        },
      };
    }
  }

  // Someone still saving the order or its lines: leave it alone for the quiet period, then start from a fresh read.
  const wait = quietWait(read, Date.now(), ctx.settings.invoices.quietSeconds * 1000);
  if (wait > 0) {
    if (!mayWait()) {
      throw ApplicationFailure.retryable(`${what} is still being edited; it is invoiced once it stays unchanged`);
    }
    log.info('order still being edited: waiting before invoicing it', { order: order.ordernumber, waitMs: wait });
    await sleep(wait);
    return { kind: 'again', read: await dataverse.readSalesOrderForInvoice({ orderId }), why: 'editing' };
  }

  if (salesOrderMode) return salesOrderToQuickBooksSalesOrderPass(read, orderId, { customerListId, connection, ctx });

  const itemListIdByProductId = await itemsForOrder(read, connection, ctx);
  const fields: InvoiceAddFields = mappedOrFail(
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

  const placed = await addOrderDocument<InvoiceRet>(read, orderId, {
    noun: 'invoice',
    refNumber,
    connection,
    lookUp: async () => {
      const match = matchInvoice(await findInvoices(connection, refNumber), customerListId, orderId);
      return match.kind === 'ours' ? match.invoice : match.kind;
    },
    add: (requestId) => ({ type: 'InvoiceAdd', requestId, fields }),
    failures: { numberTaken: 'DuplicateInvoiceNumber', addFailed: 'InvoiceAddFailed' },
  });
  if (placed.kind !== 'placed') return placed;
  return { kind: 'invoiced', invoice: placed.record, outcome: placed.outcome, refNumber, connection };
}

/**
 * The invoice onto the order, then one more look at the order: Dynamics freezes an invoiced order, so what differs
 * now from the read the invoice was built from was changed after the Add was queued, and the invoice does not show it.
 */
async function recordInvoice(
  builtFrom: OrderSnapshot,
  orderId: string,
  pass: Extract<Pass, { kind: 'invoiced' }>,
): Promise<DynamicsSyncResult> {
  const { invoice, refNumber, connection } = pass;
  let outcome = pass.outcome;
  markRecord({ targetId: invoice.txnId });
  const status = mappedOrFail(invoiceToOrderStatus(invoice), `QuickBooks invoice ${refNumber}`);
  const totals = invoiceTotalsDifference(builtFrom.order, invoice);
  if (totals.ok && totals.value.difference !== '0.00') {
    log.warn('invoice total differs from the order total', { order: builtFrom.order.ordernumber, ...totals.value });
  }
  const recorded = await dataverse.recordInvoiceOnOrder({
    orderId,
    txnId: status.txnId,
    invoiceNumber: status.invoiceNumber,
    balance: status.balance,
    paid: status.paid,
    connection,
  });
  if (outcome === 'unchanged' && recorded.changed) outcome = 'updated';
  if (patched(BALANCE_AFTER_RECORD)) {
    let since: ReturnType<typeof invoiceBalanceAfterRecord> = null;
    try {
      since = invoiceBalanceAfterRecord(status, await readInvoice(connection, status.txnId));
    } catch (err) {
      // The invoice is made and recorded: a read QuickBooks refused or never answered must not fail the order, whose
      // next run would find it invoiced and do nothing. Its next payment still reaches the row through the poll.
      if (!(err instanceof ApplicationFailure)) throw err;
      log.warn('the invoice could not be read again after it was recorded', { invoice: refNumber, err: err.message });
    }
    if (since) {
      log.info('a payment reached the invoice before its row existed: recording it now', {
        invoice: refNumber,
        paid: since.paid,
      });
      const paid = await dataverse.recordInvoicePayment({ orderId, txnId: status.txnId, ...since, connection });
      if (outcome === 'unchanged' && paid.changed) outcome = 'updated';
    }
  }
  const now = await dataverse.readSalesOrderVersion({ orderId });
  const changes = now ? orderChanges(builtFrom, now) : [];
  let note: string | undefined;
  if (changes.length > 0) {
    outcome = 'changedAfterInvoice';
    note = `the order changed after invoice ${refNumber} was made from it (${changes.join(', ')}); correct the invoice in QuickBooks or the order in Dynamics`;
    log.warn('order changed after it was invoiced', {
      order: builtFrom.order.ordernumber,
      invoice: refNumber,
      changes,
    });
  }
  markRecord({ outcome });
  return {
    outcome,
    connection,
    targetId: invoice.txnId,
    ...(totals.ok ? { totals: totals.value } : {}),
    ...(note ? { note } : {}),
  };
}
