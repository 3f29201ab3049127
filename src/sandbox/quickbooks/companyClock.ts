/**
 * QuickBooks stamps records in the company's local time with its UTC offset and reads offset-less filter dates as
 * local time. The simulator keeps epoch seconds internally and converts at the edges with a fixed offset.
 */
export class CompanyClock {
  constructor(
    private readonly now: () => Date,
    readonly utcOffsetMinutes: number,
  ) {}

  nowSeconds(): number {
    return Math.floor(this.now().getTime() / 1000);
  }

  formatDateTime(epochSeconds: number): string {
    const local = new Date((epochSeconds + this.utcOffsetMinutes * 60) * 1000).toISOString().slice(0, 19);
    const sign = this.utcOffsetMinutes < 0 ? '-' : '+';
    const abs = Math.abs(this.utcOffsetMinutes);
    return `${local}${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
  }

  /** Local calendar date of an instant, as QuickBooks defaults TxnDate to "today". */
  formatDate(epochSeconds: number): string {
    return this.formatDateTime(epochSeconds).slice(0, 10);
  }

  /**
   * Parses a DATETIMETYPE filter value. A date alone means the start of that local day, or its last second when
   * `endOfDay` (a ToModifiedDate of a plain date includes that whole day). Returns undefined when unparseable.
   */
  parseDateTime(value: string, endOfDay = false): number | undefined {
    const m = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2}))?)?(Z|[+-]\d{2}:?\d{2})?$/.exec(value.trim());
    if (!m) return undefined;
    const [, y, mo, d, h, mi, s, zone] = m;
    const hasTime = h !== undefined;
    const utc = Date.UTC(
      Number(y),
      Number(mo) - 1,
      Number(d),
      hasTime ? Number(h) : endOfDay ? 23 : 0,
      hasTime ? Number(mi) : endOfDay ? 59 : 0,
      hasTime ? Number(s ?? '0') : endOfDay ? 59 : 0,
    );
    if (Number.isNaN(utc)) return undefined;
    const check = new Date(utc);
    if (check.getUTCMonth() !== Number(mo) - 1 || check.getUTCDate() !== Number(d)) return undefined;
    let offset = this.utcOffsetMinutes;
    if (zone !== undefined) {
      if (zone === 'Z') offset = 0;
      else {
        const digits = zone.replace(':', '');
        offset = (zone.startsWith('-') ? -1 : 1) * (Number(digits.slice(1, 3)) * 60 + Number(digits.slice(3, 5)));
      }
    }
    return Math.floor(utc / 1000) - offset * 60;
  }
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
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
