import { type Logger } from 'pino';
import { type AttemptContext, type DataverseClient, type DataverseRow } from '../dataverse/client';
import {
  DataverseAuthError,
  DataverseCancelledError,
  DataverseError,
  DataverseKeyNotActiveError,
  DataverseThrottledError,
} from '../dataverse/errors';
import { entityAddress, type AlternateKey } from '../dataverse/odataAddress';
import { childLogger } from '../observability/logger';

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

export interface BulkUpsertOptions {
  /**
   * How long the first row of a call waits for other rows to join it when no call is in flight (default 250 ms). In
   * the scale-0.1 benchmark new accounts arrived about 5 a second, 200 ms apart: 20 ms gathered 1.05 rows a call.
   */
  gatherMs?: number;
  /**
   * Calls of this writer in flight at once (default 2). Rows handed in while they are gather for the next call, so
   * calls grow with the wait: under a saturated request budget the rows of record activities arrive one governed
   * read apart, far more than `gatherMs`, and only the time a call spends queued and in flight gathers them.
   */
  callsInFlight?: number;
  /**
   * Rows in one call at most (default 100). Each row costs server time toward the execution-time limit, and a bad row
   * costs a split of its whole call, so calls stay far below Dataverse's 1,000.
   */
  maxRows?: number;
  /** The activity attempt a row is handed in from: it heartbeats while its row waits, and a cancelled one leaves. */
  attemptOf?: () => AttemptContext | undefined;
}

interface PendingRow {
  key: AlternateKey;
  row: DataverseRow;
  settle(outcome: { id: string } | { error: Error }): void;
  settled: boolean;
}

/** Heartbeat period of an attempt waiting for its row, well inside the activities' one-minute heartbeat timeout. */
const WAITING_HEARTBEAT_MS = 5_000;

export class BulkUpsertWriter {
  private pending: PendingRow[] = [];
  private timer: NodeJS.Timeout | undefined = undefined;
  private inFlight = 0;
  private readonly gatherMs: number;
  private readonly maxRows: number;
  private readonly callsInFlight: number;
  private readonly attemptOf: () => AttemptContext | undefined;
  private readonly log: Logger;

  /**
   * `dataverse` must be the worker's own client, not a view following activity attempts: one call carries the rows
   * of many attempts, so no single attempt's cancellation may abort it.
   */
  constructor(
    private readonly dataverse: DataverseClient,
    readonly entitySet: string,
    options: BulkUpsertOptions = {},
  ) {
    this.gatherMs = options.gatherMs ?? 250;
    this.maxRows = Math.max(1, Math.min(options.maxRows ?? 100, 1000));
    this.callsInFlight = Math.max(1, options.callsInFlight ?? 2);
    this.attemptOf = options.attemptOf ?? (() => undefined);
    this.log = childLogger({ component: 'bulk-upserts', connection: dataverse.connection, entitySet });
  }

  /**
   * Creates or updates the row with this alternate key, in a call shared with the rows other activities hand in
   * meanwhile; resolves with the row's id, or rejects with the error Dataverse gave for this row alone.
   */
  upsert(key: AlternateKey, row: DataverseRow): Promise<string> {
    const attempt = this.attemptOf();
    return new Promise<string>((resolve, reject) => {
      if (attempt?.signal.aborted) {
        reject(this.cancelled('before it was handed to the bulk writer'));
        return;
      }
      try {
        // A key Dataverse cannot address fails this row now, before it can fail a call shared with others.
        entityAddress(this.entitySet, key, this.dataverse.connection);
      } catch (err) {
        reject(err instanceof Error ? err : new Error(String(err)));
        return;
      }
      attempt?.heartbeat?.();
      const beat = attempt?.heartbeat ? setInterval(attempt.heartbeat, WAITING_HEARTBEAT_MS) : undefined;
      beat?.unref();
      const onAbort = (): void => {
        // A row not sent yet leaves its call; one already sent may still be written, as an aborted single write may.
        const waiting = this.pending.indexOf(entry);
        if (waiting >= 0) this.pending.splice(waiting, 1);
        entry.settle({
          error: this.cancelled(waiting >= 0 ? 'before its row was sent' : 'while its row was in a bulk call'),
        });
      };
      const entry: PendingRow = {
        key,
        row,
        settled: false,
        settle: (outcome) => {
          if (entry.settled) return;
          entry.settled = true;
          if (beat) clearInterval(beat);
          attempt?.signal.removeEventListener('abort', onAbort);
          if ('id' in outcome) resolve(outcome.id);
          else reject(outcome.error);
        },
      };
      attempt?.signal.addEventListener('abort', onAbort, { once: true });
      this.pending.push(entry);
      if (this.pending.length >= this.maxRows) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.gatherMs);
    });
  }

  /**
   * Sends what has gathered, `maxRows` a call, while fewer than `callsInFlight` calls are out; what is left waits
   * for the first of them to end.
   */
  private flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    while (this.pending.length > 0 && this.inFlight < this.callsInFlight) {
      const rows = this.pending.splice(0, this.maxRows);
      this.inFlight += 1;
      void this.send(rows).finally(() => {
        this.inFlight -= 1;
        this.flush();
      });
    }
  }

  private async send(rows: readonly PendingRow[]): Promise<void> {
    const live = rows.filter((r) => !r.settled);
    if (live.length === 0) return;
    let ids: string[];
    try {
      ids = await this.dataverse.upsertMultiple(
        this.entitySet,
        live.map(({ key, row }) => ({ key, row })),
      );
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      if (live.length > 1 && refusesARow(error)) {
        // Only counts and Dataverse's code: the rows are customer records.
        this.log.info(
          { rows: live.length, status: (error as DataverseError).status, code: (error as DataverseError).code },
          'a row of a bulk upsert was refused; splitting the call to find it',
        );
        // In order, so a row that refers to an earlier one (a job and its parent) still finds it written.
        const half = Math.ceil(live.length / 2);
        await this.send(live.slice(0, half));
        await this.send(live.slice(half));
        return;
      }
      for (const r of live) r.settle({ error });
      return;
    }
    if (ids.length !== live.length) {
      const error = new DataverseError({
        connection: this.dataverse.connection,
        method: 'POST',
        path: `${this.entitySet}/Microsoft.Dynamics.CRM.UpsertMultiple`,
        status: 0,
        code: '',
        message: `UpsertMultiple answered ${ids.length} ids for ${live.length} rows`,
      });
      for (const r of live) r.settle({ error });
      return;
    }
    live.forEach((r, i) => r.settle({ id: ids[i]! }));
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
