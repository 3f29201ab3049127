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

/** One part of a continue-on-error `$batch`, as `DataverseClient.batch` answers it. */
type BatchPart = Awaited<ReturnType<DataverseClient['batch']>>[number];

/**
 * POSTs to `path` from activities running at the same time, gathered into continue-on-error `$batch` calls of at most
 * `maxRows` parts. Each part answers for itself (nothing to split); `valueOf` turns a part Dataverse accepted into the
 * caller's value, or says why it cannot.
 */
function gatheredPosts<T>(
  dataverse: DataverseClient,
  path: string,
  label: string,
  options: BulkCreateOptions,
  valueOf: (part: BatchPart) => { value: T } | { problem: string },
): GatheredCalls<unknown, T> {
  const maxRows = Math.max(1, Math.min(options.maxRows ?? 100, 1000));
  const refused = (status: number, message: string): DataverseError =>
    new DataverseError({ connection: dataverse.connection, method: 'POST', path, status, code: '', message });
  // A throttled call goes again without the items cancelled meanwhile (`sendSplittingOnRefusal`).
  const shared = dataverse.forSharedCalls();
  const batch = async (bodies: readonly unknown[]): Promise<Array<ItemOutcome<T>>> => {
    const parts = await shared.batch(
      bodies.map((body) => ({ method: 'POST', path, body })),
      { atomic: false },
    );
    return parts.map((part): ItemOutcome<T> => {
      if (part.error) return { error: part.error };
      if (part.status >= 400) return { error: refused(part.status, `a $batch part answered ${part.status}`) };
      const answer = valueOf(part);
      return 'value' in answer ? answer : { error: refused(part.status, answer.problem) };
    });
  };
  return new GatheredCalls<unknown, T>(
    {
      fills: (waiting) => waiting.length >= maxRows,
      take: (waiting) => ({ call: waiting.slice(0, maxRows), rest: waiting.slice(maxRows) }),
      send: (call) => sendSplittingOnRefusal(call, batch, () => false),
      cancelled: (when) =>
        new DataverseCancelledError({
          connection: dataverse.connection,
          method: 'POST',
          path,
          status: 0,
          code: '',
          message: `the activity attempt was cancelled ${when}`,
        }),
    },
    { label, ...options },
  );
}

export class BulkRowCreator {
  private readonly calls: GatheredCalls<unknown, string>;

  /** `dataverse` is the worker's own client: one call carries the rows of many attempts. */
  constructor(
    dataverse: DataverseClient,
    readonly entitySet: string,
    options: BulkCreateOptions = {},
  ) {
    this.calls = gatheredPosts<string>(dataverse, entitySet, `${entitySet} $batch creates`, options, (part) =>
      part.id ? { value: part.id } : { problem: 'a created row came without its id' },
    );
  }

  /** Creates the row in a call shared with other activities' rows; resolves with its id. */
  create(row: DataverseRow): Promise<{ id: string }> {
    return this.calls.submit(row).then((id) => ({ id }));
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
    dataverse: DataverseClient,
    readonly action: string,
    options: BulkCreateOptions = {},
  ) {
    this.calls = gatheredPosts(dataverse, action, `${action} $batch calls`, options, (part) => ({ value: part.body }));
  }

  /** Calls the action with `body` in a call shared with other activities' actions; resolves with its answer. */
  call(body: unknown): Promise<unknown> {
    return this.calls.submit(body);
  }
}
