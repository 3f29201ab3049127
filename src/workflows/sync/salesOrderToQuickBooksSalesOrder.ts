import { ApplicationFailure } from '@temporalio/workflow';
import type { SalesOrderForInvoice } from '../../activities/dataverseSalesOrders';
import type { SyncContext } from '../../activities/syncContext';
import {
  matchSalesOrder,
  salesOrderOnOrder,
  salesOrderToQuickBooksSalesOrder,
} from '../../mapping/salesOrderToQuickBooksSalesOrder';
import type { SalesOrderAddFields, SalesOrderRet } from '../../qbxml/requests';
import { dataverse } from './activities';
import type { DynamicsSyncResult } from './dynamicsRowToQuickBooks';
import { findSalesOrders } from './quickbooksRecords';
import { addOrderDocument } from './orderDocumentAdd';
import { mappedOrFail, markRecord } from './recordOutcome';
import { itemsForOrder } from './salesOrderItems';

/** What one pass ends in: the order's sales order recorded, or a fresher read to build it from again. */
export type SalesOrderPass =
  { kind: 'done'; result: DynamicsSyncResult } | { kind: 'again'; read: SalesOrderForInvoice | null; why: string };

/**
 * The sales order → QuickBooks sales order flow (issue 16, `invoices.via: salesOrder`), one pass over one read of the
 * order, once its customer is paired and its edits waited out (`salesOrderToInvoice.ts` does both for either mode):
 * items found or made, then a sales order already carrying the order's number and id looked for before
 * `SalesOrderAdd`, which is what makes a crash, a lost QBWC answer or a replay safe; an order changed since it was read
 * is built again. Then the sales order's TxnID and number onto the order. Invoicing happens in QuickBooks; the poll
 * follows it (`pollCycle.ts`). The decisions are `mapping/salesOrderToQuickBooksSalesOrder.ts`'s.
 */
export async function salesOrderToQuickBooksSalesOrderPass(
  read: SalesOrderForInvoice,
  orderId: string,
  pairing: { customerListId: string; connection: string; ctx: SyncContext },
): Promise<SalesOrderPass> {
  const { order } = read;
  const { customerListId, connection, ctx } = pairing;
  const what = `Dynamics order ${order.ordernumber ?? orderId}`;
  const itemListIdByProductId = await itemsForOrder(read, connection, ctx);
  const fields: SalesOrderAddFields = mappedOrFail(
    salesOrderToQuickBooksSalesOrder(order, read.lines, {
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
      `${what}: sales orders numbered by QuickBooks cannot be matched to their order after a crash; configure a refNumber rule`,
      'MappingError',
    );
  }
  const refNumber = fields.refNumber;

  const placed = await addOrderDocument<SalesOrderRet>(read, orderId, {
    noun: 'sales order',
    refNumber,
    connection,
    lookUp: async () => {
      const match = matchSalesOrder(await findSalesOrders(connection, refNumber), customerListId, orderId);
      return match.kind === 'ours' ? match.salesOrder : match.kind;
    },
    add: (requestId) => ({ type: 'SalesOrderAdd', requestId, fields }),
    failures: { numberTaken: 'DuplicateSalesOrderNumber', addFailed: 'SalesOrderAddFailed' },
  });
  if (placed.kind !== 'placed') return placed;
  const salesOrder = placed.record;
  let outcome: DynamicsSyncResult['outcome'] = placed.outcome;

  const recorded = mappedOrFail(salesOrderOnOrder(salesOrder), `QuickBooks sales order ${refNumber}`);
  markRecord({ targetId: recorded.txnId });
  const written = await dataverse.recordQuickBooksSalesOrderOnOrder({ orderId, connection, ...recorded });
  if (outcome === 'unchanged' && written.changed) outcome = 'updated';
  markRecord({ outcome });
  return {
    kind: 'done',
    result: { outcome, connection, targetId: recorded.txnId, note: `QuickBooks sales order ${refNumber}` },
  };
}
