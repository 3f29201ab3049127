import {
  formatOffset,
  formatWall,
  parseLocalDateTime,
  standardOffsetMinutes,
  wallTimeOf,
  zoneOffsetMinutes,
} from '../../qbxml/localTime';

/**
 * QuickBooks keeps times as the local time of the PC it runs on, in the company file's time zone: it stamps records
 * with that wall time and an offset, and compares filter dates with the stamps as local times. The simulator keeps
 * epoch seconds internally and converts at the edges in the company's IANA zone.
 *
 * `staleOffset` models the QuickBooks seen writing the zone's standard offset all year (an edit at 11:37 PDT stamped
 * `11:37:00-08:00`): the wall time is right, the offset is not. Such a QuickBooks is assumed to convert a filter date
 * that carries an offset with the same stale offset (docs/quickbooks.md, assumptions).
 */
export class CompanyClock {
  constructor(
    private readonly now: () => Date,
    readonly timeZone: string,
    readonly staleOffset = false,
  ) {}

  nowSeconds(): number {
    return Math.floor(this.now().getTime() / 1000);
  }

  /** The offset QuickBooks writes after the wall time of an instant. */
  private stampOffset(epochMs: number): number {
    return this.staleOffset ? standardOffsetMinutes(this.timeZone, epochMs) : zoneOffsetMinutes(this.timeZone, epochMs);
  }

  formatDateTime(epochSeconds: number): string {
    const at = epochSeconds * 1000;
    return `${formatWall(wallTimeOf(this.timeZone, at))}${formatOffset(this.stampOffset(at))}`;
  }

  /** Local calendar date of an instant, as QuickBooks defaults TxnDate to "today". */
  formatDate(epochSeconds: number): string {
    return this.formatDateTime(epochSeconds).slice(0, 10);
  }

  /** The local wall time of a stamp, in seconds, as filters compare it. */
  wallSeconds(epochSeconds: number): number {
    return Math.floor(wallTimeOf(this.timeZone, epochSeconds * 1000) / 1000);
  }

  /**
   * Parses a DATETIMETYPE filter value into local wall seconds (compare with {@link wallSeconds}). A date alone means
   * the start of that local day, or its last second when `endOfDay` (a ToModifiedDate of a plain date includes that
   * whole day). A value with an offset is taken as that instant and turned into local time the way QuickBooks writes
   * its stamps. Returns undefined when unparseable.
   */
  parseDateTime(value: string, endOfDay = false): number | undefined {
    const trimmed = value.trim();
    const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(trimmed);
    const local = parseLocalDateTime(dateOnly ? `${trimmed}T${endOfDay ? '23:59:59' : '00:00:00'}` : trimmed);
    if (!local) return undefined;
    if (local.offsetMinutes === undefined) return local.wallMs / 1000;
    const at = local.wallMs - local.offsetMinutes * 60_000;
    return Math.floor((at + this.stampOffset(at) * 60_000) / 1000);
  }
}

export function isValidDate(value: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!m) return false;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.getUTCDate() === Number(m[3]) && d.getUTCMonth() === Number(m[2]) - 1;
}

export function addDays(isoDate: string, days: number): string {
  const d = new Date(`${isoDate}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}
