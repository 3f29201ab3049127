import { type InvoiceRet, type SalesOrderAddFields, type SalesOrderRet } from '../qbxml/requests';
import { type SalesOrderLineRecord, type SalesOrderRecord } from './dataverseRows';
import { orderIdOfInvoiceLink } from './entityRegistry';
import { text } from './fields';
import { Issues, type MappingResult } from './result';
import {
  invoiceToOrderStatus,
  orderHeaderFields,
  sellingLines,
  type InvoiceMappingContext,
  type InvoiceRowWanted,
  type OrderReadiness,
} from './salesOrderInvoice';

/**
 * The sales-order mode's decisions (issue 16, `invoices.via: salesOrder`): a Dynamics order goes to QuickBooks as a
 * sales order instead of an invoice; accounting invoices it there, fully or in part, and the invoices linked to it come
 * back as the order's invoice rows, the order showing how far it is invoiced. Pure: the workflow
 * `workflows/sync/salesOrderToQuickBooksSalesOrder.ts` and the poll order the reads and writes.
 */

/** qbXML 13 SalesOrderAdd limits (reference §14). */
const SALES_ORDER_LIMITS = { memo: 4095 } as const;

/** `salesorder.statecode` Canceled. */
const CANCELED = 2;

/**
 * Whether an order is due its QuickBooks sales order: one that records it is done (our own write coming back as a
 * webhook, a replay), one canceled never gets one.
 */
export function salesOrderModeReadiness(
  order: Pick<SalesOrderRecord, 'qbsync_salesordertxnid'> & { statecode: number },
): OrderReadiness {
  if (order.qbsync_salesordertxnid) {
    return { kind: 'skip', note: 'already a QuickBooks sales order', targetId: order.qbsync_salesordertxnid };
  }
  if (order.statecode === CANCELED) return { kind: 'skip', note: 'the order is canceled' };
  return { kind: 'invoice' };
}

/**
 * A Dynamics order as a QuickBooks SalesOrderAdd: the lines, addresses, memo and number the invoice would have had
 * (`salesOrderToInvoice`), and the order's id as ExternalGUID, which finds it again after a lost answer.
 */
export function salesOrderToQuickBooksSalesOrder(
  order: SalesOrderRecord,
  lines: readonly SalesOrderLineRecord[],
  ctx: InvoiceMappingContext,
): MappingResult<SalesOrderAddFields> {
  const issues = new Issues();
  const fields: SalesOrderAddFields = {
    ...orderHeaderFields(issues, order, ctx, SALES_ORDER_LIMITS),
    lines: [],
  };

  // The same lines an invoice would carry; a sales-order line has the invoice line's core fields.
  fields.lines = sellingLines(issues, order, lines, ctx, 'order');
  if (fields.lines.length === 0 && !issues.failed) {
    issues.add('lines', 'required', 'an order without lines cannot become a QuickBooks sales order');
  }
  return issues.result(fields);
}

export type SalesOrderMatch = { kind: 'ours'; salesOrder: SalesOrderRet } | { kind: 'none' } | { kind: 'numberTaken' };

/**
 * Among the sales orders carrying the order's number, the one made from this order: same customer and the order's id
 * as ExternalGUID. Another with the number is a clash for the operator, never a reason to add a second one.
 */
export function matchSalesOrder(
  found: readonly SalesOrderRet[],
  customerListId: string,
  orderId: string,
): SalesOrderMatch {
  const ours = found.find(
    (salesOrder) =>
      salesOrder.customerRef?.listId === customerListId &&
      orderIdOfInvoiceLink(salesOrder.externalGuid) === orderId.toLowerCase(),
  );
  if (ours) return { kind: 'ours', salesOrder: ours };
  return found.length > 0 ? { kind: 'numberTaken' } : { kind: 'none' };
}

/** The QuickBooks sales order as the Dynamics order records it. */
export function salesOrderOnOrder(
  salesOrder: Pick<SalesOrderRet, 'txnId' | 'refNumber'>,
): MappingResult<{ txnId: string; salesOrderNumber: string }> {
  const issues = new Issues();
  const txnId = text(salesOrder.txnId);
  if (txnId === null) issues.add('txnId', 'required', 'the sales order has no TxnID');
  const salesOrderNumber = text(salesOrder.refNumber);
  if (salesOrderNumber === null) issues.add('refNumber', 'required', 'the sales order has no number (RefNumber)');
  return issues.result({ txnId: txnId ?? '', salesOrderNumber: salesOrderNumber ?? '' });
}

/** How far a QuickBooks sales order is invoiced, as its Dynamics order shows it (`qbsync_invoicestatus`). */
export type OrderInvoicing = 'PartlyInvoiced' | 'Invoiced';

export interface SalesOrderInvoicing {
  /** The QuickBooks sales order the invoices are linked to. */
  salesOrderTxnId: string;
  /** Null while nothing is invoiced yet: the order is left as it is. */
  state: OrderInvoicing | null;
  /** The numbers of every invoice linked to the sales order, in QuickBooks' order, for the order's invoice column. */
  invoiceNumbers: string;
  /** One invoice row per linked invoice read now: its company file, TxnID, number, balance and paid status. */
  rows: InvoiceRowWanted[];
}

/** The order's invoice-number column holds at most this many characters (provisioned length). */
const INVOICE_NUMBERS_MAX = 100;

/** The invoice numbers, comma separated; when they outgrow the column, the latest are kept after an ellipsis. */
function invoiceNumbersText(numbers: readonly string[]): string {
  const all = numbers.join(', ');
  if (all.length <= INVOICE_NUMBERS_MAX) return all;
  let kept = '';
  for (let i = numbers.length - 1; i >= 0; i--) {
    const next = kept === '' ? numbers[i]! : `${numbers[i]!}, ${kept}`;
    if (next.length + 2 > INVOICE_NUMBERS_MAX) break;
    kept = next;
  }
  return `… ${kept}`;
}

/**
 * What of an invoice read by a poll its sales order's invoicing needs (`salesOrderInvoicing`, `linkedSalesOrders`):
 * its number, balance and paid state, and its links to sales orders.
 */
export type SalesOrderInvoiceFacts = Pick<
  InvoiceRet,
  'txnId' | 'refNumber' | 'balanceRemaining' | 'isPaid' | 'linkedTxns'
>;

/**
 * An invoice as a poll keeps it until its end, when the sales orders it links to are read: without its lines,
 * addresses and other links. A cycle continuing as new carries these; whole invoices (a first read covers 90 days)
 * went past Temporal's 2 MB a payload at about a thousand invoices with their lines.
 */
export function salesOrderInvoiceFacts(invoice: InvoiceRet): SalesOrderInvoiceFacts {
  return {
    txnId: invoice.txnId,
    ...(invoice.refNumber === undefined ? {} : { refNumber: invoice.refNumber }),
    ...(invoice.balanceRemaining === undefined ? {} : { balanceRemaining: invoice.balanceRemaining }),
    ...(invoice.isPaid === undefined ? {} : { isPaid: invoice.isPaid }),
    linkedTxns: (invoice.linkedTxns ?? [])
      .filter((t) => t.txnType === 'SalesOrder')
      .map((t) => ({ txnId: t.txnId, txnType: t.txnType })),
  };
}

/**
 * What a QuickBooks sales order and the invoices linked to it mean in Dynamics: fully invoiced (QuickBooks'
 * IsFullyInvoiced) moves the order to Invoiced; some invoice linked and not all makes it PartlyInvoiced, staying Active
 * (Dynamics has no partly invoiced state, and a Fulfilled order is read-only); each linked invoice among `invoices` (the
 * ones read now) becomes or updates its invoice row with its balance and paid state.
 */
export function salesOrderInvoicing(
  salesOrder: Pick<SalesOrderRet, 'txnId' | 'isFullyInvoiced' | 'linkedTxns'>,
  invoices: readonly SalesOrderInvoiceFacts[],
  companyFile: string,
): MappingResult<SalesOrderInvoicing> {
  const issues = new Issues();
  const linked = (salesOrder.linkedTxns ?? []).filter((t) => t.txnType === 'Invoice');
  const numbers = linked.map((t) => text(t.refNumber) ?? t.txnId);
  const state: OrderInvoicing | null =
    salesOrder.isFullyInvoiced === true && linked.length > 0 ? 'Invoiced' : linked.length > 0 ? 'PartlyInvoiced' : null;
  const rows: InvoiceRowWanted[] = [];
  for (const invoice of invoices) {
    if (!invoice.linkedTxns?.some((t) => t.txnId === salesOrder.txnId)) continue;
    const status = invoiceToOrderStatus(invoice);
    if (!status.ok) {
      for (const e of status.errors) issues.add(`invoices[${invoice.txnId}].${e.field}`, e.rule, e.message);
      continue;
    }
    rows.push({
      companyFile,
      txnId: status.value.txnId,
      invoiceNumber: status.value.invoiceNumber,
      balance: status.value.balance,
      status: status.value.paid ? 'Paid' : 'Open',
    });
  }
  return issues.result({ salesOrderTxnId: salesOrder.txnId, state, invoiceNumbers: invoiceNumbersText(numbers), rows });
}

/** The QuickBooks sales orders the invoices read now are linked to, each once, in the order first met. */
export function linkedSalesOrders(invoices: readonly Pick<InvoiceRet, 'linkedTxns'>[]): string[] {
  const ids: string[] = [];
  for (const invoice of invoices) {
    for (const link of invoice.linkedTxns ?? []) {
      if (link.txnType === 'SalesOrder' && !ids.includes(link.txnId)) ids.push(link.txnId);
    }
  }
  return ids;
}
