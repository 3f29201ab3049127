import type { QbRecord } from '../qbxml/requests';

/**
 * Which QuickBooks records a poll cycle reads as news, and where its cursors move to. A cursor per list is the newest
 * TimeModified handed off, with the records at exactly that second (`<key>:seen`), because QuickBooks'
 * FromModifiedDate is inclusive and to the second.
 */

const SEEN_SUFFIX = ':seen';

/** Sub-level in the customer hierarchy (a job is 1 under its customer): parents are synced before their jobs. */
export function sublevel(record: QbRecord): number {
  return 'sublevel' in record && typeof record.sublevel === 'number' ? record.sublevel : 0;
}

function timeOf(record: QbRecord): string | undefined {
  return 'timeModified' in record ? record.timeModified : undefined;
}

/** ListID of a list record, TxnID of a transaction. */
export function recordId(record: QbRecord): string {
  return 'listId' in record ? record.listId : 'txnId' in record ? record.txnId : '';
}

function identity(record: QbRecord): string {
  return `${recordId(record)}@${'editSequence' in record ? record.editSequence : ''}`;
}

/**
 * The records not handed off yet: those at the cursor's exact second come back next time, and the ones already
 * handed off (same id and EditSequence) are dropped rather than synced twice.
 */
export function unseen(records: QbRecord[], cursors: Readonly<Record<string, string>>, key: string): QbRecord[] {
  const cursor = cursors[key];
  const seen = cursors[`${key}${SEEN_SUFFIX}`];
  if (!cursor || !seen) return records;
  const done = new Set(seen.split(','));
  return records.filter((r) => timeOf(r) !== cursor || !done.has(identity(r)));
}

/** The newest TimeModified read, with the records at exactly that second. */
export function cursorAfter(
  key: string,
  records: QbRecord[],
  cursors: Readonly<Record<string, string>>,
): Record<string, string> {
  let latest: string | undefined;
  for (const r of records) {
    const t = timeOf(r);
    if (t && (latest === undefined || Date.parse(t) > Date.parse(latest))) latest = t;
  }
  if (!latest) return {};
  const atLatest = records.filter((r) => timeOf(r) === latest).map(identity);
  const previous = cursors[key] === latest ? (cursors[`${key}${SEEN_SUFFIX}`] ?? '').split(',').filter(Boolean) : [];
  return { [key]: latest, [`${key}${SEEN_SUFFIX}`]: [...new Set([...previous, ...atLatest])].join(',') };
}
