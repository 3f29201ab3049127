import type { CompanyClock } from './companyClock';
import type { StoredNode } from './companyState';
import type { CompanyStore } from './companyStore';
import { escapeXml } from './xml';

/** Orders fields by the Ret sequence (stable for repeated elements) and drops what the Ret does not have. */
export function orderFields(
  fields: StoredNode[],
  order: readonly string[],
  include?: ReadonlySet<string>,
): StoredNode[] {
  const rank = new Map(order.map((name, i) => [name, i]));
  return fields
    .map((f, i) => ({ f, i, r: rank.get(f.n) }))
    .filter((x): x is { f: StoredNode; i: number; r: number } => x.r !== undefined)
    .filter((x) => !include || include.size === 0 || include.has(x.f.n))
    .sort((a, b) => a.r - b.r || a.i - b.i)
    .map((x) => x.f);
}

/** Serialises stored fields; references are written with the target's current ListID and FullName. */
export function renderNodes(nodes: StoredNode[], store: CompanyStore): string {
  let out = '';
  for (const node of nodes) {
    if (node.ref !== undefined) {
      const target = store.list(node.ref);
      out += `<${node.n}><ListID>${escapeXml(node.ref)}</ListID>`;
      if (target) out += `<FullName>${escapeXml(store.fullName(target))}</FullName>`;
      out += `</${node.n}>\n`;
    } else if (node.c !== undefined) {
      out += `<${node.n}>\n${renderNodes(node.c, store)}</${node.n}>\n`;
    } else {
      out += `<${node.n}>${escapeXml(node.t ?? '')}</${node.n}>\n`;
    }
  }
  return out;
}

/**
 * How every list and transaction Ret opens: its id (`ListID` or `TxnID`), when it was created and last modified, and
 * the EditSequence a Mod must quote back.
 */
export function recordStamp(
  idElement: 'ListID' | 'TxnID',
  id: string,
  record: { created: number; modified: number; editSequence: string },
  clock: CompanyClock,
): StoredNode[] {
  return [
    textNode(idElement, id),
    textNode('TimeCreated', clock.formatDateTime(record.created)),
    textNode('TimeModified', clock.formatDateTime(record.modified)),
    textNode('EditSequence', record.editSequence),
  ];
}

export function textNode(n: string, t: string | number | boolean): StoredNode {
  return { n, t: String(t) };
}
