import { ApplicationFailure, log } from '@temporalio/workflow';
import type { SalesOrderForInvoice } from '../../activities/dataverseSalesOrders';
import { ADD_ATTEMPTS } from '../../mapping/rereadLimits';
import { invoiceGate } from '../../mapping/salesOrderInvoice';
import type { QbRecord, QbxmlWriteRequest } from '../../qbxml/requests';
import { dataverse } from './activities';
import type { DynamicsSyncResult } from './dynamicsRowToQuickBooks';
import { addRecord } from './quickbooksRecords';

/** The QuickBooks document made from a Dynamics order (an invoice, or a sales order in sales-order mode). */
export interface OrderDocument<R extends QbRecord> {
  /** How messages name it: `invoice`, `sales order`. */
  noun: string;
  refNumber: string;
  connection: string;
  /**
   * The documents carrying the order's number, as the planner judges them: this order's, none, or the number taken by
   * another customer or order.
   */
  lookUp: () => Promise<R | 'none' | 'numberTaken'>;
  add: (requestId: string) => QbxmlWriteRequest;
  /** Failure types: the number taken by another, and no Add answered after every attempt. */
  failures: { numberTaken: string; addFailed: string };
}

/** What the look-before-add ends in: the order's document (found or added), or a reason not to add it from this read. */
export type OrderDocumentAdd<R> =
  | { kind: 'placed'; record: R; outcome: 'unchanged' | 'created' }
  | { kind: 'done'; result: DynamicsSyncResult }
  | { kind: 'again'; read: SalesOrderForInvoice | null; why: string };

/**
 * The look-before-add of a document made from an order, shared by the invoice flow and sales-order mode: a document
 * already carrying the order's number and id is looked for before each Add, which is what makes a crash, a lost QBWC
 * answer or a replay safe; and the order is read once more just before the Add is queued, so the document goes out as
 * the order stands now or not at all (the Add may wait days for the Web Connector). Workflow code: the commands and
 * their order are those both flows issued before it was shared, so their recorded histories replay unchanged.
 */
export async function addOrderDocument<R extends QbRecord>(
  read: SalesOrderForInvoice,
  orderId: string,
  document: OrderDocument<R>,
): Promise<OrderDocumentAdd<R>> {
  const { order } = read;
  const { noun, refNumber, connection } = document;
  const what = `Dynamics order ${order.ordernumber ?? orderId}`;
  for (let attempt = 1; attempt <= ADD_ATTEMPTS; attempt++) {
    const found = await document.lookUp();
    if (found === 'numberTaken') {
      throw ApplicationFailure.nonRetryable(
        `${what}: QuickBooks already has ${noun} ${refNumber} for another customer or order`,
        document.failures.numberTaken,
      );
    }
    if (found !== 'none') return { kind: 'placed', record: found, outcome: 'unchanged' };
    // The last look before the Add is queued.
    const gate = invoiceGate(read, await dataverse.readSalesOrderVersion({ orderId }));
    if (gate.kind === 'skip') {
      return {
        kind: 'done',
        result: { outcome: 'unchanged', note: gate.note, ...(gate.targetId ? { targetId: gate.targetId } : {}) },
      };
    }
    if (gate.kind === 'rebuild') {
      log.info(`order changed since it was read: building its ${noun} again`, {
        order: order.ordernumber,
        changes: gate.changes,
      });
      return { kind: 'again', read: await dataverse.readSalesOrderForInvoice({ orderId }), why: 'changed' };
    }
    const added = await addRecord<R>(connection, document.add, `${noun} ${refNumber}`);
    if (added.kind === 'added') return { kind: 'placed', record: added.record, outcome: 'created' };
    // Answer lost: the next attempt looks for the document before trying again.
    log.info(`${noun} Add answer lost; looking for the ${noun}`, { attempt });
  }
  throw ApplicationFailure.nonRetryable(`${what}: the ${noun} could not be added`, document.failures.addFailed);
}
