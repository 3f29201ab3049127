import Decimal from 'decimal.js';
import { type Model, type Namespace } from './contentModel';
import { isItemKind, type ListKind, type ListRecord, type StoredNode } from './companyState';
import { nextEditSequence } from './companyStore';
import {
  convertChildren,
  fieldText,
  mergeFields,
  normalizeLeaf,
  resolveRef,
  conversionIn,
  type ConversionContext,
} from './fieldConversion';
import { byModified, runQuery, type QueryMatch } from './queryRunner';
import { childText, childTexts, type RequestContext, type RequestOutcome } from './requestContext';
import { recordInUse, RequestFailure, statusMessages, unknownObject } from './requestFailure';
import { retOrder } from './retOrder';
import { orderFields, recordStamp, renderNodes, textNode } from './retRender';
import { balanceRemaining } from './txnTotals';
import { dataExtRets } from './dataExtRequests';
import type { XmlElement } from './xml';

/** Handled by the record itself (identity, hierarchy, status) rather than kept among the free fields. */
const recordFields = new Set(['ListID', 'EditSequence', 'Name', 'IsActive', 'ParentRef']);

const parentTarget = (kind: ListKind): Namespace => (isItemKind(kind) ? 'Item' : (kind as Namespace));

function retElementName(kind: ListKind): string {
  return kind === 'Terms' ? 'StandardTermsRet' : `${kind}Ret`;
}

function resolveParent(element: XmlElement, kind: ListKind, conv: ConversionContext): ListRecord | undefined {
  const parentRef = element.children.find((c) => c.name === 'ParentRef');
  if (!parentRef) return undefined;
  const parent = resolveRef(parentRef, parentTarget(kind), conv);
  if (parent && parent.kind !== kind) {
    throw new RequestFailure(3140, statusMessages.invalidReference('Parent', parent.name, kind));
  }
  return parent;
}

function nameOf(element: XmlElement, kind: ListKind, conv: ConversionContext): string | undefined {
  const name = childText(element, 'Name');
  if (name === undefined) return undefined;
  const max = kind === 'Customer' || kind === 'Vendor' ? 41 : 31;
  return normalizeLeaf(name, { kind: 'str', max }, 'Name', conv.clock);
}

export function addListRecord(kind: ListKind, element: XmlElement, model: Model, ctx: RequestContext): ListRecord {
  const conv = conversionIn(ctx, kind);
  const name = nameOf(element, kind, conv) ?? '';
  const parent = resolveParent(element, kind, conv);
  const fullName = parent ? `${ctx.store.fullName(parent)}:${name}` : name;
  if (ctx.store.findByName(kind, fullName)) throw new RequestFailure(3100, statusMessages.nameInUse(fullName));
  const isActiveText = childText(element, 'IsActive');
  const isActive =
    isActiveText === undefined
      ? true
      : normalizeLeaf(isActiveText, { kind: 'bool' }, 'IsActive', conv.clock) === 'true';
  const fields = convertChildren(element.children, model, conv, recordFields).filter(
    (f) => f.c !== undefined || f.ref !== undefined || (f.t ?? '') !== '',
  );
  const record = ctx.store.addNewList(kind, name, fields, ctx.clock.nowSeconds(), {
    isActive,
    ...(parent ? { parentId: parent.listId } : {}),
  });
  ctx.markDirty();
  return record;
}

export function modListRecord(kind: ListKind, element: XmlElement, model: Model, ctx: RequestContext): ListRecord {
  const conv = conversionIn(ctx, kind);
  const listId = childText(element, 'ListID') ?? '';
  const record = ctx.store.list(listId);
  if (!record || record.kind !== kind) throw unknownObject(listId, 'ListID');
  const held = ctx.inUse?.get(listId);
  if (held !== undefined) throw recordInUse(held, `${kind} list`, listId);
  const editSequence = childText(element, 'EditSequence') ?? '';
  if (editSequence !== record.editSequence)
    throw new RequestFailure(3200, statusMessages.staleEditSequence(editSequence));
  const newName = nameOf(element, kind, conv);
  const hasParent = element.children.some((c) => c.name === 'ParentRef');
  const parentRef = element.children.find((c) => c.name === 'ParentRef');
  const clearsParent = parentRef !== undefined && parentRef.children.length === 0;
  const parent = hasParent && !clearsParent ? resolveParent(element, kind, conv) : undefined;
  if (parent) {
    for (let p: ListRecord | undefined = parent; p; p = p.parentId ? ctx.store.list(p.parentId) : undefined) {
      if (p.listId === record.listId)
        throw new RequestFailure(3140, statusMessages.invalidReference('Parent', parent.name, kind));
    }
  }
  const name = newName ?? record.name;
  const parentId = hasParent ? parent?.listId : record.parentId;
  const parentRecord = parentId ? ctx.store.list(parentId) : undefined;
  const fullName = parentRecord ? `${ctx.store.fullName(parentRecord)}:${name}` : name;
  const clash = ctx.store.findByName(kind, fullName);
  if (clash && clash.listId !== record.listId) throw new RequestFailure(3100, statusMessages.nameInUse(fullName));
  const isActiveText = childText(element, 'IsActive');
  const changes = convertChildren(element.children, model, conv, recordFields);
  const renamed = name !== record.name || parentId !== record.parentId;

  record.fields = mergeFields(record.fields, changes);
  record.name = name;
  if (parentId) record.parentId = parentId;
  else delete record.parentId;
  if (isActiveText !== undefined && isActiveText !== '') {
    record.isActive = normalizeLeaf(isActiveText, { kind: 'bool' }, 'IsActive', conv.clock) === 'true';
  }
  touch(record, ctx);
  if (renamed) ctx.store.reindex();
  ctx.markDirty();
  return record;
}

export function touch(record: { modified: number; editSequence: string }, ctx: RequestContext): void {
  const now = ctx.clock.nowSeconds();
  record.modified = Math.max(now, record.modified);
  record.editSequence = nextEditSequence(record.editSequence, now);
}

/** Open balance per customer (own) and including its jobs (total), from opening balances and unpaid invoices. */
export function customerBalances(ctx: RequestContext): { own: Map<string, Decimal>; total: Map<string, Decimal> } {
  const own = new Map<string, Decimal>();
  const add = (id: string, amount: Decimal.Value) => own.set(id, (own.get(id) ?? new Decimal(0)).plus(amount));
  for (const record of ctx.store.listsOf(['Customer'])) {
    const opening = fieldText(record.fields, 'OpenBalance');
    if (opening) add(record.listId, opening);
  }
  for (const txn of ctx.store.state.txns)
    if (txn.kind === 'Invoice') add(txn.customerId, balanceRemaining(txn, ctx.store));
  const total = new Map<string, Decimal>();
  for (const [id, amount] of own) {
    for (let r = ctx.store.list(id); r; r = r.parentId ? ctx.store.list(r.parentId) : undefined) {
      total.set(r.listId, (total.get(r.listId) ?? new Decimal(0)).plus(amount));
    }
  }
  return { own, total };
}

export interface ListRenderOptions {
  include?: ReadonlySet<string>;
  ownerIds?: string[];
  balances?: { own: Map<string, Decimal>; total: Map<string, Decimal> };
}

export function renderListRecord(record: ListRecord, ctx: RequestContext, opts: ListRenderOptions = {}): string {
  const { store, clock } = ctx;
  const computed: StoredNode[] = [
    ...recordStamp('ListID', record.listId, record, clock),
    textNode('Name', record.name),
    textNode('FullName', store.fullName(record)),
    textNode('IsActive', record.isActive),
    textNode('Sublevel', store.sublevel(record)),
  ];
  if (record.parentId) computed.push({ n: 'ParentRef', ref: record.parentId });
  const has = (n: string) => record.fields.some((f) => f.n === n);
  const zero = new Decimal(0);
  switch (record.kind) {
    case 'Customer': {
      const balances = opts.balances ?? customerBalances(ctx);
      computed.push(textNode('Balance', (balances.own.get(record.listId) ?? zero).toFixed(2)));
      computed.push(textNode('TotalBalance', (balances.total.get(record.listId) ?? zero).toFixed(2)));
      if (!has('JobStatus')) computed.push(textNode('JobStatus', 'None'));
      if (!has('PreferredDeliveryMethod')) computed.push(textNode('PreferredDeliveryMethod', 'None'));
      break;
    }
    case 'Vendor':
      computed.push(textNode('IsTaxAgency', 'false'));
      computed.push(textNode('Balance', new Decimal(fieldText(record.fields, 'OpenBalance') ?? 0).toFixed(2)));
      break;
    case 'Account':
      computed.push(textNode('Balance', '0.00'), textNode('TotalBalance', '0.00'));
      break;
    case 'ItemInventory': {
      const onHand = new Decimal(fieldText(record.fields, 'QuantityOnHand') ?? 0);
      const value = new Decimal(fieldText(record.fields, 'TotalValue') ?? 0);
      if (!has('QuantityOnHand')) computed.push(textNode('QuantityOnHand', '0'));
      computed.push(textNode('AverageCost', onHand.isZero() ? '0.00' : value.div(onHand).toFixed(2)));
      computed.push(textNode('QuantityOnOrder', '0'), textNode('QuantityOnSalesOrder', '0'));
      break;
    }
    default:
      break;
  }
  const nodes = orderFields([...computed, ...record.fields], retOrder[record.kind], opts.include);
  const ret = retElementName(record.kind);
  const dataExt = opts.ownerIds && opts.ownerIds.length > 0 ? dataExtRets(ctx, record.listId, opts.ownerIds) : '';
  return `<${ret}>\n${renderNodes(nodes, store)}${dataExt}</${ret}>\n`;
}

/** The filters of list queries (reference §13): by ID, by name, or by status/date/name filters. */
function matchLists(kinds: readonly ListKind[], rq: XmlElement, ctx: RequestContext): QueryMatch {
  const { store } = ctx;
  const listIds = childTexts(rq, 'ListID');
  const fullNames = childTexts(rq, 'FullName');
  const missing: string[] = [];
  let records: ListRecord[];
  if (listIds.length > 0 || fullNames.length > 0) {
    records = [];
    for (const id of listIds) {
      const r = store.list(id);
      if (r && kinds.includes(r.kind)) records.push(r);
      else missing.push(id);
    }
    for (const name of fullNames) {
      const r = kinds.map((k) => store.findByName(k, name)).find((x) => x && kinds.includes(x.kind));
      if (r) records.push(r);
      else missing.push(name);
    }
    const seen = new Set<string>();
    records = records.filter((r) => !seen.has(r.listId) && seen.add(r.listId));
    return { ids: records.map((r) => r.listId), missing };
  }
  records = store.listsOf(kinds);
  const active = childText(rq, 'ActiveStatus') ?? 'ActiveOnly';
  if (active === 'ActiveOnly') records = records.filter((r) => r.isActive);
  if (active === 'InactiveOnly') records = records.filter((r) => !r.isActive);
  const from = dateFilter(rq, 'FromModifiedDate', ctx, false);
  const to = dateFilter(rq, 'ToModifiedDate', ctx, true);
  // QuickBooks compares local times: after clocks go back, an hour's stamps are below the hour before's.
  if (from !== undefined) records = records.filter((r) => ctx.clock.wallSeconds(r.modified) >= from);
  if (to !== undefined) records = records.filter((r) => ctx.clock.wallSeconds(r.modified) <= to);
  const nameFilter = rq.children.find((c) => c.name === 'NameFilter');
  if (nameFilter) {
    const criterion = childText(nameFilter, 'MatchCriterion');
    const wanted = (childText(nameFilter, 'Name') ?? '').toLowerCase();
    records = records.filter((r) => {
      const name = store.fullName(r).toLowerCase();
      if (criterion === 'StartsWith') return name.startsWith(wanted);
      if (criterion === 'EndsWith') return name.endsWith(wanted);
      return name.includes(wanted);
    });
  }
  const range = rq.children.find((c) => c.name === 'NameRangeFilter');
  if (range) {
    const fromName = childText(range, 'FromName')?.toLowerCase();
    const toName = childText(range, 'ToName')?.toLowerCase();
    records = records.filter((r) => {
      const name = store.fullName(r).toLowerCase();
      return (fromName === undefined || name >= fromName) && (toName === undefined || name <= toName);
    });
  }
  const accountType = childText(rq, 'AccountType');
  if (accountType) records = records.filter((r) => fieldText(r.fields, 'AccountType') === accountType);
  const classFilter = rq.children.find((c) => c.name === 'ClassFilter');
  if (classFilter) {
    const classIds = resolveIdFilter(classFilter, ['Class'], ctx);
    records = records.filter((r) =>
      r.fields.some((f) => f.n === 'ClassRef' && f.ref !== undefined && classIds.has(f.ref)),
    );
  }
  records.sort(byModified((r: ListRecord) => r.listId));
  return { ids: records.map((r) => r.listId), missing };
}

/** Resolves ListID+/FullName+/…WithChildren filters (ClassFilter, EntityFilter) to a set of ListIDs. */
export function resolveIdFilter(filter: XmlElement, kinds: readonly ListKind[], ctx: RequestContext): Set<string> {
  const { store } = ctx;
  const ids = new Set<string>();
  const roots: ListRecord[] = [];
  for (const child of filter.children) {
    const r =
      child.name === 'ListID' || child.name === 'ListIDWithChildren'
        ? store.list(child.text)
        : kinds.map((k) => store.findByName(k, child.text)).find((x) => x !== undefined);
    if (!r || !kinds.includes(r.kind)) continue;
    ids.add(r.listId);
    if (child.name.endsWith('WithChildren')) roots.push(r);
  }
  if (roots.length > 0) {
    for (const r of store.listsOf(kinds)) {
      const full = store.fullName(r).toLowerCase();
      if (roots.some((root) => full.startsWith(`${store.fullName(root).toLowerCase()}:`))) ids.add(r.listId);
    }
  }
  return ids;
}

export function dateFilter(
  parent: XmlElement,
  name: string,
  ctx: RequestContext,
  endOfDay: boolean,
): number | undefined {
  const value = childText(parent, name);
  if (value === undefined) return undefined;
  const parsed = ctx.clock.parseDateTime(value, endOfDay);
  if (parsed === undefined) {
    throw new RequestFailure(
      3020,
      `There was an error when converting the date value "${value}" in the field "${name}".`,
    );
  }
  return parsed;
}

export function includeSet(rq: XmlElement): Set<string> {
  return new Set(childTexts(rq, 'IncludeRetElement'));
}

export function queryLists(kinds: readonly ListKind[], rq: XmlElement, ctx: RequestContext): RequestOutcome {
  const include = includeSet(rq);
  let balances: ReturnType<typeof customerBalances> | undefined;
  return runQuery(
    rq,
    ctx,
    () => matchLists(kinds, rq, ctx),
    (id, ownerIds) => {
      const record = ctx.store.list(id);
      if (!record) return undefined;
      if (record.kind === 'Customer') balances ??= customerBalances(ctx);
      const opts: ListRenderOptions = { include, ownerIds };
      if (balances) opts.balances = balances;
      return renderListRecord(record, ctx, opts);
    },
  );
}

export function bodyOf(rq: XmlElement, element: string): XmlElement {
  const body = rq.children.find((c) => c.name === element);
  if (!body) throw new RequestFailure(3150, `There is a missing element: "${element}".`);
  return body;
}
