/**
 * Reads a qbXML response document into JSON-safe records. Field names become camelCase (`ListID` → `listId`,
 * `COGSAccountRef` → `cogsAccountRef`); booleans and counters are typed, money and quantities stay decimal strings.
 */
import { logger } from '../observability/logger';
import { QbxmlSyntaxError } from './errors';
import type { QbRecord, QbRecordKind, QbxmlResponse, StatusSeverity } from './requests';
import { parseXmlDocument, type XmlElement } from './xml';
import { checkXmlShape, QBXML_RESPONSE_LIMITS } from './xmlShape';

const RECORD_KINDS: Readonly<Record<string, QbRecordKind>> = {
  CustomerRet: 'Customer',
  VendorRet: 'Vendor',
  ItemInventoryRet: 'ItemInventory',
  ItemNonInventoryRet: 'ItemNonInventory',
  ItemServiceRet: 'ItemService',
  ItemOtherChargeRet: 'ItemOtherCharge',
  ItemDiscountRet: 'ItemDiscount',
  CustomerTypeRet: 'CustomerType',
  ClassRet: 'Class',
  InvoiceRet: 'Invoice',
  SalesOrderRet: 'SalesOrder',
  EstimateRet: 'Estimate',
  DataExtRet: 'DataExt',
  DataExtDefRet: 'DataExtDef',
  ListDeletedRet: 'ListDeleted',
  TxnDeletedRet: 'TxnDeleted',
};

/** Element names whose key differs from the plain camelCase of the element. */
const KEY_OVERRIDES: Readonly<Record<string, string>> = {
  DataExtRet: 'dataExt',
  InvoiceLineRet: 'lines',
  SalesOrderLineRet: 'lines',
  EstimateLineRet: 'lines',
  InvoiceLineGroupRet: 'lineGroups',
  SalesOrderLineGroupRet: 'lineGroups',
  EstimateLineGroupRet: 'lineGroups',
  LinkedTxn: 'linkedTxns',
  ContactsRet: 'contacts',
  AdditionalNotesRet: 'additionalNotes',
};

/** Inside a DataExtRet the value triple reads better without the repeated prefix. */
const DATA_EXT_KEYS: Readonly<Record<string, string>> = {
  DataExtName: 'name',
  DataExtType: 'type',
  DataExtValue: 'value',
};

/** Elements that may repeat: always arrays, even with one occurrence, so consumers never branch on shape. */
const REPEATED = new Set([
  'DataExtRet',
  'InvoiceLineRet',
  'SalesOrderLineRet',
  'EstimateLineRet',
  'InvoiceLineGroupRet',
  'SalesOrderLineGroupRet',
  'EstimateLineGroupRet',
  'LinkedTxn',
  'ShipToAddress',
  'AdditionalContactRef',
  'ContactsRet',
  'AdditionalNotesRet',
  'PrefillAccountRef',
  'AssignToObject',
]);

const INTEGERS = new Set(['Sublevel', 'TxnNumber', 'DataExtID', 'NoteID']);

/** Booleans in Ret records: the `Is…` flags plus a few that do not follow the prefix. */
const BOOLEANS = new Set(['DataExtListRequire', 'DataExtTxnRequire', 'ForceUOMChange']);

function isBooleanElement(name: string): boolean {
  return BOOLEANS.has(name) || /^Is[A-Z0-9]/.test(name);
}

/** `ListID` → `listId`, `COGSAccountRef` → `cogsAccountRef`, `IsVendorEligibleFor1099` → `isVendorEligibleFor1099`. */
export function camelCaseElementName(name: string): string {
  const words = name.match(/[A-Z]+(?=[A-Z][a-z]|[0-9]|$)|[A-Z][a-z0-9]*|[a-z0-9]+/g) ?? [name];
  return words
    .map((word, i) => {
      const lower = word.toLowerCase();
      return i === 0 ? lower : lower.charAt(0).toUpperCase() + lower.slice(1);
    })
    .join('');
}

type JsonValue = string | number | boolean | JsonValue[] | { [key: string]: JsonValue };

function leafValue(el: XmlElement): JsonValue {
  if (INTEGERS.has(el.name)) {
    if (!/^-?\d+$/.test(el.text)) throw new QbxmlSyntaxError(`<${el.name}> should be an integer, got "${el.text}"`);
    return Number(el.text);
  }
  if (isBooleanElement(el.name)) {
    if (el.text === 'true' || el.text === '1') return true;
    if (el.text === 'false' || el.text === '0') return false;
    throw new QbxmlSyntaxError(`<${el.name}> should be true or false, got "${el.text}"`);
  }
  return el.text;
}

function elementValue(el: XmlElement): JsonValue {
  if (el.children.length === 0) return leafValue(el);
  const obj: { [key: string]: JsonValue } = {};
  const insideDataExt = el.name === 'DataExtRet';
  for (const child of el.children) {
    const key =
      (insideDataExt ? DATA_EXT_KEYS[child.name] : undefined) ??
      KEY_OVERRIDES[child.name] ??
      camelCaseElementName(child.name);
    const value = elementValue(child);
    const existing = obj[key];
    if (REPEATED.has(child.name)) {
      if (Array.isArray(existing)) existing.push(value);
      else obj[key] = [value];
    } else if (existing === undefined) {
      obj[key] = value;
    } else {
      // An element the schema says is single came twice: keep both rather than silently dropping one.
      obj[key] = Array.isArray(existing) ? [...existing, value] : [existing, value];
    }
  }
  return obj;
}

function toRecord(el: XmlElement, kind: QbRecordKind): QbRecord {
  const value = elementValue(el);
  const fields = typeof value === 'object' && !Array.isArray(value) ? value : {};
  // DataExtRet as a record keeps the short names it has inside other records.
  return { kind, ...fields } as unknown as QbRecord;
}

function optionalInt(el: XmlElement, attr: string): number | undefined {
  const raw = el.attributes[attr];
  if (raw === undefined || raw === '') return undefined;
  if (!/^\d+$/.test(raw)) throw new QbxmlSyntaxError(`${el.name} ${attr}="${raw}" is not a count`);
  return Number(raw);
}

function parseResponseElement(el: XmlElement): QbxmlResponse {
  const codeText = el.attributes.statusCode;
  if (codeText === undefined || !/^-?\d+$/.test(codeText)) {
    throw new QbxmlSyntaxError(`${el.name} has no numeric statusCode`);
  }
  const severity = el.attributes.statusSeverity;
  if (severity !== 'Info' && severity !== 'Warn' && severity !== 'Error') {
    throw new QbxmlSyntaxError(`${el.name} has statusSeverity "${severity ?? ''}", expected Info, Warn or Error`);
  }
  const records: QbRecord[] = [];
  const skipped = new Map<string, number>();
  for (const child of el.children) {
    const kind = RECORD_KINDS[child.name];
    if (kind !== undefined) records.push(toRecord(child, kind));
    else skipped.set(child.name, (skipped.get(child.name) ?? 0) + 1);
  }
  if (skipped.size > 0) {
    // ItemQueryRs also returns subtotal/group/payment items etc., which the connector does not sync.
    logger.debug(
      { response: el.name, skipped: Object.fromEntries(skipped) },
      'qbXML elements without a record type skipped',
    );
  }
  const response: QbxmlResponse = {
    type: el.name,
    statusCode: Number(codeText),
    statusSeverity: severity satisfies StatusSeverity,
    statusMessage: el.attributes.statusMessage ?? '',
    records,
  };
  if (el.attributes.requestID !== undefined) response.requestId = el.attributes.requestID;
  const retCount = optionalInt(el, 'retCount');
  if (retCount !== undefined) response.retCount = retCount;
  if (el.attributes.iteratorID !== undefined && el.attributes.iteratorID !== '') {
    response.iteratorId = el.attributes.iteratorID;
  }
  const remaining = optionalInt(el, 'iteratorRemainingCount');
  if (remaining !== undefined) response.iteratorRemainingCount = remaining;
  return response;
}

/** A response element that could not be read, named by the requestID of its start tag when that much is legible. */
export interface UnreadableResponse {
  requestId?: string;
  reason: string;
}

export interface QbxmlAnswer {
  responses: QbxmlResponse[];
  unreadable: UnreadableResponse[];
}

const MSGS_OPEN = /<QBXMLMsgsRs(?:\s[^>]*)?>/;
const MSGS_CLOSE = '</QBXMLMsgsRs>';
const REQUEST_ID = /^<[\w.:-]+\s[^>]*?\brequestID\s*=\s*(?:"([^"]*)"|'([^']*)')/;

/** [start, end) of each element directly inside `text[from, to)`, found by tags alone: its text may be anything. */
function topLevelElements(text: string, from: number, to: number): [number, number][] {
  const found: [number, number][] = [];
  let depth = 0;
  let start = -1;
  let at = text.indexOf('<', from);
  while (at >= 0 && at < to) {
    let end: number;
    if (text.startsWith('<!--', at)) end = text.indexOf('-->', at + 4) + 3;
    else if (text.startsWith('<![CDATA[', at)) end = text.indexOf(']]>', at + 9) + 3;
    else if (text[at + 1] === '?' || text[at + 1] === '!') end = text.indexOf('>', at + 2) + 1;
    else {
      let quote: string | undefined;
      let i = at + 1;
      for (; i < to; i++) {
        const c = text[i];
        if (quote) {
          if (c === quote) quote = undefined;
        } else if (c === '"' || c === "'") quote = c;
        else if (c === '>') break;
      }
      end = i + 1;
      if (text[at + 1] === '/') {
        depth -= 1;
        if (depth === 0 && start >= 0) found.push([start, end]);
      } else if (text[i - 1] === '/') {
        if (depth === 0) found.push([at, end]);
      } else {
        if (depth === 0) start = at;
        depth += 1;
      }
    }
    if (end <= at) break;
    at = text.indexOf('<', end);
  }
  return found;
}

/**
 * Reads an answer the way {@link parseQbxmlResponse} does when the whole document is well-formed. When it is not —
 * one customer note holding a character XML forbids (`&#11;`, a raw vertical tab) spoils the whole document — each
 * response element is read on its own, so one bad record costs only the response that holds it. Throws only when the
 * answer is not a qbXML response document at all.
 */
export function readQbxmlAnswer(xml: string): QbxmlAnswer {
  try {
    return { responses: parseQbxmlResponse(xml), unreadable: [] };
  } catch (whole) {
    const open = MSGS_OPEN.exec(xml);
    const close = xml.lastIndexOf(MSGS_CLOSE);
    if (!open || close < open.index) throw whole;
    const answer: QbxmlAnswer = { responses: [], unreadable: [] };
    for (const [start, end] of topLevelElements(xml, open.index + open[0].length, close)) {
      const element = xml.slice(start, end);
      if (!/^<[\w.:-]+Rs[\s>/]/.test(element)) continue;
      try {
        answer.responses.push(parseResponseElement(parseXmlDocument(element)));
      } catch (error) {
        const id = REQUEST_ID.exec(element);
        const requestId = id?.[1] ?? id?.[2];
        answer.unreadable.push({
          ...(requestId === undefined ? {} : { requestId }),
          reason: error instanceof Error ? error.message.slice(0, 300) : 'the response element could not be read',
        });
      }
    }
    if (answer.responses.length === 0 && answer.unreadable.length === 0) throw whole;
    return answer;
  }
}

/** One entry per `*Rs` element of a `QBXML/QBXMLMsgsRs` document, in document order. */
export function parseQbxmlResponse(xml: string): QbxmlResponse[] {
  // One linear scan before the validator and the parser, whose cost grows with depth, elements and attributes.
  const shape = checkXmlShape(xml, QBXML_RESPONSE_LIMITS);
  if (!shape.ok)
    throw new QbxmlSyntaxError(`The qbXML response is not shaped like a QuickBooks answer: it has ${shape.reason}`);
  const root = parseXmlDocument(xml);
  if (root.name !== 'QBXML') throw new QbxmlSyntaxError(`Expected a QBXML document, found <${root.name}>`);
  const msgs = root.children.find((c) => c.name === 'QBXMLMsgsRs');
  if (msgs === undefined) throw new QbxmlSyntaxError('QBXML document has no QBXMLMsgsRs');
  return msgs.children.filter((c) => c.name.endsWith('Rs')).map(parseResponseElement);
}
