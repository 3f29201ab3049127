import type { QbRecord } from '../qbxml/requests';

/**
 * Which QuickBooks records a poll cycle reads as news, and where its cursors move to. A cursor per list is the newest
 * TimeModified handed off (`<key>`), with the records already handed off in the overlap window before it
 * (`<key>:seen`, as ListID or TxnID @ EditSequence). Each read starts an overlap window before the cursor, because a
 * record can carry a TimeModified older than one already read: a transaction committed late, or an edit in the hour
 * that repeats when clocks go back (QuickBooks stamps and filters in the company's local time). Records read again in
 * the window with the EditSequence already handed off are dropped, so nothing is missed and nothing synced twice.
 */

const SEEN_SUFFIX = ':seen';
/**
 * Where the next read starts when the overlap window held more records than it keeps (`OVERLAP_IDS_AT_MOST`): the
 * TimeModified of the oldest record kept, or a second after a crowded instant given up (`CrowdedInstants`). Only ever
 * later than the cursor less the overlap while the cursor is near it.
 */
const FROM_SUFFIX = ':from';

/**
 * Records of the overlap window a read keeps as seen, per cursor. A fresh import or a mass update puts every record
 * of a read in the window (they were all modified within minutes), and the ids go with the poll cycle over
 * continue-as-new (about 100 bytes each; Temporal takes at most 2 MB a payload) and into the company file's cursors.
 * Past this many, the newest are kept and the next read starts at the oldest kept (`<key>:from`), so each record it
 * reads again is known; the price is a shorter overlap for late commits until the cursor has moved on by the overlap.
 * The count is a true bound since the instant at the count is given up when it would pass it (`CrowdedInstants`).
 */
export const OVERLAP_IDS_AT_MOST = 2000;

/**
 * How far before its cursor each read starts: the repeated hour of a daylight-saving change, plus a quarter of an hour
 * for writes that commit late.
 */
export const QUICKBOOKS_OVERLAP_MS = 75 * 60 * 1000;

/** Sub-level in the customer hierarchy (a job is 1 under its customer): parents are synced before their jobs. */
export function sublevel(record: QbRecord): number {
  return 'sublevel' in record && typeof record.sublevel === 'number' ? record.sublevel : 0;
}

/** When a record last changed: its TimeModified, or for a deletion (`ListDeletedRet`) its TimeDeleted. */
function timeOf(record: QbRecord): string | undefined {
  if ('timeModified' in record) return record.timeModified;
  return 'timeDeleted' in record ? record.timeDeleted : undefined;
}

/** ListID of a list record, TxnID of a transaction. */
export function recordId(record: QbRecord): string {
  return 'listId' in record ? record.listId : 'txnId' in record ? record.txnId : '';
}

function identity(record: QbRecord): string {
  return `${recordId(record)}@${'editSequence' in record ? record.editSequence : ''}`;
}

/**
 * The FromModifiedDate of the next read of a list: its cursor less the overlap window, written with the cursor's own
 * UTC offset (the offset QuickBooks stamped it with), or undefined when the list was never read.
 */
export function readFrom(
  cursors: Readonly<Record<string, string>>,
  key: string,
  overlapMs: number,
): string | undefined {
  const cursor = cursors[key];
  if (!cursor || overlapMs <= 0) return cursor;
  const from = overlapFrom(cursors, key, overlapMs);
  return from ?? windowBefore(cursor, overlapMs);
}

/**
 * Before this hour of the cursor's own local time, a crowded window's start is not honoured: clocks go back in the
 * small hours (02:00 or 03:00 local), and QuickBooks filters by local time, so an edit in the repeated hour reads as
 * earlier than the window kept and only a full overlap finds it. The cost is a whole window read again, and the records
 * not kept handed off again (each run finds its version synced already), on such nights only.
 */
const REPEATED_HOUR_ENDS = 4;

/**
 * The start of a crowded window kept by an earlier read (`<key>:from`), while it is later than cursor less overlap
 * and the cursor is clear of the hours when clocks go back.
 */
function overlapFrom(cursors: Readonly<Record<string, string>>, key: string, overlapMs: number): string | undefined {
  const from = cursors[`${key}${FROM_SUFFIX}`];
  const cursor = cursors[key];
  if (!from || !cursor || Number.isNaN(Date.parse(from))) return undefined;
  // QuickBooks writes its local time, with its offset: the hour as written is the local one.
  const localHour = Number(cursor.slice(11, 13));
  if (!Number.isInteger(localHour) || localHour < REPEATED_HOUR_ENDS) return undefined;
  return Date.parse(from) > Date.parse(cursor) - overlapMs ? from : undefined;
}

/** `cursor` less `overlapMs`, written with the cursor's own UTC offset. */
function windowBefore(cursor: string, overlapMs: number): string {
  const at = Date.parse(cursor);
  const zone = /(Z|[+-]\d{2}:?\d{2})$/.exec(cursor)?.[1];
  if (Number.isNaN(at) || zone === undefined) return cursor;
  const offsetMinutes =
    zone === 'Z'
      ? 0
      : (zone.startsWith('-') ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.replace(':', '').slice(3, 5)));
  const local = new Date(at - overlapMs + offsetMinutes * 60_000).toISOString().slice(0, 19);
  return `${local}${zone}`;
}

/**
 * The records not handed off yet: a record whose version (id and EditSequence) was handed off already, read again in
 * the overlap window, is dropped rather than synced twice; an edited record has a new EditSequence and is news.
 */
export function unseen(records: QbRecord[], cursors: Readonly<Record<string, string>>, key: string): QbRecord[] {
  const seen = cursors[`${key}${SEEN_SUFFIX}`];
  if (!cursors[key] || !seen) return records;
  const done = new Set(seen.split(','));
  return records.filter((r) => !done.has(identity(r)));
}

/**
 * The newest TimeModified read (never before the cursor), with every record read within the overlap window before
 * it. Every record of the previous window that is still in the new one was read again by this read (it starts a window
 * before the old cursor), so the read alone names them; while the cursor stays put, what it had seen is kept too.
 */
export function cursorAfter(
  key: string,
  records: QbRecord[],
  cursors: Readonly<Record<string, string>>,
  overlapMs: number,
): Record<string, string> {
  let latest: string | undefined;
  for (const r of records) {
    const t = timeOf(r);
    if (t && (latest === undefined || Date.parse(t) > Date.parse(latest))) latest = t;
  }
  if (!latest) return {};
  const current = cursors[key];
  if (current !== undefined && Date.parse(current) > Date.parse(latest)) latest = current;
  const windowStart = Date.parse(latest) - overlapMs;
  const inWindow = records
    .filter((r) => {
      const t = timeOf(r);
      return t !== undefined && Date.parse(t) >= windowStart;
    })
    .map(identity);
  const previous = current === latest ? (cursors[`${key}${SEEN_SUFFIX}`] ?? '').split(',').filter(Boolean) : [];
  return { [key]: latest, [`${key}${SEEN_SUFFIX}`]: [...new Set([...previous, ...inWindow])].join(',') };
}

/** Records of one read in the overlap window before its newest (identity → TimeModified), as pages come. */
export type ReadWindow = Readonly<Record<string, string>>;

/**
 * `cursorAfter` for a read handed off page by page: `advanced` is where the pages before this one moved the cursor,
 * `window` the records of theirs still within the overlap window. Over all pages the result is `cursorAfter` of the
 * whole read, while what is kept between pages is one window's worth of ids, however long the read.
 * `bound` is how many ids the window keeps (`OVERLAP_IDS_AT_MOST` unless said) and what becomes of an instant whose
 * records would carry it past that count (`newestOfWindow`): kept whole, as cycles recorded before did, or given up.
 */
export function cursorAfterPage(
  key: string,
  records: QbRecord[],
  cursors: Readonly<Record<string, string>>,
  advanced: Readonly<Record<string, string>>,
  window: ReadWindow,
  overlapMs: number,
  bound: WindowBound = {},
): { advanced: Record<string, string>; window: ReadWindow } {
  let latest = advanced[key];
  for (const r of records) {
    const t = timeOf(r);
    if (t && (latest === undefined || Date.parse(t) > Date.parse(latest))) latest = t;
  }
  if (!latest) return { advanced: {}, window };
  const current = cursors[key];
  if (current !== undefined && Date.parse(current) > Date.parse(latest)) latest = current;
  const windowStart = Date.parse(latest) - overlapMs;
  let inWindow: Record<string, string> = {};
  for (const [id, t] of Object.entries(window)) if (Date.parse(t) >= windowStart) inWindow[id] = t;
  for (const r of records) {
    const t = timeOf(r);
    if (t !== undefined && Date.parse(t) >= windowStart) inWindow[identity(r)] = t;
  }
  const kept = newestOfWindow(inWindow, bound.idsAtMost ?? OVERLAP_IDS_AT_MOST, bound.crowdedInstants ?? 'kept');
  inWindow = kept.window;
  // A window kept before, by this read or an earlier one, starts the next read until a later one replaces it.
  const from = kept.from ?? advanced[`${key}${FROM_SUFFIX}`];
  return {
    advanced: {
      [key]: latest,
      [`${key}${SEEN_SUFFIX}`]: seenAfter(key, cursors, latest, inWindow),
      ...(from === undefined ? {} : { [`${key}${FROM_SUFFIX}`]: from }),
    },
    window: inWindow,
  };
}

/**
 * The cursor's seen list once a read has moved it to `latest` with `window` the records of its overlap window: those,
 * after the ones seen before while the cursor stays put. A function of what a poll cycle carries anyway (the cursors it
 * began with, the cursor and the window), so a cycle continuing as new need not carry the list beside its window.
 */
export function seenAfter(
  key: string,
  cursors: Readonly<Record<string, string>>,
  latest: string,
  window: ReadWindow,
): string {
  const previous = cursors[key] === latest ? (cursors[`${key}${SEEN_SUFFIX}`] ?? '').split(',').filter(Boolean) : [];
  return [...new Set([...previous, ...Object.keys(window)])].join(',');
}

/**
 * An instant whose records would carry an overlap window past `OVERLAP_IDS_AT_MOST` (an import or a mass update
 * stamps thousands of records with one TimeModified second): `kept` whole, so the next read starts at that instant and
 * knows each of them, however many (cycles recorded before the bound); or `skipped`, so the next read starts a second
 * after it and the window stays within the bound. Skipping gives up the overlap for that one second: a write committed
 * late with exactly that TimeModified is not read until the record changes again. Keeping it let the window, carried by
 * a cycle continuing as new, pass Temporal's 2 MB a payload at about 25,000 records of one second, and the cycle's
 * every workflow task then failed.
 */
export type CrowdedInstants = 'kept' | 'skipped';

/** How many ids an overlap window keeps, and what becomes of a crowded instant (`CrowdedInstants`). */
export interface WindowBound {
  idsAtMost?: number;
  crowdedInstants?: CrowdedInstants;
}

/**
 * The window itself when it holds at most `idsAtMost` records; else its newest records, every one as new as
 * the one at that count (records of the same instant go together: a read from that instant returns them all), with that
 * instant as where the next read starts; or, when that instant is crowded and skipped (`CrowdedInstants`), only the
 * records after it, the next read starting a second after it.
 */
function newestOfWindow(
  window: ReadWindow,
  idsAtMost: number,
  crowdedInstants: CrowdedInstants,
): { window: Record<string, string>; from?: string } {
  const entries = Object.entries(window);
  if (entries.length <= idsAtMost) return { window: { ...window } };
  const byTime = entries.sort(([, a], [, b]) => Date.parse(b) - Date.parse(a));
  const from = byTime[idsAtMost - 1]![1];
  const oldest = Date.parse(from);
  const kept = byTime.filter(([, t]) => Date.parse(t) >= oldest);
  if (kept.length <= idsAtMost || crowdedInstants === 'kept') return { window: Object.fromEntries(kept), from };
  return {
    window: Object.fromEntries(byTime.filter(([, t]) => Date.parse(t) > oldest)),
    from: windowBefore(from, -SECOND_MS),
  };
}

const SECOND_MS = 1000;

/** Where the invoice cursor starts when a connection has none yet (`invoices.cursorStart`). */
export type InvoiceCursorStart = { daysBack: number } | { date: string };

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * The FromModifiedDate of the poll's invoice read: the cursor once there is one, else the configured start (a date,
 * or so many days before now, as a date). Invoices are read for the payments on them; without a start the first poll
 * of a company file would read every invoice it ever held. Settings recorded before the option existed count as the
 * default, 90 days.
 */
export function invoiceReadFrom(
  cursor: string | undefined,
  start: InvoiceCursorStart | undefined,
  nowMs: number,
): string {
  if (cursor) return cursor;
  const from = start ?? { daysBack: 90 };
  if ('date' in from) return from.date;
  return new Date(nowMs - from.daysBack * DAY_MS).toISOString().slice(0, 10);
}
