import Decimal from 'decimal.js';
import { refFullNameMax } from '../../qbxml/valueFormats';
import { childType, type ElementType, type LeafType, type Model, type Namespace } from './contentModel';
import { isValidDate, type CompanyClock } from './companyClock';
import { kindsFor, type ListRecord, type StoredNode } from './companyState';
import type { CompanyStore } from './companyStore';
import { RequestFailure, statusMessages, tooLong } from './requestFailure';
import type { XmlElement } from './xml';

export interface ConversionContext {
  store: CompanyStore;
  clock: CompanyClock;
  /** What the request creates or changes, as QuickBooks names it in 3140 messages ("Invoice", "Customer", ...). */
  inObject: string;
}

/** The conversion of a request's values where the request touches `inObject` (a list or transaction kind). */
export function conversionIn(ctx: Pick<ConversionContext, 'store' | 'clock'>, inObject: string): ConversionContext {
  return { store: ctx.store, clock: ctx.clock, inObject };
}

/** Request element names that are stored under their Ret name. */
const retNames: Record<string, string> = {
  Contacts: 'ContactsRet',
  AdditionalNotes: 'AdditionalNotesRet',
  SalesOrPurchaseMod: 'SalesOrPurchase',
  SalesAndPurchaseMod: 'SalesAndPurchase',
};
/** Accepted by the schema but not kept: they only steer how QuickBooks applies the change. */
const transient = new Set([
  'ForceUOMChange',
  'ApplyAccountRefToExistingTxns',
  'ApplyIncomeAccountRefToExistingTxns',
  'ApplyExpenseAccountRefToExistingTxns',
  'ApplyCOGSAccountRefToExistingTxns',
  'ContactsMod',
  'AdditionalNotesMod',
  'IncludeRetElement',
  'InventoryDate',
  'OptionForPriceRuleConflict',
  'LinkToTxn',
  'DataExt',
]);

const targetLabel: Record<Namespace, string> = {
  Entity: 'Entity',
  Customer: 'Customer',
  Vendor: 'Vendor',
  Item: 'Item',
  CustomerType: 'Customer Type',
  VendorType: 'Vendor Type',
  Class: 'Class',
  Terms: 'Terms',
  Account: 'Account',
  Other: 'List',
};

export function normalizeLeaf(value: string, type: LeafType, field: string, clock: CompanyClock): string {
  switch (type.kind) {
    case 'str':
      if (type.max !== undefined && value.length > type.max) throw tooLong(value, field);
      return value;
    case 'bool':
      if (value === '1' || value.toLowerCase() === 'true') return 'true';
      if (value === '0' || value.toLowerCase() === 'false') return 'false';
      throw new RequestFailure(
        3010,
        `There was an error when converting the boolean value "${value}" in the field "${field}".`,
      );
    case 'amt': {
      // AMTTYPE: no decimals or exactly two, at most 13 integer digits. QuickBooks refuses anything else, never rounds.
      const d = decimalOrFail(value, field, 'amount');
      if (!/^[-+]?\d{1,13}(\.\d{2})?$/.test(value.trim())) throw numberFailure(value, field, 'amount');
      return d.toFixed(2);
    }
    case 'price': {
      const d = decimalOrFail(value, field, 'price');
      if (d.decimalPlaces() > 5) throw numberFailure(value, field, 'price');
      return d.toFixed(Math.max(2, d.decimalPlaces()));
    }
    case 'qty':
    case 'pct': {
      const what = type.kind === 'qty' ? 'quantity' : 'percent';
      const d = decimalOrFail(value, field, what);
      if (!/^[-+]?(\d+\.?\d{0,5}|\.\d{1,5})$/.test(value.trim())) throw numberFailure(value, field, what);
      return d.toString();
    }
    case 'guid':
      if (
        value !== '0' &&
        !/^\{[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}\}$/.test(value)
      ) {
        throw new RequestFailure(3000, statusMessages.invalidObjectId(value, field));
      }
      return value;
    case 'int':
      if (!/^-?\d+$/.test(value)) {
        throw new RequestFailure(
          3030,
          `There was an error when converting the integer "${value}" in the field "${field}".`,
        );
      }
      return String(Number(value));
    case 'date':
      if (!isValidDate(value)) throw dateFailure(value, field);
      return value;
    case 'datetime':
      if (clock.parseDateTime(value) === undefined) throw dateFailure(value, field);
      return value;
    case 'enum':
      return value;
  }
}

function dateFailure(value: string, field: string): RequestFailure {
  return new RequestFailure(
    3020,
    `There was an error when converting the date value "${value}" in the field "${field}".`,
  );
}

type NumberKind = 'amount' | 'price' | 'quantity' | 'percent';

function numberFailure(value: string, field: string, what: NumberKind): RequestFailure {
  return new RequestFailure(3040, `There was an error when converting the ${what} "${value}" in the field "${field}".`);
}

function decimalOrFail(value: string, field: string, what: NumberKind): Decimal {
  if (!/^[-+]?(\d+\.?\d*|\.\d+)$/.test(value.trim())) throw numberFailure(value, field, what);
  return new Decimal(value.trim());
}

/**
 * References into lists whose names are shorter than a general list name's (qbXML's own table of those limits); a
 * longer FullName is status 3070 like any string too long.
 */
function checkRefFullName(element: XmlElement, fullNameMax: number): void {
  const fullName = element.children.find((c) => c.name === 'FullName')?.text;
  const max = refFullNameMax(element.name, fullNameMax);
  if (fullName !== undefined && [...fullName].length > max) throw tooLong(fullName, 'FullName');
}

/** Resolves a list reference the way QuickBooks does: ListID wins over FullName; a miss is status 3140. */
export function resolveRef(element: XmlElement, target: Namespace, ctx: ConversionContext): ListRecord | undefined {
  const kinds = kindsFor(target);
  if (kinds.length === 0) return undefined;
  const listId = element.children.find((c) => c.name === 'ListID')?.text;
  const fullName = element.children.find((c) => c.name === 'FullName')?.text;
  let found: ListRecord | undefined;
  if (listId !== undefined) {
    const candidate = ctx.store.list(listId);
    if (candidate && kinds.includes(candidate.kind)) found = candidate;
  } else if (fullName !== undefined) {
    for (const kind of kinds) {
      const candidate = ctx.store.findByName(kind, fullName);
      if (candidate && kinds.includes(candidate.kind)) {
        found = candidate;
        break;
      }
    }
  }
  if (!found) {
    throw new RequestFailure(
      3140,
      statusMessages.invalidReference(targetLabel[target], listId ?? fullName ?? '', ctx.inObject),
    );
  }
  return found;
}

function convertElement(element: XmlElement, type: ElementType, ctx: ConversionContext): StoredNode | undefined {
  if (transient.has(element.name)) return undefined;
  const n = retNames[element.name] ?? element.name;
  if (type.kind === 'ref') {
    checkRefFullName(element, type.fullNameMax);
    if (type.target === 'Other') {
      return { n, c: element.children.map((c) => ({ n: c.name, t: c.text })) };
    }
    const record = resolveRef(element, type.target, ctx);
    return record ? { n, ref: record.listId } : undefined;
  }
  if (type.kind === 'seq') {
    if (element.name === 'BarCode') {
      const value = element.children.find((c) => c.name === 'BarCodeValue')?.text;
      return value === undefined
        ? undefined
        : { n: 'BarCodeValue', t: normalizeLeaf(value, { kind: 'str', max: 50 }, 'BarCodeValue', ctx.clock) };
    }
    return { n, c: convertChildren(element.children, type.model, ctx) };
  }
  // An empty element clears the field in a Mod; normalising it would turn "clear" into a conversion error.
  if (element.text === '') return { n, t: '' };
  return { n, t: normalizeLeaf(element.text, type, element.name, ctx.clock) };
}

export function convertChildren(
  children: XmlElement[],
  model: Model,
  ctx: ConversionContext,
  skip: ReadonlySet<string> = new Set(),
): StoredNode[] {
  const out: StoredNode[] = [];
  for (const child of children) {
    if (skip.has(child.name)) continue;
    const type = childType(model, child.name);
    if (!type) continue;
    const node = convertElement(child, type, ctx);
    if (node) out.push(node);
  }
  return out;
}

/** Choices that replace each other when a Mod switches between them. */
const exclusive: Record<string, string[]> = {
  SalesOrPurchase: ['SalesAndPurchase'],
  SalesAndPurchase: ['SalesOrPurchase'],
  Price: ['PricePercent'],
  PricePercent: ['Price'],
  DiscountRate: ['DiscountRatePercent'],
  DiscountRatePercent: ['DiscountRate'],
  Rate: ['RatePercent', 'PriceLevelRef'],
  RatePercent: ['Rate', 'PriceLevelRef'],
};

/**
 * Applies Mod semantics: only sent elements change; an element sent empty clears the field; aggregates (addresses,
 * SalesOrPurchase) are merged field by field; repeated elements are replaced as a group.
 */
export function mergeFields(existing: StoredNode[], changes: StoredNode[]): StoredNode[] {
  let result = [...existing];
  const replacedGroups = new Set<string>();
  for (const change of changes) {
    for (const other of exclusive[change.n] ?? []) result = result.filter((f) => f.n !== other);
    const isEmptyLeaf = change.c === undefined && change.ref === undefined && (change.t ?? '') === '';
    const count = changes.filter((c) => c.n === change.n).length;
    if (count > 1) {
      if (!replacedGroups.has(change.n)) {
        result = result.filter((f) => f.n !== change.n);
        replacedGroups.add(change.n);
      }
      result.push(change);
      continue;
    }
    const index = result.findIndex((f) => f.n === change.n);
    if (isEmptyLeaf) {
      if (index >= 0) result.splice(index, 1);
      continue;
    }
    const current = index >= 0 ? result[index] : undefined;
    const merged =
      current?.c !== undefined && change.c !== undefined && change.ref === undefined
        ? { n: change.n, c: mergeFields(current.c, change.c) }
        : change;
    if (index >= 0) result[index] = merged;
    else result.push(merged);
  }
  return result;
}

export function fieldText(fields: StoredNode[], name: string): string | undefined {
  return fields.find((f) => f.n === name)?.t;
}

export function fieldRef(fields: StoredNode[], name: string): string | undefined {
  return fields.find((f) => f.n === name)?.ref;
}
