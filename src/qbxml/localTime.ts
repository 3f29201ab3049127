/**
 * QuickBooks Desktop keeps times as the local time of the PC that runs it, in the company file's time zone, and
 * writes them with an offset (`2026-07-01T11:37:00-07:00`) that has been seen not to follow daylight saving time (an
 * edit at 11:37 PDT reported as `-08:00`; issue 14). Its filter dates (`FromModifiedDate`) are read as that local time.
 * So the wall-clock part of a QuickBooks time is what to trust, read in the connection's IANA zone; the offset only
 * tells the two readings of the hour that repeats when clocks go back apart, and only when it is one of them.
 *
 * Pure functions on strings and epoch milliseconds (Intl only), so any layer may use them.
 */

import type { QbxmlRequest, QbxmlResponse } from './requests';

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;

const LOCAL_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?(Z|[+-]\d{2}:?\d{2})?$/;

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(zone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(zone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(zone, formatter);
  }
  return formatter;
}

/** True for a time zone this runtime knows by its IANA name (`America/Los_Angeles`, `Europe/London`, `UTC`). */
export function isTimeZone(zone: string): boolean {
  if (zone.trim() === '' || zone !== zone.trim()) return false;
  try {
    formatterFor(zone);
    return true;
  } catch {
    return false;
  }
}

/** The zone of the host this process runs on, the default of a connection that names none. */
export function hostTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

/** The zone's UTC offset in minutes at an instant (east positive: `-420` for PDT). */
export function zoneOffsetMinutes(zone: string, epochMs: number): number {
  const parts: Record<string, number> = {};
  for (const p of formatterFor(zone).formatToParts(new Date(epochMs))) {
    if (p.type !== 'literal') parts[p.type] = Number(p.value);
  }
  const wall = Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!);
  return Math.round((wall - Math.floor(epochMs / 1000) * 1000) / MINUTE_MS);
}

/** The zone's offset outside daylight saving time in the year of an instant: the smaller of January's and July's. */
export function standardOffsetMinutes(zone: string, epochMs: number): number {
  const year = new Date(epochMs).getUTCFullYear();
  return Math.min(zoneOffsetMinutes(zone, Date.UTC(year, 0, 1)), zoneOffsetMinutes(zone, Date.UTC(year, 6, 1)));
}

/** A local date and time as if it were UTC (so plain arithmetic works on it), with the offset written after it. */
export interface LocalDateTime {
  wallMs: number;
  offsetMinutes?: number;
}

/** Reads `YYYY-MM-DDTHH:MM[:SS][Z|±hh:mm]`; undefined for anything else, an impossible date included. */
export function parseLocalDateTime(value: string): LocalDateTime | undefined {
  const m = LOCAL_TIME.exec(value.trim());
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, zone] = m;
  const wallMs = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s ?? '0'));
  const check = new Date(wallMs);
  if (Number.isNaN(wallMs) || check.getUTCMonth() !== Number(mo) - 1 || check.getUTCDate() !== Number(d)) {
    return undefined;
  }
  if (Number(h) > 23 || Number(mi) > 59 || Number(s ?? '0') > 59) return undefined;
  if (zone === undefined) return { wallMs };
  if (zone === 'Z') return { wallMs, offsetMinutes: 0 };
  const digits = zone.replace(':', '');
  const sign = digits.startsWith('-') ? -1 : 1;
  return { wallMs, offsetMinutes: sign * (Number(digits.slice(1, 3)) * 60 + Number(digits.slice(3, 5))) };
}

/** `YYYY-MM-DDTHH:MM:SS` of a wall time. */
export function formatWall(wallMs: number): string {
  return new Date(wallMs).toISOString().slice(0, 19);
}

/** `±hh:mm` of an offset in minutes. */
export function formatOffset(offsetMinutes: number): string {
  const abs = Math.abs(offsetMinutes);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${offsetMinutes < 0 ? '-' : '+'}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/** The local wall time of an instant in a zone. */
export function wallTimeOf(zone: string, epochMs: number): number {
  return epochMs + zoneOffsetMinutes(zone, epochMs) * MINUTE_MS;
}

/**
 * The offsets under which a wall time exists in the zone: one as a rule, two in the hour that repeats when clocks go
 * back (the earlier instant first), none in the hour skipped when they go forward.
 */
export function offsetsOfWallTime(zone: string, wallMs: number): number[] {
  const around = new Set([
    zoneOffsetMinutes(zone, wallMs - 14 * HOUR_MS),
    zoneOffsetMinutes(zone, wallMs + 14 * HOUR_MS),
  ]);
  return [...around]
    .filter((offset) => zoneOffsetMinutes(zone, wallMs - offset * MINUTE_MS) === offset)
    .sort((a, b) => b - a);
}

/**
 * The instant of a QuickBooks local time read in the company file's zone: its wall clock, at the offset it names when
 * that is one of the zone's readings of it, else at the zone's earlier reading (a stale offset cannot tell the
 * repeated hour's two readings apart). A wall time the zone skips (never stamped by QuickBooks) is read at the offset
 * before the skip. An instant in UTC (`Z`) is taken as it is. Undefined when unreadable.
 */
export function quickbooksInstant(value: string, zone: string): number | undefined {
  const local = parseLocalDateTime(value);
  if (!local) return undefined;
  if (local.offsetMinutes === 0 && /Z$/.test(value.trim())) return local.wallMs;
  const offsets = offsetsOfWallTime(zone, local.wallMs);
  const offset =
    local.offsetMinutes !== undefined && offsets.includes(local.offsetMinutes)
      ? local.offsetMinutes
      : (offsets[0] ?? zoneOffsetMinutes(zone, local.wallMs - 14 * HOUR_MS));
  return local.wallMs - offset * MINUTE_MS;
}

/**
 * A QuickBooks time rewritten with the zone's true offset, so that it names the instant it was stamped at wherever it
 * is compared (`2026-07-01T11:37:00-08:00` → `2026-07-01T11:37:00-07:00` in Los Angeles). A value without a time, or
 * unreadable, is returned as it is.
 */
export function quickbooksTimeWithTrueOffset(value: string, zone: string): string {
  const at = quickbooksInstant(value, zone);
  if (at === undefined) return value;
  return `${formatWall(wallTimeOf(zone, at))}${formatOffset(zoneOffsetMinutes(zone, at))}`;
}

/**
 * A filter time (`FromModifiedDate`, `FromDeletedDate`) as the local time QuickBooks reads it, without an offset: the
 * connector's filter times name instants (an offset) or are already local (none, kept as they are). A
 * lower bound must take in everything stamped at or after its instant: when clocks go back within the hour after it,
 * the stamps after the change carry wall times below its own, so the bound is the wall time the clocks went back to.
 * An upper bound (`to`) is the mirror image. A date alone is returned as it is.
 */
export function quickbooksFilterTime(value: string, zone: string, bound: 'from' | 'to' = 'from'): string {
  const local = parseLocalDateTime(value);
  // Without an offset it is local time already (a configured start), which QuickBooks reads as it stands.
  if (!local || local.offsetMinutes === undefined) return value;
  // The connector computed it from stamps already read with their true offsets: an offset here names the instant.
  const at = local.wallMs - local.offsetMinutes * MINUTE_MS;
  const own = wallTimeOf(zone, at);
  if (bound === 'from') {
    const back = clocksGoBack(zone, at, at + HOUR_MS);
    return formatWall(back === undefined ? own : Math.min(own, wallTimeOf(zone, back)));
  }
  const back = clocksGoBack(zone, at - HOUR_MS, at);
  return formatWall(back === undefined ? own : Math.max(own, wallTimeOf(zone, back - 1000)));
}

/** The first instant (to the second) at the zone's smaller offset, when clocks go back between `from` and `to`. */
function clocksGoBack(zone: string, from: number, to: number): number | undefined {
  const before = zoneOffsetMinutes(zone, from);
  if (zoneOffsetMinutes(zone, to) >= before) return undefined;
  let [lo, hi] = [from, to];
  while (hi - lo > 1000) {
    const mid = lo + Math.floor((hi - lo) / 2000) * 1000;
    if (zoneOffsetMinutes(zone, mid) < before) hi = mid;
    else lo = mid;
  }
  return hi;
}

const FILTER_BOUNDS = [
  ['fromModifiedDate', 'from'],
  ['toModifiedDate', 'to'],
  ['fromDeletedDate', 'from'],
  ['toDeletedDate', 'to'],
] as const;

/**
 * A request with its modified/deleted date filters written as the company file's local time (what QuickBooks reads
 * them as), whatever offset the connector computed them with. Other fields are left alone.
 */
export function withLocalFilterTimes(request: QbxmlRequest, zone: string): QbxmlRequest {
  let changed: Record<string, unknown> | undefined;
  for (const [field, bound] of FILTER_BOUNDS) {
    const value: unknown = Reflect.get(request, field);
    if (typeof value !== 'string') continue;
    const local = quickbooksFilterTime(value, zone, bound);
    if (local === value) continue;
    changed ??= { ...request };
    changed[field] = local;
  }
  return (changed as QbxmlRequest | undefined) ?? request;
}

const RECORD_TIMES = ['timeCreated', 'timeModified', 'timeDeleted'] as const;

/**
 * The records of QuickBooks' answers with each stamp (TimeCreated, TimeModified, TimeDeleted) read in the company
 * file's zone and written with its true offset, so that every later comparison of instants (cursors, "later change
 * wins") is right even when QuickBooks wrote a stale offset. Changes the responses in place.
 */
export function withTrueOffsets(responses: QbxmlResponse[], zone: string): void {
  for (const response of responses) {
    for (const record of response.records) {
      for (const field of RECORD_TIMES) {
        const value: unknown = Reflect.get(record, field);
        if (typeof value === 'string') Reflect.set(record, field, quickbooksTimeWithTrueOffset(value, zone));
      }
    }
  }
}
