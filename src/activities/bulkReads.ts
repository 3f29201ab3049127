import { type Logger } from 'pino';
import { type AttemptContext, type DataverseClient, type DataverseRow } from '../dataverse/client';
import { DataverseCancelledError, type DataverseError } from '../dataverse/errors';
import { isGuid, odataString } from '../dataverse/odataAddress';
import { childLogger } from '../observability/logger';
import { refusesARow } from './bulkUpserts';

/**
 * The worker's bulk reader of one kind of look-up (issue 15, item 3): record activities running at the same time
 * ask it for the rows matching one value each (a row's alternate key, an account's name), it gathers the values for
 * a moment and asks Dataverse once for all of them (`$filter=… and (col eq 'a' or col eq 'b' …)`), and each activity
 * gets the rows answering its own value. A read of a page of records costs one request instead of one a record.
 *
 * Values are matched back case-insensitively: Dataverse compares strings in its default collation, which ignores
 * case (SQL_Latin1_General_CP1_CI_AS; the sandbox's `eq` does the same), so the rows a query returns for `'acme'`
 * are those the same query for `'ACME'` returns, and an activity gets exactly what its own query would have given it.
 * Trailing spaces, which the SQL collation also ignores, never reach here: QuickBooks trims names and ListIDs carry
 * none (an assumption, not confirmed against a real organisation).
 *
 * A read has no row to blame: a failure (throttling that outlasted the client, transport, an expired credential)
 * fails every look-up of the call as it is, and each activity's retry asks again. A 400 of a call of several values
 * is split in halves, as the bulk writer splits, so a value Dataverse cannot take fails its own look-up alone.
 */

export interface BulkReadOptions {
  /** How long the first look-up of a call waits for others to join it when no call is in flight (default 250 ms). */
  gatherMs?: number;
  /** Calls of this reader in flight at once (default 2); look-ups made while they are out gather for the next. */
  callsInFlight?: number;
  /** Distinct values in one call at most (default 100). */
  maxValues?: number;
  /**
   * Characters of one call's `$filter` at most (default 8,000). Dataverse refuses a request URL longer than its limit
   * (documented as 32 KB for a GET; taken with a wide margin, since values are URL-encoded on the way).
   */
  maxFilterLength?: number;
  /** The activity attempt a look-up is made from: it heartbeats while its look-up waits, and a cancelled one leaves. */
  attemptOf?: () => AttemptContext | undefined;
}

/** One kind of gathered look-up: which table, which columns, and how a group of values becomes one query. */
export interface GatheredLookup {
  entitySet: string;
  select: readonly string[];
  /** The column the values are compared with. */
  column: string;
  /**
   * What every row of a group must also meet, from the group's name (a company file, a relationship type); none when
   * the look-ups have no groups.
   */
  groupFilter?: (group: string) => string;
  /**
   * The OData literal of a value: a quoted string by default; row ids are bare GUIDs (`guidLiteral`), which Dataverse
   * refuses quoted.
   */
  literal?: (value: string) => string;
}

/** A row id as an OData literal; anything but a GUID is refused here, before it can fail a call shared with others. */
export function guidLiteral(value: string): string {
  if (!isGuid(value)) throw new TypeError(`"${value}" is not a row id`);
  return value.toLowerCase();
}

interface PendingLookup {
  group: string;
  value: string;
  settle(outcome: { rows: DataverseRow[] } | { error: Error }): void;
  settled: boolean;
}

/** Heartbeat period of an attempt waiting for its look-up, well inside the activities' one-minute heartbeat timeout. */
const WAITING_HEARTBEAT_MS = 5_000;

const normalised = (value: string): string => value.toLowerCase();

export class BulkRowReader {
  private pending: PendingLookup[] = [];
  private timer: NodeJS.Timeout | undefined = undefined;
  private inFlight = 0;
  private readonly gatherMs: number;
  private readonly maxValues: number;
  private readonly maxFilterLength: number;
  private readonly callsInFlight: number;
  private readonly attemptOf: () => AttemptContext | undefined;
  private readonly log: Logger;

  /** `dataverse` is the worker's own client: one call answers the look-ups of many attempts. */
  constructor(
    private readonly dataverse: DataverseClient,
    readonly lookup: GatheredLookup,
    options: BulkReadOptions = {},
  ) {
    this.gatherMs = options.gatherMs ?? 250;
    this.maxValues = Math.max(1, options.maxValues ?? 100);
    this.maxFilterLength = Math.max(200, options.maxFilterLength ?? 8_000);
    this.callsInFlight = Math.max(1, options.callsInFlight ?? 2);
    this.attemptOf = options.attemptOf ?? (() => undefined);
    this.log = childLogger({ component: 'bulk-reads', connection: dataverse.connection, entitySet: lookup.entitySet });
  }

  /** The rows of `group` whose column equals `value` (in Dataverse's comparison), read together with others. */
  read(group: string, value: string): Promise<DataverseRow[]> {
    const attempt = this.attemptOf();
    return new Promise<DataverseRow[]>((resolve, reject) => {
      if (attempt?.signal.aborted) {
        reject(this.cancelled('before its look-up was handed to the bulk reader'));
        return;
      }
      try {
        if (this.filterOf(group, [value]).length > this.maxFilterLength) {
          throw new RangeError(`a ${this.lookup.entitySet} look-up value of ${value.length} characters is too long`);
        }
      } catch (err) {
        reject(err instanceof Error ? err : new Error(String(err)));
        return;
      }
      attempt?.heartbeat?.();
      const beat = attempt?.heartbeat ? setInterval(attempt.heartbeat, WAITING_HEARTBEAT_MS) : undefined;
      beat?.unref();
      const onAbort = (): void => {
        const waiting = this.pending.indexOf(entry);
        if (waiting >= 0) this.pending.splice(waiting, 1);
        entry.settle({ error: this.cancelled(waiting >= 0 ? 'before its look-up was sent' : 'during its bulk read') });
      };
      const entry: PendingLookup = {
        group,
        value,
        settled: false,
        settle: (outcome) => {
          if (entry.settled) return;
          entry.settled = true;
          if (beat) clearInterval(beat);
          attempt?.signal.removeEventListener('abort', onAbort);
          if ('rows' in outcome) resolve(outcome.rows);
          else reject(outcome.error);
        },
      };
      attempt?.signal.addEventListener('abort', onAbort, { once: true });
      this.pending.push(entry);
      if (this.distinctValues(group) >= this.maxValues) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.gatherMs);
    });
  }

  private distinctValues(group: string): number {
    return new Set(this.pending.filter((p) => p.group === group).map((p) => normalised(p.value))).size;
  }

  private filterOf(group: string, values: readonly string[]): string {
    const literal = this.lookup.literal ?? odataString;
    const any = values.map((v) => `${this.lookup.column} eq ${literal(v)}`).join(' or ');
    return this.lookup.groupFilter ? `${this.lookup.groupFilter(group)} and (${any})` : any;
  }

  /** Sends what has gathered, one group and up to `maxValues` values a call, while fewer than `callsInFlight` are out. */
  private flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    while (this.pending.length > 0 && this.inFlight < this.callsInFlight) {
      const call = this.takeCall();
      this.inFlight += 1;
      void this.send(call).finally(() => {
        this.inFlight -= 1;
        this.flush();
      });
    }
  }

  /** The first waiting look-up's group, with as many of its look-ups as one call holds, in the order they came. */
  private takeCall(): PendingLookup[] {
    const group = this.pending[0]!.group;
    const values = new Set<string>();
    const call: PendingLookup[] = [];
    const rest: PendingLookup[] = [];
    let full = false;
    for (const p of this.pending) {
      if (p.group !== group || full) {
        rest.push(p);
        continue;
      }
      const v = normalised(p.value);
      if (!values.has(v)) {
        const grown = [...call.map((c) => c.value), p.value];
        if (values.size >= this.maxValues || this.filterOf(group, grown).length > this.maxFilterLength) {
          full = true;
          rest.push(p);
          continue;
        }
        values.add(v);
      }
      call.push(p);
    }
    this.pending = rest;
    return call;
  }

  private async send(call: readonly PendingLookup[]): Promise<void> {
    const live = call.filter((p) => !p.settled);
    if (live.length === 0) return;
    const group = live[0]!.group;
    const values = [...new Map(live.map((p) => [normalised(p.value), p.value])).values()];
    const byValue = new Map<string, DataverseRow[]>();
    try {
      for await (const page of this.dataverse.query(this.lookup.entitySet, {
        select: this.lookup.select,
        filter: this.filterOf(group, values),
      })) {
        for (const row of page) {
          const value = row[this.lookup.column];
          if (typeof value !== 'string') continue;
          const rows = byValue.get(normalised(value)) ?? [];
          rows.push(row);
          byValue.set(normalised(value), rows);
        }
      }
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      if (values.length > 1 && refusesARow(error) && (error as DataverseError).status === 400) {
        // Counts and Dataverse's code only: the values are customer data.
        this.log.info(
          { values: values.length, code: (error as DataverseError).code },
          'a bulk read was refused; splitting it to find the value',
        );
        const firstHalf = new Set(values.slice(0, Math.ceil(values.length / 2)).map(normalised));
        await this.send(live.filter((p) => firstHalf.has(normalised(p.value))));
        await this.send(live.filter((p) => !firstHalf.has(normalised(p.value))));
        return;
      }
      for (const p of live) p.settle({ error });
      return;
    }
    for (const p of live) p.settle({ rows: byValue.get(normalised(p.value)) ?? [] });
  }

  private cancelled(when: string): DataverseCancelledError {
    return new DataverseCancelledError({
      connection: this.dataverse.connection,
      method: 'GET',
      path: this.lookup.entitySet,
      status: 0,
      code: '',
      message: `the activity attempt was cancelled ${when}`,
    });
  }
}
