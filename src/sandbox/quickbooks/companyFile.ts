import Decimal from 'decimal.js';
import { childLogger } from '../../observability/logger';
import { seq, validateElement } from './contentModel';
import { CompanyClock } from './companyClock';
import { itemKinds, type ListKind, type SalesTaxCode, type SalesTaxItem } from './companyState';
import { CompanyStore } from './companyStore';
import { dataExtAddOrMod, dataExtDefAdd } from './dataExtRequests';
import { addListRecord, bodyOf, includeSet, modListRecord, queryLists, renderListRecord, touch } from './listRequests';
import { hostRet } from './hostQuery';
import { QuickBooksParseError } from './parseError';
import { QueryIterators } from './queryIterators';
import { deleteListRecord, deleteTxnRecord, queryDeletedLists, queryDeletedTxns } from './deletedLists';
import type { RecordInUseCode, RequestContext, RequestOutcome } from './requestContext';
import { RequestFailure, statusMessages } from './requestFailure';
import { bodyModel, requestSchemas } from './requestSchemas';
import { standardTermsQuery } from './termsQuery';
import { createStandardLists } from './standardLists';
import { addTxn, modTxn, queryTxns } from './txnRequests';
import { DEFAULT_SIMULATED_QBXML_VERSION, isQbxmlVersion } from './qbxmlVersions';
import { balanceRemaining } from './txnTotals';
import { DEFAULT_SALES_TAX_CODES } from './salesTax';
import { escapeXml, parseQbxmlDocument, type XmlElement } from './xml';

export { QuickBooksParseError } from './parseError';

export type CountableKind = ListKind | 'Item' | 'Invoice' | 'SalesOrder' | 'Estimate';

export interface CompanyFileOptions {
  name: string;
  dataFile?: string;
  now?: () => Date;
  /** The company file's IANA time zone (QuickBooks uses the PC's local time); default America/Los_Angeles. */
  timeZone?: string;
  /** Stamp times with the zone's standard offset all year, as some QuickBooks installations do (issue 14). */
  staleOffset?: boolean;
  /**
   * How long an iterator survives without a page being taken; default 60 s. QuickBooks' own limit is not
   * documented (docs/quickbooks.md); iterators also end with the session whatever this says.
   */
  iteratorIdleMs?: number;
  /**
   * How stored text holding a control character (a vertical tab pasted into a note from a word processor) is written
   * in answers: as a numeric character reference (`&#11;`, the default) or raw. QuickBooks stores such text and writes
   * it out either way, and neither is XML a strict reader accepts: the answer holding it cannot be read.
   */
  controlCharacters?: 'reference' | 'raw';
  /**
   * The newest qbXML version this QuickBooks speaks (`'12.0'` for QuickBooks 2013, `'16.0'` for 2021 and later;
   * default {@link DEFAULT_SIMULATED_QBXML_VERSION}). A message declaring a newer version fails as 0x80040400, and a
   * message is checked against the elements of the version it declares.
   */
  qbxmlVersion?: string;
}

/** C0 controls other than tab, line feed and carriage return: XML 1.0 allows them neither raw nor as references. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL_CHARACTERS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g;

const DEFAULT_ITERATOR_IDLE_MS = 60_000;

type Handler = (rq: XmlElement, ctx: RequestContext) => RequestOutcome;

const listAdd =
  (kind: ListKind, element: string): Handler =>
  (rq, ctx) => {
    const schema = requestSchemas[rq.name];
    const record = addListRecord(kind, bodyOf(rq, element), schema ? bodyModel(schema, element) : [], ctx);
    return { body: renderListRecord(record, ctx, { include: includeSet(rq) }) };
  };
const listMod =
  (kind: ListKind, element: string): Handler =>
  (rq, ctx) => {
    const schema = requestSchemas[rq.name];
    const record = modListRecord(kind, bodyOf(rq, element), schema ? bodyModel(schema, element) : [], ctx);
    return { body: renderListRecord(record, ctx, { include: includeSet(rq) }) };
  };
const listQuery =
  (kinds: readonly ListKind[]): Handler =>
  (rq, ctx) =>
    queryLists(kinds, rq, ctx);

const handlers: Record<string, Handler> = {
  HostQueryRq: () => ({ body: hostRet() }),
  CustomerQueryRq: listQuery(['Customer']),
  CustomerAddRq: listAdd('Customer', 'CustomerAdd'),
  CustomerModRq: listMod('Customer', 'CustomerMod'),
  VendorQueryRq: listQuery(['Vendor']),
  VendorAddRq: listAdd('Vendor', 'VendorAdd'),
  VendorModRq: listMod('Vendor', 'VendorMod'),
  CustomerTypeQueryRq: listQuery(['CustomerType']),
  CustomerTypeAddRq: listAdd('CustomerType', 'CustomerTypeAdd'),
  VendorTypeQueryRq: listQuery(['VendorType']),
  VendorTypeAddRq: listAdd('VendorType', 'VendorTypeAdd'),
  ClassQueryRq: listQuery(['Class']),
  ClassAddRq: listAdd('Class', 'ClassAdd'),
  ClassModRq: listMod('Class', 'ClassMod'),
  TermsQueryRq: standardTermsQuery,
  StandardTermsQueryRq: listQuery(['Terms']),
  AccountQueryRq: listQuery(['Account']),
  ItemQueryRq: listQuery(itemKinds),
  ItemServiceQueryRq: listQuery(['ItemService']),
  ItemNonInventoryQueryRq: listQuery(['ItemNonInventory']),
  ItemInventoryQueryRq: listQuery(['ItemInventory']),
  ItemOtherChargeQueryRq: listQuery(['ItemOtherCharge']),
  ItemDiscountQueryRq: listQuery(['ItemDiscount']),
  ItemServiceAddRq: listAdd('ItemService', 'ItemServiceAdd'),
  ItemServiceModRq: listMod('ItemService', 'ItemServiceMod'),
  ItemNonInventoryAddRq: listAdd('ItemNonInventory', 'ItemNonInventoryAdd'),
  ItemNonInventoryModRq: listMod('ItemNonInventory', 'ItemNonInventoryMod'),
  ItemInventoryAddRq: listAdd('ItemInventory', 'ItemInventoryAdd'),
  ItemInventoryModRq: listMod('ItemInventory', 'ItemInventoryMod'),
  ItemOtherChargeAddRq: listAdd('ItemOtherCharge', 'ItemOtherChargeAdd'),
  ItemOtherChargeModRq: listMod('ItemOtherCharge', 'ItemOtherChargeMod'),
  ItemDiscountAddRq: listAdd('ItemDiscount', 'ItemDiscountAdd'),
  ItemDiscountModRq: listMod('ItemDiscount', 'ItemDiscountMod'),
  InvoiceQueryRq: (rq, ctx) => queryTxns('Invoice', rq, ctx),
  InvoiceAddRq: (rq, ctx) => addTxn('Invoice', rq, ctx),
  InvoiceModRq: (rq, ctx) => modTxn('Invoice', rq, ctx),
  SalesOrderQueryRq: (rq, ctx) => queryTxns('SalesOrder', rq, ctx),
  SalesOrderAddRq: (rq, ctx) => addTxn('SalesOrder', rq, ctx),
  SalesOrderModRq: (rq, ctx) => modTxn('SalesOrder', rq, ctx),
  EstimateQueryRq: (rq, ctx) => queryTxns('Estimate', rq, ctx),
  EstimateAddRq: (rq, ctx) => addTxn('Estimate', rq, ctx),
  EstimateModRq: (rq, ctx) => modTxn('Estimate', rq, ctx),
  DataExtDefAddRq: dataExtDefAdd,
  DataExtAddRq: (rq, ctx) => dataExtAddOrMod(rq, ctx, 'add'),
  DataExtModRq: (rq, ctx) => dataExtAddOrMod(rq, ctx, 'mod'),
  ListDelRq: deleteListRecord,
  ListDeletedQueryRq: queryDeletedLists,
  TxnDelRq: deleteTxnRecord,
  TxnDeletedQueryRq: queryDeletedTxns,
};

const onErrorValues = ['continueOnError', 'rollbackOnError', 'stopOnError'];
const msgsAttributes = ['onError', 'oldMessageSetID', 'newMessageSetID', 'responseData'];

/**
 * One simulated QuickBooks company file: qbXML request text in, qbXML response text out, with QuickBooks' strictness
 * (schema order, status codes, EditSequence, name uniqueness, iterators, onError) so tests can trust it.
 */
export class CompanyFileSimulator {
  readonly name: string;
  /** The company data; exposed for seeding and inspection by tests, not for the connector. */
  readonly store: CompanyStore;
  readonly clock: CompanyClock;
  private readonly iterators: QueryIterators;
  private readonly inUse = new Map<string, RecordInUseCode>();
  private readonly log;
  private readonly controlCharacters: 'reference' | 'raw';
  /** The newest qbXML version this QuickBooks speaks, as the Web Connector reports it (`qbXMLMajorVers`). */
  readonly qbxmlVersion: string;

  constructor(opts: CompanyFileOptions) {
    this.name = opts.name;
    this.qbxmlVersion = opts.qbxmlVersion ?? DEFAULT_SIMULATED_QBXML_VERSION;
    if (!isQbxmlVersion(this.qbxmlVersion)) throw new Error(`qbxmlVersion "${this.qbxmlVersion}" is no qbXML version`);
    this.controlCharacters = opts.controlCharacters ?? 'reference';
    const now = opts.now ?? (() => new Date());
    this.clock = new CompanyClock(now, opts.timeZone ?? 'America/Los_Angeles', opts.staleOffset ?? false);
    this.iterators = new QueryIterators(() => now().getTime(), opts.iteratorIdleMs ?? DEFAULT_ITERATOR_IDLE_MS);
    this.store = new CompanyStore(opts.dataFile);
    this.log = childLogger({ component: 'quickbooks-sandbox', companyFile: opts.name });
    if (this.store.state.lists.length === 0) {
      createStandardLists(this.store, this.clock);
      this.store.save();
    }
  }

  processRequest(qbxml: string): string {
    const doc = parseQbxmlDocument(qbxml, Number(this.qbxmlVersion));
    // A version QuickBooks never shipped has no schema to check the message against (assumption: same 0x80040400).
    if (!isQbxmlVersion(doc.version)) throw new QuickBooksParseError(`qbXML version ${doc.version} does not exist`);
    const msgs = this.envelope(doc.root);
    const requests = msgs.children;
    requests.forEach((rq, i) => this.validateRequest(rq, `QBXMLMsgsRq[${i}]`, Number(doc.version)));
    const onError = msgs.attrs['onError'] ?? '';
    const snapshot = onError === 'rollbackOnError' ? this.store.snapshot() : undefined;
    let dirty = false;
    const ctx: RequestContext = {
      store: this.store,
      clock: this.clock,
      iterators: this.iterators,
      inUse: this.inUse,
      markDirty: () => {
        dirty = true;
      },
    };
    const responses: string[] = [];
    for (const rq of requests) {
      const outcome = this.run(rq, ctx);
      responses.push(renderRs(rq, outcome));
      const severity = outcome.statusSeverity ?? 'Info';
      if (severity === 'Error' && onError === 'rollbackOnError' && snapshot !== undefined) {
        this.store.restore(snapshot);
        break;
      }
      if (onError === 'stopOnError' && severity !== 'Info') break;
    }
    if (dirty) this.store.save();
    const answer = `<?xml version="1.0" ?>\n<QBXML>\n<QBXMLMsgsRs>\n${responses.join('')}</QBXMLMsgsRs>\n</QBXML>\n`;
    if (this.controlCharacters === 'raw') return answer;
    return answer.replace(CONTROL_CHARACTERS, (c) => `&#${c.charCodeAt(0)};`);
  }

  /**
   * The Web Connector closed its connection to the company file (end of a run, or QBWC killed): QuickBooks forgets
   * the session's iterators, so their next `Continue` is status 3391.
   */
  endSession(): void {
    this.iterators.endSession();
  }

  /**
   * Test hook: someone holds record `id` in QuickBooks (a customer open in its window, a list being edited), so a
   * Mod of it answers `code` until {@link releaseInUse}.
   */
  holdInUse(id: string, code: RecordInUseCode = 3175): void {
    this.inUse.set(id, code);
  }

  releaseInUse(id: string): void {
    this.inUse.delete(id);
  }

  /**
   * Operator/test hook: the company's sales tax codes and sales tax items (a rate each), which invoices and sales
   * orders are taxed by. Codes default to QuickBooks' two, `Tax` and `Non`.
   */
  defineSalesTax(table: { items: SalesTaxItem[]; codes?: SalesTaxCode[] }): void {
    this.store.state.salesTax = { codes: table.codes ?? [...DEFAULT_SALES_TAX_CODES], items: table.items };
    this.store.save();
  }

  /** Operator/test hook: records a customer payment against an invoice. */
  payInvoice(txnId: string, amount: string): void {
    const txn = this.store.txn(txnId);
    if (!txn || txn.kind !== 'Invoice') throw new Error(`no invoice ${txnId}`);
    const payment = new Decimal(amount);
    if (payment.lte(0) || payment.gt(balanceRemaining(txn, this.store))) {
      throw new Error(
        `payment ${amount} must be positive and at most the balance ${balanceRemaining(txn, this.store).toFixed(2)}`,
      );
    }
    txn.paid = new Decimal(txn.paid).plus(payment).toFixed(2);
    touch(txn, { store: this.store, clock: this.clock, iterators: this.iterators, markDirty: () => undefined });
    this.store.save();
  }

  count(kind: CountableKind): number {
    if (kind === 'Invoice' || kind === 'SalesOrder' || kind === 'Estimate')
      return this.store.state.txns.filter((t) => t.kind === kind).length;
    const kinds: readonly string[] = kind === 'Item' ? itemKinds : [kind];
    return this.store.state.lists.filter((r) => kinds.includes(r.kind)).length;
  }

  /** Writes the company file now (used by bulk seeding, which bypasses qbXML). */
  flush(): void {
    this.store.save();
  }

  private envelope(root: XmlElement): XmlElement {
    const children = root.children.filter((c) => c.name !== 'SignonMsgsRq');
    const msgs = children[0];
    if (
      children.length !== 1 ||
      !msgs ||
      msgs.name !== 'QBXMLMsgsRq' ||
      (root.children[0]?.name === 'QBXMLMsgsRq' && root.children.length > 1)
    ) {
      throw new QuickBooksParseError('QBXML must contain [SignonMsgsRq] then exactly one QBXMLMsgsRq');
    }
    for (const attr of Object.keys(msgs.attrs)) {
      if (!msgsAttributes.includes(attr)) throw new QuickBooksParseError(`unknown attribute ${attr} on QBXMLMsgsRq`);
    }
    if (!onErrorValues.includes(msgs.attrs['onError'] ?? '')) {
      throw new QuickBooksParseError('QBXMLMsgsRq needs onError="continueOnError|rollbackOnError|stopOnError"');
    }
    if (msgs.text.trim() !== '') throw new QuickBooksParseError('text inside QBXMLMsgsRq');
    return msgs;
  }

  private validateRequest(rq: XmlElement, path: string, version: number): void {
    const schema = requestSchemas[rq.name];
    if (!schema || !handlers[rq.name])
      throw new QuickBooksParseError(`${path}: unknown or unsupported request <${rq.name}>`);
    for (const [attr, value] of Object.entries(rq.attrs)) {
      if (!schema.attributes.includes(attr))
        throw new QuickBooksParseError(`${path}: attribute ${attr} not allowed on ${rq.name}`);
      if (attr === 'iterator' && !['Start', 'Continue', 'Stop'].includes(value)) {
        throw new QuickBooksParseError(`${path}: iterator="${value}"`);
      }
      if (attr === 'metaData' && !['NoMetaData', 'MetaDataOnly', 'MetaDataAndResponseData'].includes(value)) {
        throw new QuickBooksParseError(`${path}: metaData="${value}"`);
      }
    }
    validateElement(rq, seq(...schema.model), `${path}/${rq.name}`, version);
  }

  private run(rq: XmlElement, ctx: RequestContext): RequestOutcome {
    const handler = handlers[rq.name];
    try {
      if (!handler) throw new RequestFailure(1030, 'Unsupported message');
      if ((rq.attrs['requestID'] ?? '').length > 50) {
        throw new RequestFailure(1060, `The request ID "${rq.attrs['requestID'] ?? ''}" is invalid.`);
      }
      return handler(rq, ctx);
    } catch (err) {
      if (err instanceof RequestFailure) {
        return { body: '', statusCode: err.statusCode, statusSeverity: err.severity, statusMessage: err.message };
      }
      this.log.error({ err, request: rq.name }, 'simulator bug while processing a request');
      return { body: '', statusCode: 1000, statusSeverity: 'Error', statusMessage: 'There was an internal error.' };
    }
  }
}

function renderRs(rq: XmlElement, outcome: RequestOutcome): string {
  const rsName = rq.name.replace(/Rq$/, 'Rs');
  const attrs: [string, string][] = [];
  const requestId = rq.attrs['requestID'];
  if (requestId !== undefined) attrs.push(['requestID', requestId]);
  attrs.push(
    ['statusCode', String(outcome.statusCode ?? 0)],
    ['statusSeverity', outcome.statusSeverity ?? 'Info'],
    ['statusMessage', outcome.statusMessage ?? statusMessages.ok],
  );
  const failed = (outcome.statusSeverity ?? 'Info') === 'Error';
  if (!failed) for (const [k, v] of Object.entries(outcome.attrs ?? {})) attrs.push([k, v]);
  const attrText = attrs.map(([k, v]) => ` ${k}="${escapeXml(v)}"`).join('');
  if (failed || outcome.body === '') return `<${rsName}${attrText} />\n`;
  return `<${rsName}${attrText}>\n${outcome.body}</${rsName}>\n`;
}
