import { type AttemptContext } from '../dataverse/client';
import { DataverseThrottledError } from '../dataverse/errors';
import { childLogger } from '../observability/logger';

/**
 * The one way the worker shares a Dataverse request between record activities (issue 15): activities running at the
 * same time hand in one item each (a row to write, a value to look up), the items gather for a moment, leave as one
 * call, and each activity gets its own item's result or error. The bulk readers (`bulkReads.ts`), the bulk upserts
 * (`bulkUpserts.ts`) and the bulk updates (`bulkUpdates.ts`) differ only in how a call is shaped and sent; when items
 * wait, leave and are cancelled is decided here.
 *
 * Items leave when no other item has joined them for `gatherMs`, or `maxGatherMs` after the first of them, whichever
 * comes first, and only while fewer than `callsInFlight` calls are out; items whose time came while that many were out
 * leave when one of them ends. A call the shape says is full leaves at once.
 *
 * Why a quiet period rather than a fixed wait from the first item: in the scale-0.1 benchmark the record activities
 * reach each step about 400 ms apart (the worker is CPU-bound on Temporal's side, not waiting on Dataverse), so a fixed
 * 250 ms from the first item sent about two rows a call (529 `accounts/UpsertMultiple` calls for 1,014 accounts), and
 * items gathered while a call was out left as soon as it ended, a few ms later. While items keep coming a call keeps
 * growing, up to `maxGatherMs`; a lone item (a webhook's record, the last of a wave) waits `gatherMs` only.
 *
 * Why calls are bounded (`callTimeoutMs`): a waiting item heartbeats for its attempt, so nothing in Temporal ends a
 * wait that never ends. A call that never answered would hold its place among the `callsInFlight` for good, and once
 * every place was held, every later item of every activity would wait for ever. Past the bound the call's items fail
 * (their activities retry them, as after a lost answer) and its place is freed. An item still waiting after
 * `slowAfterMs` is logged with the gatherer's state, so a wait that should not be is seen.
 */

export interface GatheringOptions {
  /** How long items wait for another to join them before they leave (default 500 ms). */
  gatherMs?: number;
  /** How long the first item of a call waits at most, however many keep joining (default 5,000 ms or gatherMs). */
  maxGatherMs?: number;
  /** Calls in flight at once (default 2); items whose time came while they are out leave when one ends. */
  callsInFlight?: number;
  /** The activity attempt an item is handed in from: it heartbeats while its item waits, and a cancelled one leaves. */
  attemptOf?: () => AttemptContext | undefined;
  /** How long a call may stay out before its items fail and its place is freed (default 5 minutes). */
  callTimeoutMs?: number;
  /** How long an item may wait before it is logged as slow, with the gatherer's state (default 60 s). */
  slowAfterMs?: number;
  /** What is gathered, for logs and errors (a table and a kind of call; never a row's values). */
  label?: string;
  /** The clock items are timed by (ms; default `Date.now`): tests step it to reach the edges of a quiet period. */
  now?: () => number;
}

/** A gathered call had no answer within its bound; its items' activities retry them. */
class GatheredCallTimedOutError extends Error {
  override readonly name = 'GatheredCallTimedOutError';
}

/** One item waiting for its call, and how its caller learns the outcome. */
export interface GatheredItem<I, R> {
  readonly item: I;
  /** True once the caller has its outcome (its call answered, or its attempt was cancelled). */
  readonly settled: boolean;
  resolve(result: R): void;
  reject(error: Error): void;
}

/** What one kind of gathered call is: when items fill it, which of them go together, and how it is sent. */
export interface CallShape<I, R> {
  /** Whether the items waiting (the latest just added) already fill a call: it then leaves without waiting. */
  fills(waiting: readonly I[], latest: I): boolean;
  /** The next call from what waits, in arrival order (the rest keep waiting); must take at least the first item. */
  take(waiting: readonly GatheredItem<I, R>[]): { call: GatheredItem<I, R>[]; rest: GatheredItem<I, R>[] };
  /** Sends one call and settles each of its items; items already settled (cancelled meanwhile) are left out. */
  send(call: readonly GatheredItem<I, R>[]): Promise<void>;
  /** The error a cancelled attempt's caller gets; `when` says where its item was. */
  cancelled(when: string): Error;
}

/** Heartbeat period of an attempt waiting for its item, well inside the activities' one-minute heartbeat timeout. */
const WAITING_HEARTBEAT_MS = 5_000;

const log = childLogger({ component: 'gathered-calls' });

export class GatheredCalls<I, R> {
  private waiting: Array<GatheredItem<I, R>> = [];
  private timer: NodeJS.Timeout | undefined = undefined;
  private inFlight = 0;
  /** When the oldest waiting item was handed in, and the latest (ms, `now()`); 0 while none waits. */
  private firstAt = 0;
  private latestAt = 0;
  /** What waits fills a call: it leaves as soon as a call slot is free. */
  private full = false;
  private readonly gatherMs: number;
  private readonly maxGatherMs: number;
  private readonly callsInFlight: number;
  private readonly attemptOf: () => AttemptContext | undefined;
  private readonly callTimeoutMs: number;
  private readonly slowAfterMs: number;
  private readonly label: string;
  private readonly now: () => number;
  /** When each call now out was sent (ms, `now()`). */
  private readonly out = new Set<{ since: number }>();

  constructor(
    private readonly shape: CallShape<I, R>,
    options: GatheringOptions = {},
  ) {
    this.gatherMs = Math.max(0, options.gatherMs ?? 500);
    this.maxGatherMs = Math.max(0, options.maxGatherMs ?? Math.max(5_000, this.gatherMs));
    this.callsInFlight = Math.max(1, options.callsInFlight ?? 2);
    this.attemptOf = options.attemptOf ?? (() => undefined);
    this.callTimeoutMs = Math.max(1, options.callTimeoutMs ?? 300_000);
    this.slowAfterMs = Math.max(1, options.slowAfterMs ?? 60_000);
    this.label = options.label ?? 'gathered calls';
    this.now = options.now ?? Date.now;
  }

  /** What the gatherer is doing, for a slow item's log: counts and times only. */
  private state(now: number): Record<string, string | number | boolean> {
    let oldestCallMs = 0;
    for (const { since } of this.out) oldestCallMs = Math.max(oldestCallMs, now - since);
    return {
      waiting: this.waiting.length,
      inFlight: this.inFlight,
      oldestCallMs,
      full: this.full,
      dueInMs: this.waiting.length > 0 ? this.dueAt() - now : 0,
      timerSet: this.timer !== undefined,
    };
  }

  /** Items waiting for a call (not yet sent). */
  get waitingCount(): number {
    return this.waiting.length;
  }

  /** Hands in one item; settles with its own result once its call has answered. */
  submit(item: I): Promise<R> {
    const attempt = this.attemptOf();
    return new Promise<R>((resolve, reject) => {
      if (attempt?.signal.aborted) {
        reject(this.shape.cancelled('before it was handed in'));
        return;
      }
      attempt?.heartbeat?.();
      const beat = attempt?.heartbeat ? setInterval(attempt.heartbeat, WAITING_HEARTBEAT_MS) : undefined;
      beat?.unref();
      const handedInAt = this.now();
      const slow = setTimeout(() => {
        const now = this.now();
        log.warn(
          { label: this.label, waitedMs: now - handedInAt, queued: this.waiting.includes(entry), ...this.state(now) },
          'an item has waited long for its gathered call',
        );
      }, this.slowAfterMs);
      slow.unref();
      let settled = false;
      const finish = (): boolean => {
        if (settled) return false;
        settled = true;
        if (beat) clearInterval(beat);
        clearTimeout(slow);
        attempt?.signal.removeEventListener('abort', onAbort);
        return true;
      };
      const entry: GatheredItem<I, R> = {
        item,
        get settled() {
          return settled;
        },
        resolve: (result) => {
          if (finish()) resolve(result);
        },
        reject: (error) => {
          if (finish()) reject(error);
        },
      };
      const onAbort = (): void => {
        // An item not sent yet leaves its call; one already sent may still take effect, as an aborted request may.
        const at = this.waiting.indexOf(entry);
        if (at >= 0) this.waiting.splice(at, 1);
        entry.reject(this.shape.cancelled(at >= 0 ? 'before its call was sent' : 'while its call was out'));
      };
      attempt?.signal.addEventListener('abort', onAbort, { once: true });
      const now = this.now();
      if (this.waiting.length === 0) this.firstAt = now;
      this.latestAt = now;
      this.waiting.push(entry);
      if (
        this.shape.fills(
          this.waiting.map((w) => w.item),
          item,
        )
      ) {
        this.full = true;
        this.flush();
      } else {
        this.schedule();
      }
    });
  }

  /** When what waits is due to leave: `gatherMs` after the latest item, `maxGatherMs` after the first at most. */
  private dueAt(): number {
    return Math.min(this.latestAt + this.gatherMs, this.firstAt + this.maxGatherMs);
  }

  /** (Re)sets the timer to the moment what waits is due. */
  private schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.waiting.length === 0) return;
    this.timer = setTimeout(() => this.flush(), Math.max(0, this.dueAt() - this.now()));
  }

  /**
   * Sends what has gathered once it is due or fills a call, while fewer than `callsInFlight` calls are out; what is
   * not due yet waits for its timer, and what finds every call slot taken waits for a call to end.
   */
  private flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    while (this.waiting.length > 0 && this.inFlight < this.callsInFlight && (this.full || this.now() >= this.dueAt())) {
      const { call, rest } = this.shape.take(this.waiting);
      if (call.length === 0) throw new Error('a gathered call took none of the waiting items');
      this.waiting = rest;
      this.send(call);
      if (this.full) {
        // What a full call left behind gathers afresh; what was due when a call left stays due.
        this.full = false;
        this.firstAt = this.now();
        this.latestAt = this.firstAt;
      }
    }
    // Whatever still waits with a place free waits for its timer: the end of a call flushes only while every place is
    // taken. Never decided by reading the clock again: a reading a millisecond later than the loop's may find the items
    // due that the loop found not yet due, and then nothing would ever send them (issue 15, CI hangs of session 9).
    if (this.waiting.length > 0 && this.inFlight < this.callsInFlight) this.schedule();
  }

  /** Sends one call in its place among the `callsInFlight`, freed when it answers or outlives `callTimeoutMs`. */
  private send(call: readonly GatheredItem<I, R>[]): void {
    const out = { since: this.now() };
    this.out.add(out);
    this.inFlight += 1;
    let freed = false;
    const free = (): void => {
      if (freed) return;
      freed = true;
      clearTimeout(bound);
      this.out.delete(out);
      this.inFlight -= 1;
      this.flush();
    };
    const bound = setTimeout(() => {
      const error = new GatheredCallTimedOutError(
        `${this.label}: a call of ${call.length} items had no answer after ${Math.round(this.callTimeoutMs / 1000)} s`,
      );
      log.error({ label: this.label, items: call.length, ms: this.callTimeoutMs }, error.message);
      for (const c of call) c.reject(error);
      free();
    }, this.callTimeoutMs);

    void this.sendSettlingAll(call).finally(free);
  }

  /** A shape's send that throws fails its items rather than leaving their callers waiting forever. */
  private async sendSettlingAll(call: readonly GatheredItem<I, R>[]): Promise<void> {
    const live = call.filter((c) => !c.settled);
    if (live.length === 0) return;
    try {
      await this.shape.send(live);
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      for (const c of live) c.reject(error);
    }
  }
}

/** One item's outcome of a call that answers item by item (a `$batch` with continue-on-error). */
export type ItemOutcome<R> = { value: R } | { error: Error };

/** Times a gathered call is sent again after Dataverse throttled it, as a lone request is (the client's default). */
const THROTTLED_SENDS = 10;

/**
 * How long a throttled call waits before it goes again: Retry-After (or the client's first back-off where Dataverse
 * gave none), doubling while the throttling goes on, as a lone request's back-off does, up to a minute.
 */
function throttledWaitMs(retryAfterMs: number, throttledBefore: number): number {
  return Math.max(retryAfterMs, Math.min(retryAfterMs * 2 ** throttledBefore, 60_000));
}

/**
 * Sends `call` with `attempt`, which answers one outcome per item in their order. When the whole call is refused
 * because of one of its items (`refusedByAnItem`: on a standard table a bulk message is all or nothing), it is split
 * in halves and they are sent again, in order (a later item may rely on an earlier one), until the refused item is
 * alone and fails by itself with the server's reason. A call Dataverse throttled (its client is `forSharedCalls`)
 * goes again after Retry-After with the items still waiting only: an item whose attempt was cancelled meanwhile is not
 * written after. Any other failure fails every item of the call as it is: each caller's retry
 * hands its item in again.
 */
export async function sendSplittingOnRefusal<I, R>(
  call: readonly GatheredItem<I, R>[],
  attempt: (items: readonly I[]) => Promise<ReadonlyArray<ItemOutcome<R>>>,
  refusedByAnItem: (error: Error) => boolean,
  onSplit?: (items: number, error: Error) => void,
): Promise<void> {
  let live = call.filter((c) => !c.settled);
  if (live.length === 0) return;
  let outcomes: ReadonlyArray<ItemOutcome<R>>;
  for (let throttled = 0; ; throttled++) {
    try {
      outcomes = await attempt(live.map((c) => c.item));
      break;
    } catch (err) {
      if (!(err instanceof DataverseThrottledError) || throttled >= THROTTLED_SENDS) {
        return failOrSplit(live, err, attempt, refusedByAnItem, onSplit);
      }
      // The governor holds every start for as long; waiting here instead keeps the call unbuilt meanwhile, so the
      // items whose attempts end while it waits are left out of it.
      await new Promise((resolve) => setTimeout(resolve, throttledWaitMs(err.retryAfterMs, throttled)));
      live = live.filter((c) => !c.settled);
      if (live.length === 0) return;
    }
  }
  if (outcomes.length !== live.length) {
    const error = new Error(`a gathered call answered ${outcomes.length} outcomes for ${live.length} items`);
    for (const c of live) c.reject(error);
    return;
  }
  live.forEach((c, i) => {
    const outcome = outcomes[i]!;
    if ('error' in outcome) c.reject(outcome.error);
    else c.resolve(outcome.value);
  });
}

/** A call refused as a whole: split when one of its items is the cause, else every item fails with the error. */
async function failOrSplit<I, R>(
  live: readonly GatheredItem<I, R>[],
  err: unknown,
  attempt: (items: readonly I[]) => Promise<ReadonlyArray<ItemOutcome<R>>>,
  refusedByAnItem: (error: Error) => boolean,
  onSplit?: (items: number, error: Error) => void,
): Promise<void> {
  const error = err instanceof Error ? err : new Error(String(err));
  if (live.length > 1 && refusedByAnItem(error)) {
    onSplit?.(live.length, error);
    const half = Math.ceil(live.length / 2);
    await sendSplittingOnRefusal(live.slice(0, half), attempt, refusedByAnItem, onSplit);
    await sendSplittingOnRefusal(live.slice(half), attempt, refusedByAnItem, onSplit);
    return;
  }
  for (const c of live) c.reject(error);
}
