import { type DataverseClient, type DataverseRow } from '../dataverse/client';
import { DataverseCancelledError, DataverseError } from '../dataverse/errors';
import { GatheredCalls, sendSplittingOnRefusal, type GatheringOptions, type ItemOutcome } from './gatheredCalls';

/**
 * The worker's creator of rows of one table that has neither an alternate key the sync writes by nor a `*Multiple`
 * message (a product's price-list item, issue 15): record activities running at the same time hand it a new row, the
 * rows gather for a moment (`gatheredCalls.ts`) and leave as one continue-on-error `$batch` of POSTs, and each
 * activity gets its own row's id or the error Dataverse gave its part (a duplicate refused alone, the others
 * created). A `$batch` counts once toward the request limit; each part is charged its own server time.
 *
 * A call whose answer was lost fails every row of it, as a lost answer of a single POST fails its row: each
 * activity's retry looks for its row before creating it, as it did with a request of its own.
 */
export interface BulkCreateOptions extends GatheringOptions {
  /** Rows in one call at most (default 100; Dataverse takes 1,000 operations in a `$batch`). */
  maxRows?: number;
}

export class BulkRowCreator {
  private readonly calls: GatheredCalls<DataverseRow, string>;

  /** `dataverse` is the worker's own client: one call carries the rows of many attempts. */
  constructor(
    private readonly dataverse: DataverseClient,
    readonly entitySet: string,
    options: BulkCreateOptions = {},
  ) {
    const maxRows = Math.max(1, Math.min(options.maxRows ?? 100, 1000));
    this.calls = new GatheredCalls<DataverseRow, string>(
      {
        fills: (waiting) => waiting.length >= maxRows,
        take: (waiting) => ({ call: waiting.slice(0, maxRows), rest: waiting.slice(maxRows) }),
        // Each part of a continue-on-error batch answers for itself: nothing to split.
        send: (call) =>
          sendSplittingOnRefusal(
            call,
            (rows) => this.batch(rows),
            () => false,
          ),
        cancelled: (when) =>
          new DataverseCancelledError({
            connection: dataverse.connection,
            method: 'POST',
            path: entitySet,
            status: 0,
            code: '',
            message: `the activity attempt was cancelled ${when}`,
          }),
      },
      { label: `${entitySet} $batch creates`, ...options },
    );
  }

  /** Creates the row in a call shared with other activities' rows; resolves with its id. */
  create(row: DataverseRow): Promise<{ id: string }> {
    return this.calls.submit(row).then((id) => ({ id }));
  }

  private async batch(rows: readonly DataverseRow[]): Promise<Array<ItemOutcome<string>>> {
    const results = await this.dataverse.batch(
      rows.map((body) => ({ method: 'POST', path: this.entitySet, body })),
      { atomic: false },
    );
    return results.map((result): ItemOutcome<string> => {
      if (result.error) return { error: result.error };
      if (result.status >= 400 || !result.id) {
        return {
          error: new DataverseError({
            connection: this.dataverse.connection,
            method: 'POST',
            path: this.entitySet,
            status: result.status,
            code: '',
            message: result.id ? `a $batch part answered ${result.status}` : 'a created row came without its id',
          }),
        };
      }
      return { value: result.id };
    });
  }
}

/**
 * The worker's caller of one unbound action that makes a row, such as `ConvertSalesOrderToInvoice` (issue 15): record
 * activities running at the same time hand it their action's parameters, the calls gather for a moment and leave as
 * one continue-on-error `$batch` of POSTs, and each activity gets its own part's answer or the error Dataverse gave
 * it (a canceled order's conversion refused alone, the others made).
 *
 * A call whose answer was lost fails every action of it, as a lost answer of a single POST fails its action: each
 * activity's retry looks for what its action made before calling it again, as it did with a request of its own.
 */
export class BulkActionCalls {
  private readonly calls: GatheredCalls<unknown, unknown>;

  /** `dataverse` is the worker's own client: one call carries the actions of many attempts. */
  constructor(
    private readonly dataverse: DataverseClient,
    readonly action: string,
    options: BulkCreateOptions = {},
  ) {
    const maxRows = Math.max(1, Math.min(options.maxRows ?? 100, 1000));
    this.calls = new GatheredCalls<unknown, unknown>(
      {
        fills: (waiting) => waiting.length >= maxRows,
        take: (waiting) => ({ call: waiting.slice(0, maxRows), rest: waiting.slice(maxRows) }),
        // Each part of a continue-on-error batch answers for itself: nothing to split.
        send: (call) =>
          sendSplittingOnRefusal(
            call,
            (bodies) => this.batch(bodies),
            () => false,
          ),
        cancelled: (when) =>
          new DataverseCancelledError({
            connection: dataverse.connection,
            method: 'POST',
            path: action,
            status: 0,
            code: '',
            message: `the activity attempt was cancelled ${when}`,
          }),
      },
      { label: `${action} $batch calls`, ...options },
    );
  }

  /** Calls the action with `body` in a call shared with other activities' actions; resolves with its answer. */
  call(body: unknown): Promise<unknown> {
    return this.calls.submit(body);
  }

  private async batch(bodies: readonly unknown[]): Promise<Array<ItemOutcome<unknown>>> {
    const results = await this.dataverse.batch(
      bodies.map((body) => ({ method: 'POST', path: this.action, body })),
      { atomic: false },
    );
    return results.map((result): ItemOutcome<unknown> => {
      if (result.error) return { error: result.error };
      if (result.status >= 400) {
        return {
          error: new DataverseError({
            connection: this.dataverse.connection,
            method: 'POST',
            path: this.action,
            status: result.status,
            code: '',
            message: `a $batch part answered ${result.status}`,
          }),
        };
      }
      return { value: result.body };
    });
  }
}
