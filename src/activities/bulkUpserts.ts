import { type Logger } from 'pino';
import { type DataverseClient, type DataverseRow } from '../dataverse/client';
import {
  DataverseAuthError,
  DataverseCancelledError,
  DataverseError,
  DataverseKeyNotActiveError,
  DataverseThrottledError,
} from '../dataverse/errors';
import { entityAddress, type AlternateKey } from '../dataverse/odataAddress';
import { childLogger } from '../observability/logger';
import { GatheredCalls, sendSplittingOnRefusal, type GatheringOptions, type ItemOutcome } from './gatheredCalls';

/**
 * The worker's bulk writer of one table (issue 15): record activities running at the same time hand it their rows,
 * it gathers them for a moment and sends them as one UpsertMultiple by alternate key, and each activity gets
 * its own row's id or error. The record keeps its own workflow as its audit trail; only the HTTP request is shared.
 *
 * On a standard table UpsertMultiple is all or nothing: one bad row fails the call with that row's error and writes
 * nothing. The writer then splits the call in halves and sends them again, in order, until the row Dataverse refuses
 * is alone: that record fails with Dataverse's reason, the others are written. Failures no row causes (throttling
 * that outlasted the client, transport, an expired credential, a key still indexing) fail every row of the call as
 * they are, and each activity's retry sends its row again: an upsert by key writes the same row whatever happened to
 * the first try.
 */

/**
 * When rows leave: `gatherMs`, `maxGatherMs` and `callsInFlight` as in `gatheredCalls.ts` (in the scale-0.1 benchmark
 * new accounts arrive a few a second, 100-400 ms apart: a fixed 20 ms window sent 1.05 rows a call, a fixed 250 ms
 * about 3, a 500 ms quiet period about 18).
 */
export interface BulkUpsertOptions extends GatheringOptions {
  /**
   * Rows in one call at most (default 100). Each row costs server time toward the execution-time limit, and a bad row
   * costs a split of its whole call, so calls stay far below Dataverse's 1,000.
   */
  maxRows?: number;
}

type UpsertItem = { key: AlternateKey; row: DataverseRow };

export class BulkUpsertWriter {
  private readonly calls: GatheredCalls<UpsertItem, string>;
  private readonly log: Logger;
  /** The worker's client as shared calls use it: a throttled call comes back here to go again without the items cancelled meanwhile. */
  private readonly dataverse: DataverseClient;

  /**
   * `dataverse` must be the worker's own client, not a view following activity attempts: one call carries the rows
   * of many attempts, so no single attempt's cancellation may abort it.
   */
  constructor(
    dataverse: DataverseClient,
    readonly entitySet: string,
    options: BulkUpsertOptions = {},
  ) {
    this.dataverse = dataverse.forSharedCalls();
    const maxRows = Math.max(1, Math.min(options.maxRows ?? 100, 1000));
    this.log = childLogger({ component: 'bulk-upserts', connection: dataverse.connection, entitySet });
    this.calls = new GatheredCalls<UpsertItem, string>(
      {
        fills: (waiting) => waiting.length >= maxRows,
        take: (waiting) => ({ call: waiting.slice(0, maxRows), rest: waiting.slice(maxRows) }),
        send: (call) =>
          sendSplittingOnRefusal(
            call,
            (rows) => this.upsertMultiple(rows),
            refusesARow,
            // Only counts and Dataverse's code: the rows are customer records.
            (rows, error) =>
              this.log.info(
                { rows, status: (error as DataverseError).status, code: (error as DataverseError).code },
                'a row of a bulk upsert was refused; splitting the call to find it',
              ),
          ),
        cancelled: (when) => this.cancelled(when),
      },
      { label: `${entitySet} UpsertMultiple`, ...options },
    );
  }

  /**
   * Creates or updates the row with this alternate key, in a call shared with the rows other activities hand in
   * meanwhile; resolves with the row's id, or rejects with the error Dataverse gave for this row alone.
   */
  upsert(key: AlternateKey, row: DataverseRow): Promise<string> {
    try {
      // A key Dataverse cannot address fails this row now, before it can fail a call shared with others.
      entityAddress(this.entitySet, key, this.dataverse.connection);
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    return this.calls.submit({ key, row });
  }

  private async upsertMultiple(rows: readonly UpsertItem[]): Promise<Array<ItemOutcome<string>>> {
    const ids = await this.dataverse.upsertMultiple(this.entitySet, rows);
    if (ids.length !== rows.length) {
      throw new DataverseError({
        connection: this.dataverse.connection,
        method: 'POST',
        path: `${this.entitySet}/Microsoft.Dynamics.CRM.UpsertMultiple`,
        status: 0,
        code: '',
        message: `UpsertMultiple answered ${ids.length} ids for ${rows.length} rows`,
      });
    }
    return ids.map((id) => ({ value: id }));
  }

  private cancelled(when: string): DataverseCancelledError {
    return new DataverseCancelledError({
      connection: this.dataverse.connection,
      method: 'POST',
      path: `${this.entitySet}/Microsoft.Dynamics.CRM.UpsertMultiple`,
      status: 0,
      code: '',
      message: `the activity attempt was cancelled ${when}`,
    });
  }
}

/**
 * Whether Dataverse refused the call for what one of its rows holds (bad value, duplicate, a lookup to a missing
 * row), as opposed to refusing the caller or the moment: only then does splitting the call find a culprit.
 */
export function refusesARow(error: Error): boolean {
  if (!(error instanceof DataverseError)) return false;
  if (
    error instanceof DataverseThrottledError ||
    error instanceof DataverseAuthError ||
    error instanceof DataverseKeyNotActiveError ||
    error instanceof DataverseCancelledError
  ) {
    return false;
  }
  // 403 is the application user's missing privilege on the table: every row would be refused the same way.
  return error.status >= 400 && error.status < 500 && ![401, 403, 408, 429].includes(error.status);
}
