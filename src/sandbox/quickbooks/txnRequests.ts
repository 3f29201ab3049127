import Decimal from 'decimal.js';
import { childType, date, type Model } from './contentModel';
import { addDays } from './companyClock';
import { type ListRecord, type StoredNode, type TxnKind, type TxnLine, type TxnRecord } from './companyState';
import { dataExtRets } from './dataExtRequests';
import {
  convertChildren,
  fieldRef,
  fieldText,
  mergeFields,
  normalizeLeaf,
  resolveRef,
  conversionIn,
} from './fieldConversion';
import { bodyOf, dateFilter, includeSet, resolveIdFilter, touch } from './listRequests';
import { byModified, runQuery, type QueryMatch } from './queryRunner';
import { childText, childTexts, type RequestContext, type RequestOutcome } from './requestContext';
import { recordInUse, RequestFailure, statusMessages, unknownObject } from './requestFailure';
import { bodyModel, requestSchemas } from './requestSchemas';
import {
  estimateLineRetOrder,
  estimateRetOrder,
  invoiceLineRetOrder,
  invoiceRetOrder,
  salesOrderLineRetOrder,
  salesOrderRetOrder,
} from './retOrder';
import { orderFields, recordStamp, renderNodes, textNode } from './retRender';
import { balanceRemaining, lineAmount, subtotal } from './txnTotals';
import { salesTaxOf } from './salesTax';
import { InvoiceLinking, isFullyInvoiced, linkedTxnNodes } from './salesOrderLinks';
import type { XmlElement } from './xml';

/* Invoices and sales orders: header + lines, totals always derived from the lines. */

const lineElements = new Set([
  'InvoiceLineAdd',
  'InvoiceLineGroupAdd',
  'InvoiceLineMod',
  'InvoiceLineGroupMod',
  'SalesOrderLineAdd',
  'SalesOrderLineGroupAdd',
  'SalesOrderLineMod',
  'SalesOrderLineGroupMod',
  'EstimateLineAdd',
  'EstimateLineGroupAdd',
  'EstimateLineMod',
  'EstimateLineGroupMod',
]);
const headerSkip = new Set([
  ...lineElements,
  'TxnID',
  'EditSequence',
  'CustomerRef',
  'RefNumber',
  'TxnDate',
  'SetCredit',
  'LinkToTxnID',
]);

function lineModel(model: Model, element: string): Model {
  const type = childType(model, element);
  return type?.kind === 'seq' ? type.model : [];
}

/** Price QuickBooks fills in from the item when a line names neither Rate nor Amount. */
function itemRate(item: ListRecord): string | undefined {
  for (const f of item.fields) {
    if (f.n === 'SalesPrice' || f.n === 'Price') return f.t;
    if ((f.n === 'SalesOrPurchase' || f.n === 'SalesAndPurchase') && f.c) {
      const p = f.c.find((c) => c.n === 'Price' || c.n === 'SalesPrice');
      if (p?.t) return p.t;
    }
  }
  return undefined;
}

function itemDescription(item: ListRecord): string | undefined {
  for (const f of item.fields) {
    if (f.n === 'SalesDesc' || f.n === 'ItemDesc') return f.t;
    if ((f.n === 'SalesOrPurchase' || f.n === 'SalesAndPurchase') && f.c) {
      const d = f.c.find((c) => c.n === 'Desc' || c.n === 'SalesDesc');
      if (d?.t) return d.t;
    }
  }
  return undefined;
}

function setField(fields: StoredNode[], n: string, t: string): void {
  const existing = fields.find((f) => f.n === n);
  if (existing) existing.t = t;
  else fields.push({ n, t });
}

/**
 * Fills in what QuickBooks derives for a line: the item's description and price, and Amount = Quantity × Rate
 * (rounded to cents) or, for a percentage line, that percentage of the lines before it (negative for discounts).
 */
function completeLine(
  fields: StoredNode[],
  priorLines: TxnLine[],
  ctx: RequestContext,
  explicitAmount: boolean,
  isNew: boolean,
): string {
  const itemId = fieldRef(fields, 'ItemRef');
  const item = itemId ? ctx.store.list(itemId) : undefined;
  if (isNew && item && fieldText(fields, 'Desc') === undefined) {
    const desc = itemDescription(item);
    if (desc) fields.push({ n: 'Desc', t: desc });
  }
  const quantity = fieldText(fields, 'Quantity');
  if (explicitAmount) return fieldText(fields, 'Amount') ?? '0.00';
  let rate = fieldText(fields, 'Rate');
  const percent =
    fieldText(fields, 'RatePercent') ??
    (item?.kind === 'ItemDiscount' && !rate ? fieldText(item.fields, 'DiscountRatePercent') : undefined);
  if (rate === undefined && percent === undefined && item) {
    rate = item.kind === 'ItemDiscount' ? fieldText(item.fields, 'DiscountRate') : itemRate(item);
    if (rate !== undefined && item.kind !== 'ItemDiscount') setField(fields, 'Rate', rate);
  }
  let amount: string;
  if (percent !== undefined && rate === undefined) {
    const base = priorLines.reduce((s, l) => s.plus(l.amount), new Decimal(0));
    let value = base.times(percent).div(100).toDecimalPlaces(2, Decimal.ROUND_HALF_UP);
    if (item?.kind === 'ItemDiscount') value = value.abs().negated();
    amount = value.toFixed(2);
  } else if (rate !== undefined) {
    amount = lineAmount(quantity, rate);
    if (item?.kind === 'ItemDiscount' && fieldText(fields, 'Rate') === undefined)
      amount = new Decimal(amount).abs().negated().toFixed(2);
  } else {
    amount = '0.00';
  }
  setField(fields, 'Amount', amount);
  return amount;
}

function buildLine(element: XmlElement, model: Model, ctx: RequestContext, kind: TxnKind, prior: TxnLine[]): TxnLine {
  if (element.name.includes('Group')) {
    const ref = element.children.find((c) => c.name === 'ItemGroupRef');
    const value = ref?.children[0]?.text ?? '';
    throw new RequestFailure(3140, statusMessages.invalidReference('Item Group', value, `${kind} line`));
  }
  const conv = conversionIn(ctx, `${kind} line`);
  const fields = convertChildren(element.children, model, conv, new Set(['TxnLineID'])).filter(
    (f) => f.c !== undefined || f.ref !== undefined || (f.t ?? '') !== '',
  );
  const explicit = fields.some((f) => f.n === 'Amount');
  const amount = completeLine(fields, prior, ctx, explicit, true);
  const line: TxnLine = { txnLineId: ctx.store.nextLineId(ctx.clock.nowSeconds()), fields, amount };
  const itemId = fieldRef(fields, 'ItemRef');
  if (itemId) line.itemId = itemId;
  if (kind === 'SalesOrder')
    fields.push(
      { n: 'Invoiced', t: '0' },
      { n: 'IsManuallyClosed', t: fieldText(fields, 'IsManuallyClosed') ?? 'false' },
    );
  return line;
}

function nextRefNumber(ctx: RequestContext, kind: TxnKind): string {
  const used = new Set(ctx.store.state.txns.filter((t) => t.kind === kind).map((t) => t.refNumber.toLowerCase()));
  let candidate: string;
  do {
    ctx.store.state.counters.refNumber += 1;
    candidate = String(ctx.store.state.counters.refNumber);
  } while (used.has(candidate));
  return candidate;
}

export function addTxn(kind: TxnKind, rq: XmlElement, ctx: RequestContext): RequestOutcome {
  const element = `${kind}Add`;
  const schema = requestSchemas[rq.name];
  const model = schema ? bodyModel(schema, element) : [];
  const body = bodyOf(rq, element);
  const conv = conversionIn(ctx, kind);
  const customerRef = body.children.find((c) => c.name === 'CustomerRef');
  const customer = customerRef ? resolveRef(customerRef, 'Customer', conv) : undefined;
  if (!customer) throw new RequestFailure(3140, statusMessages.invalidReference('Customer', '', kind));
  const fields = convertChildren(body.children, model, conv, headerSkip).filter(
    (f) => f.c !== undefined || f.ref !== undefined || (f.t ?? '') !== '',
  );
  const lineAddName = `${kind}LineAdd`;
  const lines: TxnLine[] = [];
  // Invoice lines may come from sales orders (LinkToTxn, LinkToTxnID): checked now, applied once the invoice is saved.
  const linking = kind === 'Invoice' ? new InvoiceLinking(ctx, customer.listId) : undefined;
  const sentLines = body.children.filter((c) => lineElements.has(c.name));
  for (const child of sentLines) {
    const linked = linking?.linkedLine(child);
    const line = buildLine(linked?.element ?? child, lineModel(model, lineAddName), ctx, kind, lines);
    if (linked) line.link = linked.link;
    lines.push(line);
  }
  const wholeOrders = childTexts(body, 'LinkToTxnID');
  if (linking && wholeOrders.length > 0) {
    for (const linked of linking.wholeOrders(wholeOrders, sentLines.length)) {
      const line = buildLine(linked.element, lineModel(model, lineAddName), ctx, kind, lines);
      line.link = linked.link;
      lines.push(line);
    }
  }
  const now = ctx.clock.nowSeconds();
  const refNumber = childText(body, 'RefNumber') || nextRefNumber(ctx, kind);
  if ((childText(body, 'RefNumber')?.length ?? 0) > 11)
    throw new RequestFailure(3070, statusMessages.stringTooLong(refNumber, 'RefNumber'));
  const sentTxnDate = childText(body, 'TxnDate');
  const txnDate =
    sentTxnDate === undefined ? ctx.clock.formatDate(now) : normalizeLeaf(sentTxnDate, date, 'TxnDate', ctx.clock);
  for (const inherited of ['BillAddress', 'ShipAddress', 'TermsRef', 'ClassRef']) {
    const fromCustomer = customer.fields.find((f) => f.n === inherited);
    if (fromCustomer && !fields.some((f) => f.n === inherited)) fields.push(structuredClone(fromCustomer));
  }
  if (kind === 'Invoice' && !fields.some((f) => f.n === 'ARAccountRef')) {
    const ar = ctx.store.findByName('Account', 'Accounts Receivable');
    if (ar) fields.push({ n: 'ARAccountRef', ref: ar.listId });
  }
  const termsId = fieldRef(fields, 'TermsRef');
  const dueDays = termsId ? fieldText(ctx.store.list(termsId)?.fields ?? [], 'StdDueDays') : undefined;
  if (!fields.some((f) => f.n === 'DueDate') && (kind === 'Invoice' || dueDays !== undefined)) {
    fields.push({ n: 'DueDate', t: addDays(txnDate, Number(dueDays ?? 0)) });
  }
  ctx.store.state.counters.txnNumber += 1;
  const txn: TxnRecord = {
    kind,
    txnId: ctx.store.nextTxnId(now),
    created: now,
    modified: now,
    editSequence: String(now),
    txnNumber: ctx.store.state.counters.txnNumber,
    customerId: customer.listId,
    refNumber,
    txnDate,
    fields,
    lines,
    paid: '0.00',
  };
  ctx.store.addTxn(txn);
  linking?.commit();
  ctx.markDirty();
  return {
    body: renderTxn(txn, ctx, { includeLines: true, include: includeSet(rq), ownerIds: [], linkedTxns: true }),
  };
}

export function modTxn(kind: TxnKind, rq: XmlElement, ctx: RequestContext): RequestOutcome {
  const element = `${kind}Mod`;
  const schema = requestSchemas[rq.name];
  const model = schema ? bodyModel(schema, element) : [];
  const body = bodyOf(rq, element);
  const conv = conversionIn(ctx, kind);
  const txnId = childText(body, 'TxnID') ?? '';
  const txn = ctx.store.txn(txnId);
  if (!txn || txn.kind !== kind) throw unknownObject(txnId, 'TxnID');
  const held = ctx.inUse?.get(txnId);
  if (held !== undefined) throw recordInUse(held, kind, txnId);
  const editSequence = childText(body, 'EditSequence') ?? '';
  if (editSequence !== txn.editSequence) throw new RequestFailure(3200, statusMessages.staleEditSequence(editSequence));
  const customerRef = body.children.find((c) => c.name === 'CustomerRef');
  const customer = customerRef ? resolveRef(customerRef, 'Customer', conv) : undefined;
  const changes = convertChildren(body.children, model, conv, headerSkip);
  const refNumber = childText(body, 'RefNumber');
  const txnDate = childText(body, 'TxnDate');
  if (txnDate !== undefined)
    convertChildren(
      body.children.filter((c) => c.name === 'TxnDate'),
      model,
      conv,
    );

  const lineMods = body.children.filter((c) => lineElements.has(c.name));
  let lines = txn.lines;
  if (lineMods.length > 0) {
    // Once any line is sent, QuickBooks deletes every existing line the Mod does not name.
    const modModel = lineModel(model, `${kind}LineMod`);
    lines = [];
    for (const mod of lineMods) {
      const lineId = childText(mod, 'TxnLineID') ?? '';
      if (lineId === '-1' || mod.name.includes('Group')) {
        lines.push(buildLine(mod, modModel, ctx, kind, lines));
        continue;
      }
      const existing = txn.lines.find((l) => l.txnLineId === lineId);
      if (!existing || lines.some((l) => l.txnLineId === lineId)) {
        throw new RequestFailure(3000, statusMessages.invalidObjectId(lineId, 'TxnLineID'));
      }
      const lineChanges = convertChildren(
        mod.children,
        modModel,
        { ...conv, inObject: `${kind} line` },
        new Set(['TxnLineID']),
      );
      const fields = mergeFields(structuredClone(existing.fields), lineChanges);
      const explicit = lineChanges.some((f) => f.n === 'Amount');
      const repriced = lineChanges.some((f) => ['Quantity', 'Rate', 'RatePercent', 'ItemRef'].includes(f.n));
      const amount =
        explicit || !repriced
          ? (fieldText(fields, 'Amount') ?? existing.amount)
          : completeLine(fields, lines, ctx, false, false);
      const updated: TxnLine = { txnLineId: existing.txnLineId, fields, amount };
      const itemId = fieldRef(fields, 'ItemRef');
      if (itemId) updated.itemId = itemId;
      lines.push(updated);
    }
  }

  txn.fields = mergeFields(txn.fields, changes);
  if (customer) txn.customerId = customer.listId;
  if (refNumber !== undefined) txn.refNumber = refNumber;
  if (txnDate !== undefined) txn.txnDate = txnDate;
  txn.lines = lines;
  touch(txn, ctx);
  ctx.markDirty();
  return {
    body: renderTxn(txn, ctx, { includeLines: true, include: includeSet(rq), ownerIds: [], linkedTxns: true }),
  };
}

interface TxnRenderOptions {
  includeLines: boolean;
  include: ReadonlySet<string>;
  ownerIds: string[];
  /**
   * LinkedTxn: a query returns it only when asked (`IncludeLinkedTxns`); Add and Mod answers carry it (assumption,
   * unconfirmed: the SDK reference does not say whether an Add answer lists its links).
   */
  linkedTxns: boolean;
}

function renderTxn(txn: TxnRecord, ctx: RequestContext, opts: TxnRenderOptions): string {
  const { clock, store } = ctx;
  const total = subtotal(txn);
  const tax = salesTaxOf(txn, store);
  const computed: StoredNode[] = [
    ...recordStamp('TxnID', txn.txnId, txn, clock),
    textNode('TxnNumber', txn.txnNumber),
    { n: 'CustomerRef', ref: txn.customerId },
    textNode('TxnDate', txn.txnDate),
    textNode('RefNumber', txn.refNumber),
    textNode('Subtotal', total.toFixed(2)),
    textNode('SalesTaxPercentage', tax.percent.decimalPlaces() > 2 ? tax.percent.toFixed() : tax.percent.toFixed(2)),
    textNode('SalesTaxTotal', tax.total.toFixed(2)),
  ];
  const has = (n: string) => txn.fields.some((f) => f.n === n);
  if (txn.kind === 'Invoice') {
    const balance = balanceRemaining(txn, store);
    computed.push(
      textNode('AppliedAmount', new Decimal(txn.paid).negated().toFixed(2)),
      textNode('BalanceRemaining', balance.toFixed(2)),
      textNode('IsPaid', balance.lte(0)),
    );
    if (!has('IsPending')) computed.push(textNode('IsPending', 'false'));
    if (!has('IsFinanceCharge')) computed.push(textNode('IsFinanceCharge', 'false'));
  } else if (txn.kind === 'Estimate') {
    computed.push(textNode('TotalAmount', total.toFixed(2)));
    if (!has('IsActive')) computed.push(textNode('IsActive', 'true'));
  } else {
    computed.push(textNode('TotalAmount', total.plus(tax.total).toFixed(2)));
    if (!has('IsManuallyClosed')) computed.push(textNode('IsManuallyClosed', 'false'));
    computed.push(textNode('IsFullyInvoiced', isFullyInvoiced(txn)));
  }
  // An estimate has no IsToBePrinted (qbXML 13 EstimateRet; an assumption, see retOrder.ts).
  if (!has('IsToBePrinted') && txn.kind !== 'Estimate') computed.push(textNode('IsToBePrinted', 'false'));
  if (!has('IsToBeEmailed')) computed.push(textNode('IsToBeEmailed', 'false'));
  const order =
    txn.kind === 'Invoice' ? invoiceRetOrder : txn.kind === 'Estimate' ? estimateRetOrder : salesOrderRetOrder;
  const lineOrder =
    txn.kind === 'Invoice'
      ? invoiceLineRetOrder
      : txn.kind === 'Estimate'
        ? estimateLineRetOrder
        : salesOrderLineRetOrder;
  if (opts.linkedTxns) computed.push(...linkedTxnNodes(txn, store.state.txns));
  const header = orderFields([...computed, ...txn.fields], order, opts.include);
  const lineRet = `${txn.kind}LineRet`;
  const wantLines = opts.includeLines && (opts.include.size === 0 || opts.include.has(lineRet));
  const lines = wantLines
    ? txn.lines
        .map((line) => {
          const nodes = orderFields([textNode('TxnLineID', line.txnLineId), ...line.fields], lineOrder);
          const ext = opts.ownerIds.length > 0 ? dataExtRets(ctx, txn.txnId, opts.ownerIds, line.txnLineId) : '';
          return `<${lineRet}>\n${renderNodes(nodes, store)}${ext}</${lineRet}>\n`;
        })
        .join('')
    : '';
  const ext = opts.ownerIds.length > 0 ? dataExtRets(ctx, txn.txnId, opts.ownerIds) : '';
  return `<${txn.kind}Ret>\n${renderNodes(header, store)}${lines}${ext}</${txn.kind}Ret>\n`;
}

function matchTxns(kind: TxnKind, rq: XmlElement, ctx: RequestContext): QueryMatch {
  const all = ctx.store.state.txns.filter((t) => t.kind === kind);
  const txnIds = childTexts(rq, 'TxnID');
  const refs = childTexts(rq, 'RefNumber');
  const refsExact = childTexts(rq, 'RefNumberCaseSensitive');
  if (txnIds.length > 0) {
    const found = txnIds.map((id) => ctx.store.txn(id)).filter((t): t is TxnRecord => t?.kind === kind);
    return { ids: found.map((t) => t.txnId), missing: txnIds.filter((id) => !found.some((t) => t.txnId === id)) };
  }
  if (refs.length > 0 || refsExact.length > 0) {
    const lower = refs.map((r) => r.toLowerCase());
    const found = all.filter((t) => lower.includes(t.refNumber.toLowerCase()) || refsExact.includes(t.refNumber));
    return { ids: found.sort(byModified((t: TxnRecord) => t.txnId)).map((t) => t.txnId), missing: [] };
  }
  let txns = all;
  const modified = rq.children.find((c) => c.name === 'ModifiedDateRangeFilter');
  if (modified) {
    const from = dateFilter(modified, 'FromModifiedDate', ctx, false);
    const to = dateFilter(modified, 'ToModifiedDate', ctx, true);
    const wall = (t: TxnRecord) => ctx.clock.wallSeconds(t.modified);
    txns = txns.filter((t) => (from === undefined || wall(t) >= from) && (to === undefined || wall(t) <= to));
  }
  const txnDates = rq.children.find((c) => c.name === 'TxnDateRangeFilter');
  if (txnDates) {
    const from = childText(txnDates, 'FromTxnDate');
    const to = childText(txnDates, 'ToTxnDate');
    txns = txns.filter((t) => (from === undefined || t.txnDate >= from) && (to === undefined || t.txnDate <= to));
  }
  const entity = rq.children.find((c) => c.name === 'EntityFilter');
  if (entity) {
    const ids = resolveIdFilter(entity, ['Customer'], ctx);
    txns = txns.filter((t) => ids.has(t.customerId));
  }
  const refFilter = rq.children.find((c) => c.name === 'RefNumberFilter');
  if (refFilter) {
    const criterion = childText(refFilter, 'MatchCriterion');
    const wanted = (childText(refFilter, 'RefNumber') ?? '').toLowerCase();
    txns = txns.filter((t) => {
      const ref = t.refNumber.toLowerCase();
      return criterion === 'StartsWith'
        ? ref.startsWith(wanted)
        : criterion === 'EndsWith'
          ? ref.endsWith(wanted)
          : ref.includes(wanted);
    });
  }
  const refRange = rq.children.find((c) => c.name === 'RefNumberRangeFilter');
  if (refRange) {
    const from = childText(refRange, 'FromRefNumber');
    const to = childText(refRange, 'ToRefNumber');
    txns = txns.filter((t) => (from === undefined || t.refNumber >= from) && (to === undefined || t.refNumber <= to));
  }
  const paid = childText(rq, 'PaidStatus');
  if (paid === 'PaidOnly') txns = txns.filter((t) => balanceRemaining(t, ctx.store).lte(0));
  if (paid === 'NotPaidOnly') txns = txns.filter((t) => balanceRemaining(t, ctx.store).gt(0));
  return { ids: [...txns].sort(byModified((t: TxnRecord) => t.txnId)).map((t) => t.txnId), missing: [] };
}

export function queryTxns(kind: TxnKind, rq: XmlElement, ctx: RequestContext): RequestOutcome {
  const include = includeSet(rq);
  const includeLines = childText(rq, 'IncludeLineItems');
  const withLines = includeLines === '1' || includeLines?.toLowerCase() === 'true';
  const includeLinked = childText(rq, 'IncludeLinkedTxns');
  const linkedTxns = includeLinked === '1' || includeLinked?.toLowerCase() === 'true';
  return runQuery(
    rq,
    ctx,
    () => matchTxns(kind, rq, ctx),
    (id, ownerIds) => {
      const txn = ctx.store.txn(id);
      return txn ? renderTxn(txn, ctx, { includeLines: withLines, include, ownerIds, linkedTxns }) : undefined;
    },
  );
}
