import { isItemKind, type DataExtDef, type DataExtValue, type ListKind } from './companyState';
import { conversionIn, normalizeLeaf, resolveRef } from './fieldConversion';
import { childText, childTexts, type RequestContext, type RequestOutcome } from './requestContext';
import { RequestFailure, statusMessages } from './requestFailure';
import { escapeXml, type XmlElement } from './xml';

/* Custom fields: a definition (DataExtDef) per OwnerID + name, then values attached to list records or transactions. */

const valueLimits: Record<string, number> = { STR255TYPE: 255, STR1024TYPE: 1024 };

export function dataExtDefAdd(rq: XmlElement, ctx: RequestContext): RequestOutcome {
  const body = rq.children[0];
  if (!body) throw new RequestFailure(3150, 'There is a missing element: "DataExtDefAdd".');
  const ownerId = childText(body, 'OwnerID') ?? '';
  const name = normalizeLeaf(childText(body, 'DataExtName') ?? '', { kind: 'str', max: 31 }, 'DataExtName', ctx.clock);
  const type = childText(body, 'DataExtType') ?? '';
  const assignTo = childTexts(body, 'AssignToObject');
  const defs = ctx.store.state.dataExtDefs;
  if (defs.some((d) => d.ownerId === ownerId && d.name.toLowerCase() === name.toLowerCase())) {
    throw new RequestFailure(3100, statusMessages.nameInUse(name));
  }
  const dataExtId = defs.reduce((max, d, i) => Math.max(max, d.dataExtId ?? i + 1), 0) + 1;
  const def: DataExtDef = { ownerId, name, type, assignTo, dataExtId };
  const listRequire = childText(body, 'DataExtListRequire');
  const txnRequire = childText(body, 'DataExtTxnRequire');
  const formatString = childText(body, 'DataExtFormatString');
  if (listRequire !== undefined) def.listRequire = isTrue(listRequire);
  if (txnRequire !== undefined) def.txnRequire = isTrue(txnRequire);
  if (formatString !== undefined) def.formatString = formatString;
  defs.push(def);
  ctx.markDirty();
  return { body: dataExtDefRet(def, defs.length) };
}

function isTrue(text: string): boolean {
  return text === 'true' || text === '1';
}

/**
 * `DataExtDefRet` in qbXML 13.0 order: OwnerID, DataExtID, DataExtName, DataExtType (all required), then the objects it
 * is assigned to and its flags. The two Require flags are written even when the Add left them out, as false
 * (assumption: QuickBooks reports the stored flag; docs/quickbooks.md).
 */
function dataExtDefRet(def: DataExtDef, position: number): string {
  const assigned = def.assignTo.map((a) => `<AssignToObject>${escapeXml(a)}</AssignToObject>\n`).join('');
  const format =
    def.formatString === undefined ? '' : `<DataExtFormatString>${escapeXml(def.formatString)}</DataExtFormatString>\n`;
  return (
    `<DataExtDefRet>\n<OwnerID>${escapeXml(def.ownerId)}</OwnerID>\n<DataExtID>${def.dataExtId ?? position}</DataExtID>\n` +
    `<DataExtName>${escapeXml(def.name)}</DataExtName>\n<DataExtType>${escapeXml(def.type)}</DataExtType>\n${assigned}` +
    `<DataExtListRequire>${def.listRequire === true}</DataExtListRequire>\n` +
    `<DataExtTxnRequire>${def.txnRequire === true}</DataExtTxnRequire>\n${format}</DataExtDefRet>\n`
  );
}

const listKindsFor: Record<string, readonly ListKind[]> = {
  Customer: ['Customer'],
  Vendor: ['Vendor'],
  Account: ['Account'],
};

function locate(body: XmlElement, ctx: RequestContext): { objectId: string; lineId?: string } {
  const listType = childText(body, 'ListDataExtType');
  if (listType !== undefined) {
    const refEl = body.children.find((c) => c.name === 'ListObjRef');
    if (!refEl) throw new RequestFailure(3150, 'There is a missing element: "ListObjRef".');
    const target =
      listType === 'Item'
        ? 'Item'
        : listType === 'Customer' || listType === 'Vendor' || listType === 'Account'
          ? listType
          : undefined;
    if (!target) throw new RequestFailure(3250, `Custom fields on "${listType}" are not supported by this simulator.`);
    const record = resolveRef(refEl, target, conversionIn(ctx, 'DataExt'));
    if (!record || !(listKindsFor[listType]?.includes(record.kind) ?? isItemKind(record.kind))) {
      throw new RequestFailure(3140, statusMessages.invalidReference(listType, '', 'DataExt'));
    }
    return { objectId: record.listId };
  }
  const txnType = childText(body, 'TxnDataExtType');
  if (txnType !== undefined) {
    const txnId = childText(body, 'TxnID') ?? '';
    const txn = ctx.store.txn(txnId);
    if (!txn || txn.kind !== txnType) throw new RequestFailure(3000, statusMessages.invalidObjectId(txnId, 'TxnID'));
    const lineId = childText(body, 'TxnLineID');
    if (lineId !== undefined && !txn.lines.some((l) => l.txnLineId === lineId)) {
      throw new RequestFailure(3000, statusMessages.invalidObjectId(lineId, 'TxnLineID'));
    }
    return lineId === undefined ? { objectId: txnId } : { objectId: txnId, lineId };
  }
  return { objectId: 'Company' };
}

export function dataExtAddOrMod(rq: XmlElement, ctx: RequestContext, mode: 'add' | 'mod'): RequestOutcome {
  const body = rq.children[0];
  if (!body) throw new RequestFailure(3150, 'There is a missing element.');
  const ownerId = childText(body, 'OwnerID') ?? '';
  const name = childText(body, 'DataExtName') ?? '';
  const def = ctx.store.state.dataExtDefs.find(
    (d) => d.ownerId === ownerId && d.name.toLowerCase() === name.toLowerCase(),
  );
  if (!def) throw new RequestFailure(3120, statusMessages.objectNotFound(name));
  const value = childText(body, 'DataExtValue') ?? '';
  const limit = valueLimits[def.type];
  if (limit !== undefined && value.length > limit) {
    throw new RequestFailure(3070, statusMessages.stringTooLong(value, 'DataExtValue'));
  }
  const { objectId, lineId } = locate(body, ctx);
  const values = ctx.store.state.dataExtValues;
  const existing = values.find(
    (v) => v.ownerId === ownerId && v.name === def.name && v.objectId === objectId && v.lineId === lineId,
  );
  if (mode === 'add' && existing) {
    throw new RequestFailure(
      3180,
      `There was an error when saving a data extension named "${def.name}". QuickBooks error message: The value already exists.`,
    );
  }
  if (mode === 'mod' && !existing) throw new RequestFailure(3120, statusMessages.objectNotFound(def.name));
  if (existing) existing.value = value;
  else {
    const added: DataExtValue = { ownerId, name: def.name, objectId, value };
    if (lineId !== undefined) added.lineId = lineId;
    values.push(added);
  }
  ctx.markDirty();
  return { body: dataExtRet(ownerId, def.name, def.type, value) };
}

function dataExtRet(ownerId: string, name: string, type: string, value: string): string {
  return (
    `<DataExtRet>\n<OwnerID>${escapeXml(ownerId)}</OwnerID>\n<DataExtName>${escapeXml(name)}</DataExtName>\n` +
    `<DataExtType>${escapeXml(type)}</DataExtType>\n<DataExtValue>${escapeXml(value)}</DataExtValue>\n</DataExtRet>\n`
  );
}

/** DataExtRet elements of an object (or one of its lines) for the OwnerIDs a query asked for. */
export function dataExtRets(ctx: RequestContext, objectId: string, ownerIds: string[], lineId?: string): string {
  return ctx.store.state.dataExtValues
    .filter((v) => v.objectId === objectId && v.lineId === lineId && ownerIds.includes(v.ownerId))
    .map((v) => {
      const def = ctx.store.state.dataExtDefs.find((d) => d.ownerId === v.ownerId && d.name === v.name);
      return dataExtRet(v.ownerId, v.name, def?.type ?? 'STR255TYPE', v.value);
    })
    .join('');
}
