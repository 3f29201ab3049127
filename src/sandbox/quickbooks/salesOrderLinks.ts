import Decimal from 'decimal.js';
import type { StoredNode, TxnLine, TxnRecord } from './companyState';
import { fieldText } from './fieldConversion';
import { touch } from './listRequests';
import { childText, type RequestContext } from './requestContext';
import { RequestFailure, unknownObject } from './requestFailure';
import type { XmlElement } from './xml';

/*
 * Invoices linked to sales orders, as QuickBooks keeps them (SDK "Linking … invoice to sales order"): `LinkToTxnID` on
 * an InvoiceAdd brings every open line of a sales order in, `LinkToTxn` on an invoice line brings one sales-order line
 * (its item, description and price; the quantity may be sent, else what is still open). The sales-order line's
 * `Invoiced` grows by the quantity invoiced; the order is fully invoiced once every line is invoiced or closed.
 * Linking exists on Adds only. Assumptions (not confirmed on a real QuickBooks): the refusals below come back as 3180
 * ("There was an error when saving a Invoice") with the wordings given; a line without a quantity counts as one unit;
 * linking a closed order while other lines are sent links nothing, without the warning QuickBooks gives then.
 */

/** The sales-order line an invoice line was made from. */
export interface SalesOrderLineLink {
  txnId: string;
  txnLineId: string;
}

const savingFailed = (why: string) =>
  new RequestFailure(3180, `There was an error when saving a Invoice.  QuickBooks error message: ${why}`);

/** A line's ordered quantity: QuickBooks counts a line without one (an amount line) as one unit (assumption). */
function ordered(line: TxnLine): Decimal {
  return new Decimal(fieldText(line.fields, 'Quantity') ?? '1');
}

function invoiced(line: TxnLine): Decimal {
  return new Decimal(fieldText(line.fields, 'Invoiced') ?? '0');
}

function lineClosed(line: TxnLine): boolean {
  return fieldText(line.fields, 'IsManuallyClosed') === 'true';
}

/** What is still to invoice on a sales-order line (never below zero: a line may be invoiced beyond its order). */
function openQuantity(line: TxnLine): Decimal {
  return lineClosed(line) ? new Decimal(0) : Decimal.max(0, ordered(line).minus(invoiced(line)));
}

/** Every line invoiced in full or closed by hand, or the whole order closed by hand. */
export function isFullyInvoiced(salesOrder: TxnRecord): boolean {
  return salesOrder.lines.every((line) => openQuantity(line).lte(0));
}

function salesOrderClosed(salesOrder: TxnRecord): boolean {
  return fieldText(salesOrder.fields, 'IsManuallyClosed') === 'true' || isFullyInvoiced(salesOrder);
}

const leaf = (name: string, text: string): XmlElement => ({ name, attrs: {}, children: [], text });

/** The element QuickBooks sees for an invoice line linked to `line`: its item, and what the request left out. */
function lineFrom(line: TxnLine, sent: XmlElement[], quantity: Decimal | undefined): XmlElement {
  const has = (name: string) => sent.some((c) => c.name === name);
  const children: XmlElement[] = [];
  if (line.itemId) children.push({ name: 'ItemRef', attrs: {}, children: [leaf('ListID', line.itemId)], text: '' });
  const desc = fieldText(line.fields, 'Desc');
  if (desc !== undefined && !has('Desc')) children.push(leaf('Desc', desc));
  const amountLine = fieldText(line.fields, 'Quantity') === undefined;
  if (amountLine) {
    if (!has('Amount') && !has('Rate') && !has('RatePercent')) children.push(leaf('Amount', line.amount));
  } else {
    if (!has('Quantity') && quantity !== undefined) children.push(leaf('Quantity', quantity.toFixed()));
    const rate = fieldText(line.fields, 'Rate');
    const percent = fieldText(line.fields, 'RatePercent');
    if (!has('Rate') && !has('RatePercent') && !has('Amount')) {
      if (rate !== undefined) children.push(leaf('Rate', rate));
      else if (percent !== undefined) children.push(leaf('RatePercent', percent));
    }
  }
  return { name: 'InvoiceLineAdd', attrs: {}, children: [...children, ...sent], text: '' };
}

/**
 * The links of one InvoiceAdd, checked before anything is stored and applied to the sales orders only once the
 * invoice is saved (`commit`), so a refused Add leaves every sales order as it was.
 */
export class InvoiceLinking {
  private readonly invoicing: { salesOrder: TxnRecord; line: TxnLine; quantity: Decimal }[] = [];
  private readonly linkedByLine = new Set<string>();

  constructor(
    private readonly ctx: RequestContext,
    private readonly customerId: string,
  ) {}

  private salesOrder(txnId: string, field: string): TxnRecord {
    const found = this.ctx.store.txn(txnId);
    if (!found) throw unknownObject(txnId, field);
    if (found.kind !== 'SalesOrder')
      throw savingFailed(`Transaction "${txnId}" is not a sales order; only sales orders can be linked to an invoice.`);
    if (found.customerId !== this.customerId)
      throw savingFailed(`Sales order "${found.refNumber}" belongs to another customer.`);
    return found;
  }

  /** An `InvoiceLineAdd` carrying `LinkToTxn`, as the line QuickBooks makes of it; undefined for an unlinked line. */
  linkedLine(element: XmlElement): { element: XmlElement; link: SalesOrderLineLink } | undefined {
    const linkTo = element.children.find((c) => c.name === 'LinkToTxn');
    if (!linkTo) return undefined;
    const link = { txnId: childText(linkTo, 'TxnID') ?? '', txnLineId: childText(linkTo, 'TxnLineID') ?? '' };
    if (element.children.some((c) => c.name === 'ItemRef'))
      throw savingFailed(
        'An invoice line linked to a sales order line takes its item from that line; leave out ItemRef.',
      );
    const salesOrder = this.salesOrder(link.txnId, 'LinkToTxn/TxnID');
    const line = salesOrder.lines.find((l) => l.txnLineId === link.txnLineId);
    if (!line) throw unknownObject(link.txnLineId, 'LinkToTxn/TxnLineID');
    const sentQuantity = childText(element, 'Quantity');
    const quantity = sentQuantity === undefined ? openQuantity(line) : new Decimal(sentQuantity);
    this.linkedByLine.add(salesOrder.txnId);
    this.invoicing.push({ salesOrder, line, quantity });
    const sent = element.children.filter((c) => c.name !== 'LinkToTxn');
    return { element: lineFrom(line, sent, quantity), link };
  }

  /** `LinkToTxnID`: every open line of each sales order, as the invoice lines QuickBooks adds for them. */
  wholeOrders(txnIds: readonly string[], otherLines: number): { element: XmlElement; link: SalesOrderLineLink }[] {
    const lines: { element: XmlElement; link: SalesOrderLineLink }[] = [];
    for (const txnId of txnIds) {
      const salesOrder = this.salesOrder(txnId, 'LinkToTxnID');
      if (this.linkedByLine.has(txnId))
        throw savingFailed(`Sales order "${salesOrder.refNumber}" is linked both whole and by line; link it once.`);
      if (salesOrderClosed(salesOrder)) {
        if (otherLines === 0) throw savingFailed(`Sales order "${salesOrder.refNumber}" is closed or fully invoiced.`);
        continue;
      }
      for (const line of salesOrder.lines) {
        const quantity = openQuantity(line);
        if (quantity.lte(0)) continue;
        this.invoicing.push({ salesOrder, line, quantity });
        lines.push({ element: lineFrom(line, [], quantity), link: { txnId, txnLineId: line.txnLineId } });
      }
    }
    return lines;
  }

  /** The saved invoice's quantities onto its sales-order lines; each sales order linked is modified (new EditSequence). */
  commit(): void {
    const touched = new Set<TxnRecord>();
    for (const { salesOrder, line, quantity } of this.invoicing) {
      const total = invoiced(line).plus(quantity).toFixed();
      const field = line.fields.find((f) => f.n === 'Invoiced');
      if (field) field.t = total;
      else line.fields.push({ n: 'Invoiced', t: total });
      touched.add(salesOrder);
    }
    for (const salesOrder of touched) touch(salesOrder, this.ctx);
  }
}

/**
 * `LinkedTxn` of a transaction (qbXML 13 LinkedTxn: TxnID, TxnType, TxnDate, RefNumber, LinkType, Amount): an invoice
 * names the sales orders its lines came from, a sales order the invoices made from it. Assumption: a quantity link is
 * reported as LinkType QUANTYPE with Amount 0.00 on both sides.
 */
export function linkedTxnNodes(txn: TxnRecord, txns: readonly TxnRecord[]): StoredNode[] {
  const linked: TxnRecord[] = [];
  if (txn.kind === 'Invoice') {
    for (const line of txn.lines) {
      const other = line.link && txns.find((t) => t.txnId === line.link?.txnId);
      if (other && !linked.includes(other)) linked.push(other);
    }
  } else if (txn.kind === 'SalesOrder') {
    for (const other of txns) {
      if (other.kind === 'Invoice' && other.lines.some((l) => l.link?.txnId === txn.txnId)) linked.push(other);
    }
  }
  return linked.map((other) => ({
    n: 'LinkedTxn',
    c: [
      { n: 'TxnID', t: other.txnId },
      { n: 'TxnType', t: other.kind },
      { n: 'TxnDate', t: other.txnDate },
      { n: 'RefNumber', t: other.refNumber },
      { n: 'LinkType', t: 'QUANTYPE' },
      { n: 'Amount', t: '0.00' },
    ],
  }));
}
