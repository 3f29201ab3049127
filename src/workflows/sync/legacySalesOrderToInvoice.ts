import { ApplicationFailure, log } from '@temporalio/workflow';
import { ADD_ATTEMPTS } from '../../mapping/rereadLimits';
import {
  invoiceToOrderStatus,
  invoiceTotalsDifference,
  matchInvoice,
  orderReadiness,
  salesOrderToInvoice,
} from '../../mapping/salesOrderInvoice';
import type { InvoiceRet } from '../../qbxml/requests';
import { dataverse } from './activities';
import { accountToQuickBooks, type ContextFor, type DynamicsSyncResult } from './dynamicsRowToQuickBooks';
import { addRecord, findInvoices } from './quickbooksRecords';
import { mappedOrFail, markRecord } from './recordOutcome';
import { itemsForOrder } from './salesOrderItems';

/**
 * The sales order → invoice flow as it ran before `sales-order-reread-before-add`, kept whole so that runs started on
 * it replay: it builds the invoice from one read of the order and never looks at the order again. A Dynamics sales order into one QuickBooks invoice: customer and items first
 * (created when missing), then a look for an invoice already carrying this order's number before adding one, which is
 * what makes a crash, a lost QBWC answer or a replay safe. Then the invoice's number, TxnID and balance onto the order,
 * and the order to Invoiced. The decisions are `mapping/salesOrderInvoice.ts`'s.
 */
export async function legacySalesOrderToQuickBooks(
  orderId: string,
  contextFor: ContextFor,
): Promise<DynamicsSyncResult> {
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
