import { type Logger } from 'pino';
import { type BatchOperation, type DataverseClient, type DataverseRow } from '../dataverse/client';
import { DataverseCancelledError, DataverseError } from '../dataverse/errors';
import { entityAddress } from '../dataverse/odataAddress';
import { INVOICE_ROW, TABLES } from '../mapping/entityRegistry';
import { childLogger } from '../observability/logger';
import { refusesARow } from './bulkUpserts';
import { GatheredCalls, sendSplittingOnRefusal, type GatheringOptions, type ItemOutcome } from './gatheredCalls';

/**
 * The worker's bulk updater of one table (issue 15): record activities running at the same time hand it the columns
 * to change on an existing row, the updates gather for a moment (`gatheredCalls.ts`) and leave together, and each
 * activity gets its own row's outcome. The record's workflow stays its audit trail; only the HTTP request is shared.
 *
 * Two calls, by what the update must keep:
 * - An update without a row version (a sync base write-back, a state change, any update of a table without optimistic
 *   concurrency) goes in one `UpdateMultiple` where the table has that message. It never creates a row (a missing
 *   row fails the call, as `If-Match: *` does a single PATCH). On a standard table it is all or nothing: the call is
 *   split in halves until the refused row is alone, which fails with Dataverse's reason; the others are written.
 * - An update conditioned on the row version it was planned from (`If-Match: <etag>`) goes in a `$batch` with
 *   continue-on-error, each row its own PATCH carrying its own `If-Match`: the Web API's `UpdateMultiple` takes only
 *   `Targets` (the SDK's `ConcurrencyBehavior` is no parameter of the Web API action: an assumption from its
 *   reference, not tried on a real organisation), so it cannot hold a row to the version its merge was planned on.
 *   Each part answers for itself: a row changed meanwhile fails alone with 412 (the activity reads it again and merges
 *   again, as with a single PATCH), the others are written. Tables without `UpdateMultiple` send every update this way
 *   (`If-Match: *` when unconditional).
 *
 * A call whose answer was lost fails every row of it; each activity's retry is safe: an update writes the same values
 * again, and a conditional one finds its row version gone, reads the row again and finds nothing left to write.
 */

/** When updates leave: `gatherMs`, `callsInFlight` and `attemptOf` as in `gatheredCalls.ts`. */
export interface BulkUpdateOptions extends GatheringOptions {
  /**
   * Rows in one call at most (default 100; Dataverse takes 1,000 operations in a `$batch`). Each row costs server time
   * toward the execution-time limit, and a refused row costs a split of an `UpdateMultiple`.
   */
  maxRows?: number;
}

export interface RowUpdated {
  /** The row's new version, when Dataverse answered one (an `ETag` header; `UpdateMultiple` answers none). */
  etag?: string;
}

interface UpdateItem {
  id: string;
  changes: DataverseRow;
  /** The row version the update is conditioned on; absent, it only must not create the row (`If-Match: *`). */
  etag?: string;
}

export class BulkRowUpdater {
  private readonly multiple: GatheredCalls<UpdateItem, RowUpdated> | undefined;
  private readonly batched: GatheredCalls<UpdateItem, RowUpdated>;
  private readonly log: Logger;
  /** The worker's client as shared calls use it: a throttled call comes back here to go again without the items cancelled meanwhile. */
  private readonly dataverse: DataverseClient;

  /**
   * `dataverse` must be the worker's own client, not a view following activity attempts: one call carries the rows
   * of many attempts, so no single attempt's cancellation may abort it. `updateMultiple`: whether the table takes the
   * `UpdateMultiple` message.
   */
  constructor(
    dataverse: DataverseClient,
    readonly entitySet: string,
    options: BulkUpdateOptions & { updateMultiple: boolean },
  ) {
    this.dataverse = dataverse.forSharedCalls();
    const maxRows = Math.max(1, Math.min(options.maxRows ?? 100, 1000));
    this.log = childLogger({ component: 'bulk-updates', connection: dataverse.connection, entitySet });
    const cancelled = (when: string): DataverseCancelledError =>
      new DataverseCancelledError({
        connection: dataverse.connection,
        method: 'PATCH',
        path: entitySet,
        status: 0,
        code: '',
        message: `the activity attempt was cancelled ${when}`,
      });
    const shape = {
      fills: (waiting: readonly UpdateItem[]) => waiting.length >= maxRows,
      take: <T extends { item: UpdateItem }>(waiting: readonly T[]) => oneUpdateARow(waiting, maxRows),
      cancelled,
    };
    this.multiple = options.updateMultiple
      ? new GatheredCalls<UpdateItem, RowUpdated>(
          {
            ...shape,
            send: (call) =>
              sendSplittingOnRefusal(
                call,
                (rows) => this.updateMultiple(rows),
                refusesARow,
                // Only counts and Dataverse's code: the rows are customer records.
                (rows, error) =>
                  this.log.info(
                    { rows, status: (error as DataverseError).status, code: (error as DataverseError).code },
                    'a row of a bulk update was refused; splitting the call to find it',
                  ),
              ),
          },
          { label: `${entitySet} UpdateMultiple`, ...options },
        )
      : undefined;
    this.batched = new GatheredCalls<UpdateItem, RowUpdated>(
      {
        ...shape,
        // Each part of a continue-on-error batch answers for itself: nothing to split.
        send: (call) =>
          sendSplittingOnRefusal(
            call,
            (rows) => this.batch(rows),
            () => false,
          ),
      },
      { label: `${entitySet} $batch updates`, ...options },
    );
  }

  /**
   * Writes `changes` to the existing row `id`, in a call shared with the updates other activities hand in meanwhile;
   * with `etag`, only if the row still has that version (where the table has optimistic concurrency). Rejects with
   * the error Dataverse gave for this row alone: `DataverseConcurrencyError` when the row changed, not-found when it
   * is gone.
   */
  async update(id: string, changes: DataverseRow, options: { etag?: string } = {}): Promise<RowUpdated> {
    // A row id Dataverse cannot address fails this update now, before it can fail a call shared with others.
    entityAddress(this.entitySet, id, this.dataverse.connection);
    if (Object.keys(changes).length === 0) throw new RangeError(`an update of ${this.entitySet} needs columns`);
    // Dataverse refuses a row version on a table without optimistic concurrency; there the update is unconditional.
    const etag =
      options.etag && (await this.dataverse.hasOptimisticConcurrency(this.entitySet)) ? options.etag : undefined;
    const item: UpdateItem = { id, changes, ...(etag ? { etag } : {}) };
    return etag || !this.multiple ? this.batched.submit(item) : this.multiple.submit(item);
  }

  private async updateMultiple(rows: readonly UpdateItem[]): Promise<Array<ItemOutcome<RowUpdated>>> {
    await this.dataverse.updateMultiple(
      this.entitySet,
      rows.map(({ id, changes }) => ({ id, row: changes })),
    );
    return rows.map(() => ({ value: {} }));
  }

  private async batch(rows: readonly UpdateItem[]): Promise<Array<ItemOutcome<RowUpdated>>> {
    const operations: BatchOperation[] = rows.map(({ id, changes, etag }) => ({
      method: 'PATCH',
      path: entityAddress(this.entitySet, id, this.dataverse.connection),
      body: changes,
      headers: { 'If-Match': etag ?? '*' },
    }));
    const results = await this.dataverse.batch(operations, { atomic: false });
    return results.map((result): ItemOutcome<RowUpdated> => {
      if (result.error) return { error: result.error };
      if (result.status >= 400) {
        return {
          error: new DataverseError({
            connection: this.dataverse.connection,
            method: 'PATCH',
            path: this.entitySet,
            status: result.status,
            code: '',
            message: `a $batch part answered ${result.status}`,
          }),
        };
      }
      const etag = result.headers.etag;
      return { value: etag ? { etag } : {} };
    });
  }
}

/**
 * The next call: up to `maxRows` updates in arrival order, stopping before a second update of a row already in it,
 * so a row's updates are written in the order they were handed in and no call names a row twice.
 */
function oneUpdateARow<T extends { item: UpdateItem }>(
  waiting: readonly T[],
  maxRows: number,
): { call: T[]; rest: T[] } {
  const rows = new Set<string>();
  let end = 0;
  while (end < waiting.length && end < maxRows) {
    const id = waiting[end]!.item.id.toLowerCase();
    if (rows.has(id)) break;
    rows.add(id);
    end += 1;
  }
  return { call: waiting.slice(0, end), rest: waiting.slice(end) };
}

/**
 * Tables whose rows the sync updates, and whether each takes `UpdateMultiple`. Dataverse lists the tables per message
 * in its SDK message filters; this list is assumed (the same tables the sandbox offers the message on), not asked of
 * the organisation. The invoice table is taken not to: its updates go by `$batch`, and so do the orders'.
 */
const UPDATED_TABLES: ReadonlyArray<{ entitySet: string; updateMultiple: boolean }> = [
  { entitySet: TABLES.account.entitySet, updateMultiple: true },
  { entitySet: TABLES.contact.entitySet, updateMultiple: true },
  { entitySet: TABLES.product.entitySet, updateMultiple: true },
  { entitySet: INVOICE_ROW.entitySet, updateMultiple: false },
  // An order's invoice link goes with its move to Invoiced, a state change UpdateMultiple is not assumed to take.
  { entitySet: TABLES.salesorder.entitySet, updateMultiple: false },
];

/** The worker's bulk updaters, by entity set, on its own client. */
export function createBulkUpdaters(
  dataverse: DataverseClient,
  options: BulkUpdateOptions = {},
): ReadonlyMap<string, BulkRowUpdater> {
  return new Map(
    UPDATED_TABLES.map(({ entitySet, updateMultiple }) => [
      entitySet,
      new BulkRowUpdater(dataverse, entitySet, { ...options, updateMultiple }),
    ]),
  );
}

/** Writes columns to an existing row, optionally only at the row version `etag`; answers the new version if known. */
export type RowUpdate = (
  entitySet: string,
  id: string,
  changes: DataverseRow,
  options?: { etag?: string },
) => Promise<RowUpdated>;

/**
 * How an activity updates a row: through the table's bulk updater when the worker has one, else by its own PATCH on
 * `dataverse` (the activity's attempt-following client), as before issue 15's bulk updates.
 */
export function rowUpdates(
  dataverse: DataverseClient,
  bulk: ReadonlyMap<string, BulkRowUpdater> | undefined,
): RowUpdate {
  return async (entitySet, id, changes, options = {}) => {
    const updater = bulk?.get(entitySet);
    if (updater) return updater.update(id, changes, options);
    const result = await dataverse.update(entitySet, id, changes, options.etag ? { etag: options.etag } : {});
    return result.etag ? { etag: result.etag } : {};
  };
}
