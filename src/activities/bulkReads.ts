import { type Logger } from 'pino';
import { type DataverseClient, type DataverseRow } from '../dataverse/client';
import { DataverseCancelledError, type DataverseError } from '../dataverse/errors';
import { isGuid, odataString } from '../dataverse/odataAddress';
import { childLogger } from '../observability/logger';
import { refusesARow } from './bulkUpserts';
import { GatheredCalls, sendSplittingOnRefusal, type GatheringOptions, type ItemOutcome } from './gatheredCalls';

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

/** When look-ups leave: `gatherMs`, `callsInFlight` and `attemptOf` as in `gatheredCalls.ts`. */
export interface BulkReadOptions extends GatheringOptions {
  /** Distinct values in one call at most (default 100). */
  maxValues?: number;
  /**
   * Characters of one call's `$filter` at most (default 8,000). Dataverse refuses a request URL longer than its limit
   * (documented as 32 KB for a GET; taken with a wide margin, since values are URL-encoded on the way).
   */
  maxFilterLength?: number;
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

type Lookup = { group: string; value: string };

const normalised = (value: string): string => value.toLowerCase();

export class BulkRowReader {
  private readonly calls: GatheredCalls<Lookup, DataverseRow[]>;
  private readonly maxValues: number;
  private readonly maxFilterLength: number;
  private readonly log: Logger;
  /** The worker's client as shared calls use it: a throttled call comes back here to go again without the items cancelled meanwhile. */
  private readonly dataverse: DataverseClient;

  /** `dataverse` is the worker's own client: one call answers the look-ups of many attempts. */
  constructor(
    dataverse: DataverseClient,
    readonly lookup: GatheredLookup,
    options: BulkReadOptions = {},
  ) {
    this.dataverse = dataverse.forSharedCalls();
    this.maxValues = Math.max(1, options.maxValues ?? 100);
    this.maxFilterLength = Math.max(200, options.maxFilterLength ?? 8_000);
    this.log = childLogger({ component: 'bulk-reads', connection: dataverse.connection, entitySet: lookup.entitySet });
    this.calls = new GatheredCalls<Lookup, DataverseRow[]>(
      {
        fills: (waiting, latest) =>
          new Set(waiting.filter((w) => w.group === latest.group).map((w) => normalised(w.value))).size >=
          this.maxValues,
        take: (waiting) => this.takeCall(waiting),
        send: (call) =>
          sendSplittingOnRefusal(
            call,
            (lookups) => this.query(lookups),
            (error) => refusesARow(error) && (error as DataverseError).status === 400,
            // Counts and Dataverse's code only: the values are customer data.
            (lookups, error) =>
              this.log.info(
                { lookups, code: (error as DataverseError).code },
                'a bulk read was refused; splitting it to find the value',
              ),
          ),
        cancelled: (when) => this.cancelled(when),
      },
      { label: `${lookup.entitySet} reads by ${lookup.column}`, ...options },
    );
  }

  /** The rows of `group` whose column equals `value` (in Dataverse's comparison), read together with others. */
  read(group: string, value: string): Promise<DataverseRow[]> {
    try {
      if (this.filterOf(group, [value]).length > this.maxFilterLength) {
        throw new RangeError(`a ${this.lookup.entitySet} look-up value of ${value.length} characters is too long`);
      }
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    return this.calls.submit({ group, value });
  }

  private filterOf(group: string, values: readonly string[]): string {
    const literal = this.lookup.literal ?? odataString;
    const any = values.map((v) => `${this.lookup.column} eq ${literal(v)}`).join(' or ');
    return this.lookup.groupFilter ? `${this.lookup.groupFilter(group)} and (${any})` : any;
  }

  /** The first waiting look-up's group, with as many of its look-ups as one call holds, in the order they came. */
  private takeCall<T extends { item: Lookup }>(waiting: readonly T[]): { call: T[]; rest: T[] } {
    const group = waiting[0]!.item.group;
    const values = new Set<string>();
    const call: T[] = [];
    const rest: T[] = [];
    let full = false;
    for (const p of waiting) {
      if (p.item.group !== group || full) {
        rest.push(p);
        continue;
      }
      const v = normalised(p.item.value);
      if (!values.has(v)) {
        const grown = [...call.map((c) => c.item.value), p.item.value];
        if (values.size >= this.maxValues || this.filterOf(group, grown).length > this.maxFilterLength) {
          full = true;
          rest.push(p);
          continue;
        }
        values.add(v);
      }
      call.push(p);
    }
    return { call, rest };
  }

  /** One query for the look-ups' distinct values (all of one group); each look-up gets the rows of its own value. */
  private async query(lookups: readonly Lookup[]): Promise<Array<ItemOutcome<DataverseRow[]>>> {
    const group = lookups[0]!.group;
    const values = [...new Map(lookups.map((p) => [normalised(p.value), p.value])).values()];
    const byValue = new Map<string, DataverseRow[]>();
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
    return lookups.map((p) => ({ value: byValue.get(normalised(p.value)) ?? [] }));
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
