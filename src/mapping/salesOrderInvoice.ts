import type Decimal from 'decimal.js';
import { type InvoiceAddFields, type InvoiceLineAddFields, type InvoiceRet, type QbRef } from '../qbxml/requests';
import { type SalesOrderLineRecord, type SalesOrderRecord } from './dataverseRows';
import {
  COMPANY_FILE_COLUMN,
  INVOICE_NUMBER_COLUMN,
  ORDER_BALANCE_COLUMN,
  ORDER_INVOICE_COLUMNS,
  ORDER_INVOICE_STATUS_COLUMN,
  TABLES,
  TXN_ID_COLUMN,
  invoiceLinkToOrder,
  orderIdOfInvoiceLink,
} from './entityRegistry';
import { charLength, checkMaxLength, partsToQbAddress, readAddress, text } from './fields';
import { cents, Dec, readDecimal } from './money';
import { Issues, type MappingResult } from './result';

/** qbXML 13 InvoiceAdd limits (reference §14). */
const INVOICE_LIMITS = { refNumber: 11, poNumber: 25, memo: 4095, desc: 4095 } as const;

/**
 * How the invoice number (RefNumber, at most 11 characters) is derived from the order. Dynamics' auto numbers
 * (`ORD-01001-X4Y5Z6`) are longer than that, hence the segment rule; `assignedByQuickBooks` leaves the number to
 * QuickBooks' own sequence (then the caller must find an earlier invoice for this order some other way).
 */
export type RefNumberRule =
  | { kind: 'orderNumber' }
  | { kind: 'orderNumberSegment'; separator: string; index: number }
  | { kind: 'assignedByQuickBooks' };

export interface InvoiceMappingContext {
  /** ListID of the QuickBooks customer the order's account is paired with. */
  customerListId: string;
  /** Dataverse productid → QuickBooks item ListID. */
  itemListIdByProductId: Readonly<Record<string, string>>;
  /** Item that carries write-in (non-catalog) lines; the text goes into the line description. */
  writeInItem: QbRef;
  /** Discount item for line and order discounts (amount lines, negative). */
  discountItem: QbRef;
  freightItem: QbRef;
  refNumber: RefNumberRule;
  /** The customer's purchase-order number, if the organisation keeps one on its orders. */
  poNumber?: string | null;
}

function lookup(map: Readonly<Record<string, string>>, key: string): string | undefined {
  return Object.prototype.hasOwnProperty.call(map, key) ? map[key] : undefined;
}

function hasRef(ref: QbRef | undefined): ref is QbRef {
  return ref !== undefined && (text(ref.listId) !== null || text(ref.fullName) !== null);
}

/** The QuickBooks number (RefNumber) of what an order becomes, by the configured rule; undefined leaves it to QuickBooks. */
function refNumberOf(issues: Issues, order: SalesOrderRecord, rule: RefNumberRule): string | undefined {
  if (rule.kind === 'assignedByQuickBooks') return undefined;
  const orderNumber = text(order.ordernumber);
  if (orderNumber === null) {
    issues.add('ordernumber', 'required', 'the order number is needed for the invoice RefNumber');
    return undefined;
  }
  let ref = orderNumber.trim();
  if (rule.kind === 'orderNumberSegment') {
    const segment = rule.separator === '' ? undefined : ref.split(rule.separator)[rule.index];
    if (segment === undefined || segment.trim() === '') {
      issues.add(
        'ordernumber',
        'required',
        `order number "${orderNumber}" has no segment ${rule.index} separated by "${rule.separator}"`,
      );
      return undefined;
    }
    ref = segment.trim();
  }
  if (charLength(ref) > INVOICE_LIMITS.refNumber) {
    issues.add(
      'ordernumber',
      'max-length',
      `RefNumber "${ref}" from order number "${orderNumber}" is ${charLength(ref)} characters, QuickBooks allows ${INVOICE_LIMITS.refNumber}; choose a refNumber rule that fits`,
    );
    return undefined;
  }
  return ref;
}

/** Lines in the order the seller arranged them; lines without a number keep their position after numbered ones. */
function orderedLines(lines: readonly SalesOrderLineRecord[]): { line: SalesOrderLineRecord; index: number }[] {
  return lines
    .map((line, index) => ({ line, index }))
    .sort((a, b) => {
      const x = a.line.lineitemnumber ?? Number.POSITIVE_INFINITY;
      const y = b.line.lineitemnumber ?? Number.POSITIVE_INFINITY;
      return x === y ? a.index - b.index : x < y ? -1 : 1;
    });
}

/**
 * A Dynamics sales order as a QuickBooks InvoiceAdd. Each line's amount is rate × quantity rounded to the cent
 * (the way QuickBooks computes it, so both sides agree); a line discount follows its line as a negative discount
 * item line, the order discount and freight close the invoice as their own item lines.
 */
export function salesOrderToInvoice(
  order: SalesOrderRecord,
  lines: readonly SalesOrderLineRecord[],
  ctx: InvoiceMappingContext,
): MappingResult<InvoiceAddFields> {
  const issues = new Issues();
  const fields: InvoiceAddFields = orderHeaderFields(issues, order, ctx, INVOICE_LIMITS);
  const invoiceLines = sellingLines(issues, order, lines, ctx, 'order');

  if (invoiceLines.length === 0 && !issues.failed) {
    issues.add('lines', 'required', 'an order without lines cannot become an invoice');
  }
  fields.lines = invoiceLines;
  return issues.result(fields);
}

/** The header both QuickBooks documents made from an order carry (an invoice, a sales order). */
export interface OrderHeaderFields {
  customerRef: { listId: string };
  refNumber?: string;
  billAddress?: NonNullable<InvoiceAddFields['billAddress']>;
  shipAddress?: NonNullable<InvoiceAddFields['shipAddress']>;
  poNumber?: string;
  memo?: string;
  externalGuid?: string;
}

/**
 * An order's customer, number, addresses, PO number (where the document has one: `limits.poNumber`), memo and the
 * ExternalGUID linking the document back to the order, each checked against the document's limits; a missing customer
 * ListID or a value too long is an issue.
 */
export function orderHeaderFields(
  issues: Issues,
  order: SalesOrderRecord,
  ctx: InvoiceMappingContext,
  limits: { memo: number; poNumber?: number },
): OrderHeaderFields {
  const customerListId = text(ctx.customerListId);
  if (customerListId === null) issues.add('customerid', 'required', 'the order customer has no QuickBooks ListID');
  const fields: OrderHeaderFields = { customerRef: { listId: customerListId ?? '' } };

  const refNumber = refNumberOf(issues, order, ctx.refNumber);
  if (refNumber !== undefined) fields.refNumber = refNumber;

  const billAddress = partsToQbAddress(issues, 'billto', readAddress('billto', order));
  if (billAddress !== undefined) fields.billAddress = billAddress;
  const shipAddress = partsToQbAddress(issues, 'shipto', readAddress('shipto', order));
  if (shipAddress !== undefined) fields.shipAddress = shipAddress;

  const poNumber = limits.poNumber === undefined ? null : text(ctx.poNumber);
  if (poNumber !== null && limits.poNumber !== undefined) {
    checkMaxLength(issues, 'poNumber', poNumber, limits.poNumber);
    fields.poNumber = poNumber;
  }
  const memo = text(order.description);
  if (memo !== null) {
    checkMaxLength(issues, 'description', memo, limits.memo);
    fields.memo = memo;
  }

  const salesorderid = text(order.salesorderid);
  const link = salesorderid === null ? null : invoiceLinkToOrder(salesorderid);
  if (link !== null) fields.externalGuid = link;
  return fields;
}

/** The header columns the lines' discount and freight come from (an order's, an opportunity's). */
export type SellingHeader = Pick<SalesOrderRecord, 'discountamount' | 'discountpercentage' | 'freightamount'>;

/** What turning Dynamics lines into QuickBooks lines needs of the mapping context. */
export type SellingLineContext = Pick<
  InvoiceMappingContext,
  'itemListIdByProductId' | 'writeInItem' | 'discountItem' | 'freightItem'
>;

/**
 * Dynamics product lines (an order's, an opportunity's: the same columns) as QuickBooks sales lines, in the seller's
 * order. Each line's amount is rate × quantity rounded to the cent (the way QuickBooks computes it, so both sides
 * agree); a line discount follows its line as a negative discount item line, the header discount and freight close
 * the document as their own item lines. `noun` names the record in the issues (`every order line needs a quantity`).
 */
export function sellingLines(
  issues: Issues,
  order: SellingHeader,
  lines: readonly SalesOrderLineRecord[],
  ctx: SellingLineContext,
  noun: string,
): InvoiceLineAddFields[] {
  const invoiceLines: InvoiceLineAddFields[] = [];
  let lineTotal = new Dec(0);
  let usesDiscount = false;

  for (const { line, index } of orderedLines(lines)) {
    const at = `lines[${index}]`;
    const quantity = readDecimal(issues, `${at}.quantity`, line.quantity);
    const rate = readDecimal(issues, `${at}.priceperunit`, line.priceperunit);
    if (quantity === null && text(String(line.quantity ?? '')) === null) {
      issues.add(`${at}.quantity`, 'required', `every ${noun} line needs a quantity`);
    } else if (quantity !== null && quantity.lte(0)) {
      issues.add(`${at}.quantity`, 'positive', `quantity ${quantity.toFixed()} must be above zero`);
    }
    if (rate === null && text(String(line.priceperunit ?? '')) === null) {
      issues.add(`${at}.priceperunit`, 'required', `every ${noun} line needs a price per unit`);
    }
    const description = text(line.productdescription);
    checkMaxLength(issues, `${at}.productdescription`, description, INVOICE_LIMITS.desc);

    let itemRef: QbRef | undefined;
    if (line.isproductoverridden === true) {
      if (description === null) {
        issues.add(`${at}.productdescription`, 'required', 'a write-in line needs its description');
      }
      if (!hasRef(ctx.writeInItem)) issues.add('writeInItem', 'required', 'no write-in item is configured');
      itemRef = ctx.writeInItem;
    } else {
      const productId = text(line._productid_value);
      const listId = productId === null ? undefined : lookup(ctx.itemListIdByProductId, productId);
      if (productId === null) {
        issues.add(`${at}._productid_value`, 'required', 'a catalog line needs its product');
      } else if (listId === undefined) {
        issues.add(`${at}._productid_value`, 'unmapped-product', `product ${productId} has no QuickBooks item yet`);
      } else {
        itemRef = { listId };
      }
    }

    const discount = readDecimal(issues, `${at}.manualdiscountamount`, line.manualdiscountamount);
    if (discount !== null && discount.lt(0)) {
      issues.add(`${at}.manualdiscountamount`, 'positive', 'a discount cannot be negative');
    }
    if (quantity === null || rate === null || itemRef === undefined) continue;

    const amount = cents(quantity.times(rate));
    const invoiceLine: InvoiceLineAddFields = { itemRef, quantity: quantity.toFixed(), rate: rate.toFixed(), amount };
    if (description !== null) invoiceLine.desc = description;
    invoiceLines.push(invoiceLine);
    lineTotal = lineTotal.plus(amount);

    if (discount !== null && discount.gt(0)) {
      usesDiscount = true;
      const discountAmount = cents(discount.negated());
      invoiceLines.push({
        itemRef: ctx.discountItem,
        desc: `Discount on ${description ?? `line ${index + 1}`}`,
        amount: discountAmount,
      });
      lineTotal = lineTotal.plus(discountAmount);
    }
  }

  // Dynamics applies the header discount (amount plus percentage of the line total) after line discounts.
  const orderDiscountAmount = readDecimal(issues, 'discountamount', order.discountamount) ?? new Dec(0);
  const orderDiscountPercent = readDecimal(issues, 'discountpercentage', order.discountpercentage) ?? new Dec(0);
  if (orderDiscountAmount.lt(0))
    issues.add(
      'discountamount',
      'positive',
      `${noun === 'order' ? 'an order' : `an ${noun}`} discount cannot be negative`,
    );
  if (orderDiscountPercent.lt(0) || orderDiscountPercent.gt(100)) {
    issues.add(
      'discountpercentage',
      'positive',
      `${noun === 'order' ? 'an order' : `an ${noun}`} discount percentage must be between 0 and 100`,
    );
  }
  const orderDiscount = new Dec(cents(orderDiscountAmount.plus(lineTotal.times(orderDiscountPercent).dividedBy(100))));
  if (orderDiscount.gt(0)) {
    usesDiscount = true;
    invoiceLines.push({
      itemRef: ctx.discountItem,
      desc: noun === 'order' ? 'Order discount' : 'Discount',
      amount: cents(orderDiscount.negated()),
    });
  }
  if (usesDiscount && !hasRef(ctx.discountItem))
    issues.add('discountItem', 'required', 'no discount item is configured');

  const freight = readDecimal(issues, 'freightamount', order.freightamount);
  if (freight !== null && freight.lt(0)) issues.add('freightamount', 'positive', 'freight cannot be negative');
  if (freight !== null && freight.gt(0)) {
    if (!hasRef(ctx.freightItem)) issues.add('freightItem', 'required', 'no freight item is configured');
    invoiceLines.push({ itemRef: ctx.freightItem, desc: 'Freight', amount: cents(freight) });
  }

  return invoiceLines;
}

/** The invoice total the mapped lines add up to (before QuickBooks adds sales tax), to the cent. */
export function invoiceLinesTotal(fields: InvoiceAddFields): string {
  return cents((fields.lines ?? []).reduce((sum, line) => sum.plus(line.amount ?? '0'), new Dec(0)));
}

export interface TotalsDifference {
  orderTotal: string;
  invoiceTotal: string;
  /** invoice − order, to the cent: `"0.00"` when they agree; anything else is reported on the order's workflow. */
  difference: string;
}

/**
 * How far the QuickBooks invoice total (subtotal plus sales tax) is from the Dynamics order total. The difference is
 * returned, never rounded away, so the workflow can record a disagreement (tax rules differ between the systems).
 */
export function invoiceTotalsDifference(
  order: Pick<SalesOrderRecord, 'totalamount'>,
  invoice: Pick<InvoiceRet, 'subtotal' | 'salesTaxTotal'>,
): MappingResult<TotalsDifference> {
  const issues = new Issues();
  const orderTotal = readDecimal(issues, 'totalamount', order.totalamount);
  if (orderTotal === null && !issues.failed) issues.add('totalamount', 'required', 'the order has no total');
  const subtotal = readDecimal(issues, 'subtotal', invoice.subtotal);
  if (subtotal === null && !issues.failed) issues.add('subtotal', 'required', 'the invoice has no subtotal');
  const tax = readDecimal(issues, 'salesTaxTotal', invoice.salesTaxTotal) ?? new Dec(0);
  if (orderTotal === null || subtotal === null)
    return issues.result({ orderTotal: '', invoiceTotal: '', difference: '' });
  const invoiceTotal = subtotal.plus(tax);
  return issues.result({
    orderTotal: cents(orderTotal),
    invoiceTotal: cents(invoiceTotal),
    difference: cents(invoiceTotal.minus(orderTotal)),
  });
}

export interface OrderInvoiceStatus {
  invoiceNumber: string;
  txnId: string;
  /** Amount still owed, to the cent. */
  balance: string;
  paid: boolean;
  state: 'invoiced' | 'paid';
}

/**
 * What the Dynamics order should show once QuickBooks invoiced it. QuickBooks' own IsPaid wins; without it an
 * invoice with nothing left to pay counts as paid.
 */
export function invoiceToOrderStatus(
  invoice: Pick<InvoiceRet, 'txnId' | 'refNumber' | 'balanceRemaining' | 'isPaid'>,
): MappingResult<OrderInvoiceStatus> {
  const issues = new Issues();
  const txnId = text(invoice.txnId);
  if (txnId === null) issues.add('txnId', 'required', 'the invoice has no TxnID');
  const invoiceNumber = text(invoice.refNumber);
  if (invoiceNumber === null) issues.add('refNumber', 'required', 'the invoice has no number (RefNumber)');
  const balance: Decimal | null = readDecimal(issues, 'balanceRemaining', invoice.balanceRemaining);
  if (balance === null && text(invoice.balanceRemaining) === null) {
    issues.add('balanceRemaining', 'required', 'the invoice has no remaining balance');
  }
  const paid = invoice.isPaid ?? (balance !== null && balance.lte(0));
  return issues.result({
    invoiceNumber: invoiceNumber ?? '',
    txnId: txnId ?? '',
    balance: balance === null ? '' : cents(balance),
    paid,
    state: paid ? 'paid' : 'invoiced',
  });
}

/**
 * The balance an invoice's row must still be told once the order's run recorded it: QuickBooks' balance and paid state
 * as read after the row existed, when they differ from what the run recorded (its Add's answer, or its look-up after a
 * lost answer). Null when nothing differs, or QuickBooks no longer has the invoice (its deletion is the poll's to
 * record).
 *
 * Why the run reads again: a payment QuickBooks took between the Add and the row's write is seen by the poll while
 * the row does not exist yet, so the poll has nowhere to write it, and its cursor moves on; the run then wrote the
 * Add's balance and nothing ever corrected it (chaos run, `balanceNotFollowed`). A read made once the row exists sees
 * every such payment; a payment after that read is the poll's, which now finds the row.
 */
export function invoiceBalanceAfterRecord(
  recorded: Pick<OrderInvoiceStatus, 'balance' | 'paid'>,
  now: Pick<InvoiceRet, 'txnId' | 'refNumber' | 'balanceRemaining' | 'isPaid'> | undefined,
): Pick<OrderInvoiceStatus, 'balance' | 'paid'> | null {
  if (!now) return null;
  const status = invoiceToOrderStatus(now);
  if (!status.ok) return null;
  const { balance, paid } = status.value;
  return balance === recorded.balance && paid === recorded.paid ? null : { balance, paid };
}

// ---- the sales order → invoice flow's decisions --------------------------------------------------------------

/** `salesorder.statecode` values the flow decides on. */
const OrderStateCode = { Canceled: 2 } as const;

export type OrderReadiness = { kind: 'invoice' } | { kind: 'skip'; note: string; targetId?: string };

/**
 * Whether an order as read is due an invoice. An order that already records its invoice is done (a webhook for a
 * later edit, a replay), and a canceled one never gets one: both end as `unchanged`, with the reason.
 */
export function orderReadiness(
  order: Pick<SalesOrderRecord, 'qbsync_qbtxnid'> & { statecode: number },
): OrderReadiness {
  if (order.qbsync_qbtxnid) return { kind: 'skip', note: 'already invoiced', targetId: order.qbsync_qbtxnid };
  if (order.statecode === OrderStateCode.Canceled) return { kind: 'skip', note: 'the order is canceled' };
  return { kind: 'invoice' };
}

export type InvoiceMatch = { kind: 'ours'; invoice: InvoiceRet } | { kind: 'none' } | { kind: 'numberTaken' };

/**
 * Among the invoices carrying the order's number, the one made from this order: same customer, and the order's id
 * as its `ExternalGUID` (or none, for invoices made before the link was written). QuickBooks does not keep invoice
 * numbers unique, so another invoice with the number is a clash the operator must resolve, never a reason to add a
 * second one; no invoice at all means it is due (again, after a lost answer).
 */
export function matchInvoice(found: readonly InvoiceRet[], customerListId: string, orderId: string): InvoiceMatch {
  const ours = found.find(
    (invoice) =>
      invoice.customerRef?.listId === customerListId &&
      (invoice.externalGuid === undefined || orderIdOfInvoiceLink(invoice.externalGuid) === orderId.toLowerCase()),
  );
  if (ours) return { kind: 'ours', invoice: ours };
  return found.length > 0 ? { kind: 'numberTaken' } : { kind: 'none' };
}

// ---- the order as the invoice is built from it, read again before the Add and after it -----------------------

/** An order with its lines, as read at one moment: what an invoice is built from and what later reads are held to. */
export interface OrderSnapshot {
  order: SalesOrderRecord;
  lines: readonly SalesOrderLineRecord[];
}

/**
 * The columns an invoice is built from. The connector's own columns (invoice number, TxnID, balance, state) and the
 * save times are left out: writing the invoice back onto the order changes those, not the order.
 */
const ORDER_CONTENT = TABLES.salesorder.select.filter(
  (c) => !['salesorderid', 'statecode', 'statuscode', 'modifiedon', ...ORDER_INVOICE_COLUMNS].includes(c),
);
const LINE_CONTENT = TABLES.salesorderdetail.select.filter((c) => c !== 'salesorderdetailid' && c !== 'modifiedon');

function valueText(value: unknown): string {
  return value === null || value === undefined ? '' : String(value);
}

/**
 * What differs between two reads of an order, as the invoice sees it: header columns by name, lines by id
 * (`lines[<id>].quantity`, `lines[<id>] added`, `lines[<id>] removed`). Empty when the invoice would come out the same.
 */
export function orderChanges(before: OrderSnapshot, after: OrderSnapshot): string[] {
  const changes: string[] = [];
  const header = (o: SalesOrderRecord): Record<string, unknown> => o as Record<string, unknown>;
  for (const column of ORDER_CONTENT) {
    if (valueText(header(before.order)[column]) !== valueText(header(after.order)[column])) changes.push(column);
  }
  const byId = (lines: readonly SalesOrderLineRecord[]): Map<string, Record<string, unknown>> =>
    new Map(lines.map((l, i) => [l.salesorderdetailid ?? `#${i}`, l as Record<string, unknown>]));
  const was = byId(before.lines);
  const now = byId(after.lines);
  for (const [id, line] of now) {
    const old = was.get(id);
    if (!old) {
      changes.push(`lines[${id}] added`);
      continue;
    }
    for (const column of LINE_CONTENT) {
      if (valueText(old[column]) !== valueText(line[column])) changes.push(`lines[${id}].${column}`);
    }
  }
  for (const id of was.keys()) if (!now.has(id)) changes.push(`lines[${id}] removed`);
  return changes;
}

/**
 * How long the order must still be left alone before it is invoiced: 0 once neither it nor any of its lines was saved
 * in the last `quietMs`. An order caught while its lines are being added would otherwise be invoiced short; the
 * order's own save time is not enough, since Dynamics moves it only when a line changes the order's totals.
 */
export function quietWait(snapshot: OrderSnapshot, nowMs: number, quietMs: number): number {
  let last = Number.NEGATIVE_INFINITY;
  for (const saved of [snapshot.order.modifiedon, ...snapshot.lines.map((l) => l.modifiedon)]) {
    const at = saved ? Date.parse(saved) : NaN;
    if (Number.isFinite(at) && at > last) last = at;
  }
  if (!Number.isFinite(last)) return 0;
  return Math.max(0, Math.min(quietMs, last + quietMs - nowMs));
}

export type InvoiceGate =
  /** The order is as the invoice was built from it: queue the Add. */
  | { kind: 'add' }
  /** The order changed since it was read: build the invoice again from the order as it now stands. */
  | { kind: 'rebuild'; changes: string[] }
  /** The order is gone, canceled or invoiced by another run meanwhile: no Add. */
  | { kind: 'skip'; note: string; targetId?: string };

/**
 * The last look at an order right before its InvoiceAdd is queued (the Add may then wait days for the Web Connector):
 * `builtFrom` is the read the invoice fields came from, `current` the order read just now.
 */
export function invoiceGate(
  builtFrom: OrderSnapshot,
  current: (OrderSnapshot & { order: { statecode: number } }) | null,
): InvoiceGate {
  if (!current) return { kind: 'skip', note: 'the order no longer exists' };
  const readiness = orderReadiness(current.order);
  if (readiness.kind === 'skip') return readiness;
  const changes = orderChanges(builtFrom, current);
  return changes.length > 0 ? { kind: 'rebuild', changes } : { kind: 'add' };
}

// ---- the QuickBooks invoice as a Dynamics invoice row ----------------------------------------------------------

/**
 * `invoice.statecode` / `statuscode` pairs the connector sets (invoice entity reference): Active/New, Paid/Complete
 * and Canceled/Canceled. Partial (100002) is a Paid status too, so a partly paid QuickBooks invoice stays Active
 * with its balance; the platform makes Paid and Canceled invoices read-only until reactivated.
 */
export const InvoiceRowState = {
  Active: { statecode: 0, statuscode: 1 },
  Paid: { statecode: 2, statuscode: 100001 },
  Canceled: { statecode: 3, statuscode: 100003 },
} as const;

export type InvoiceRowStatus = 'Open' | 'Paid' | 'Deleted';

/** What the invoice row should hold; a column left undefined is not written. */
export interface InvoiceRowWanted {
  companyFile?: string;
  txnId: string;
  invoiceNumber?: string;
  balance: string;
  status: InvoiceRowStatus;
}

export interface InvoiceRowPlan {
  /** Move the row back to Active first: a Paid or Canceled invoice takes no other change. */
  reactivate: boolean;
  /** The connector's columns that differ (empty: none). */
  columns: Record<string, string>;
  /** The state to set last (Paid or Canceled), or null to leave the row Active. */
  close: { statecode: number; statuscode: number } | null;
}

/**
 * The steps that bring an invoice row to what QuickBooks says, in the only order the platform accepts: reactivate a
 * closed row that must change, write the columns while it is Active, then set Paid (or Canceled, for an invoice deleted
 * in QuickBooks). A row already as wanted gets no step, so a replay or a second poll writes nothing.
 */
export function invoiceRowPlan(current: Readonly<Record<string, unknown>>, wanted: InvoiceRowWanted): InvoiceRowPlan {
  const target =
    wanted.status === 'Paid'
      ? InvoiceRowState.Paid
      : wanted.status === 'Deleted'
        ? InvoiceRowState.Canceled
        : InvoiceRowState.Active;
  const desired: Record<string, string | undefined> = {
    [COMPANY_FILE_COLUMN]: wanted.companyFile,
    [TXN_ID_COLUMN]: wanted.txnId,
    [INVOICE_NUMBER_COLUMN]: wanted.invoiceNumber,
    [ORDER_BALANCE_COLUMN]: wanted.balance,
    [ORDER_INVOICE_STATUS_COLUMN]: wanted.status,
  };
  const columns: Record<string, string> = {};
  for (const [column, value] of Object.entries(desired)) {
    if (value === undefined || value === '') continue;
    if (valueText(current[column]) !== value) columns[column] = value;
  }
  const state = typeof current.statecode === 'number' ? current.statecode : InvoiceRowState.Active.statecode;
  const inTarget = state === target.statecode;
  const reactivate = state !== InvoiceRowState.Active.statecode && (Object.keys(columns).length > 0 || !inTarget);
  const close = target.statecode !== InvoiceRowState.Active.statecode && (reactivate || !inTarget) ? target : null;
  return { reactivate, columns, close };
}

/** `salesorder.statecode` Active and Submitted: the only states in which the platform lets an order be updated. */
export function orderStillEditable(statecode: unknown): boolean {
  return statecode === 0 || statecode === 1;
}
