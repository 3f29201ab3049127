/**
 * One governor per application user per worker process: Dataverse counts service-protection limits per user
 * (reference §6), so every client of that user must draw from the same budget and honour the same Retry-After.
 *
 * Pacing is a sliding log: a request may start when fewer than `budget` requests are in flight or finished within
 * the last `windowMs`. Dataverse counts a request when it *arrives*, somewhere between our start and our finish, and
 * under load that delay varies by hundreds of milliseconds; a log of start times would let a window that Dataverse
 * still counts be refilled early and draw 429s (each costing every caller a Retry-After pause). Counting a request
 * until it has finished keeps Dataverse's window at or under the budget whatever the latency, at the price of one
 * latency per window. A quiet worker can still use its whole budget at once instead of idling at an average rate;
 * the concurrency cap keeps such bursts shallow.
 *
 * Dataverse also limits each user's combined server time (1,200,000 ms per 300 s). The client cannot see server
 * time, so the governor plans by an estimate: each request, and each row of a bulk request, costs what
 * `estimatedServerTime` says, counted like requests (in flight, then for a window after it finished). A request
 * whose cost would overrun the time budget waits, so a run of bulk calls slows down before Dataverse answers 429.
 */

/** Server time the governor assumes per request and per bulk row (the sandbox charges the same by default). */
export interface ServerTimeEstimate {
  perRequestMs: number;
  perRowMs: number;
}

export interface GovernorClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const systemClock: GovernorClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    // A pending pacing timer must not keep a finished process alive.
    t.unref();
    return t;
  },
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export interface RateGovernorOptions {
  maxConcurrent?: number;
  requestsPerWindow?: number;
  windowMs?: number;
  /** Fraction of `requestsPerWindow` we allow ourselves, leaving room for other tools using the same user. */
  safetyMargin?: number;
  /** Horizon over which `currentPacePerSecond` is measured. */
  paceHorizonMs?: number;
  clock?: GovernorClock;
  /** Metrics label telling governors apart: one per application user, so the client id or a connection name. */
  name?: string;
  /** Dataverse's execution-time limit per window (ms), default 1,200,000; `safetyMargin` applies to it too. */
  executionMsPerWindow?: number;
  estimatedServerTime?: ServerTimeEstimate;
}

/** What one request asks of the server: a `$batch` carries its operation count, a bulk message its row count. */
export interface RequestWeight {
  operations?: number;
  rows?: number;
}

export interface GovernorSnapshot {
  inFlight: number;
  waiting: number;
  throttledResponses: number;
  /** Requests started since the governor was made. */
  started: number;
  currentPacePerSecond: number;
  /** Epoch ms until which no request starts; 0 when not paused. */
  pausedUntil: number;
  /** Estimated server time (ms) in flight or finished within the window, against `executionBudgetMs`. */
  serverTimeMs: number;
}

interface Waiter {
  start: () => void;
  /** Estimated server time (ms). */
  cost: number;
}

export class RateGovernor {
  readonly maxConcurrent: number;
  readonly windowMs: number;
  /** Requests we allow to start in any `windowMs`. */
  readonly budget: number;
  private readonly paceHorizonMs: number;
  private readonly clock: GovernorClock;
  readonly name: string;
  private readonly queue: Waiter[] = [];
  /** Finish times inside the current window, oldest first: what still counts against the budget once done. */
  private readonly finishes = new TimeLog();
  /** Start times inside the pace horizon, for `currentPacePerSecond` only. */
  private readonly starts = new TimeLog();
  private started = 0;
  private inFlight = 0;
  private throttledResponses = 0;
  private pausedUntil = 0;
  private timer: unknown = undefined;
  private timerAt = 0;
  /** Estimated server time allowed in any `windowMs`. */
  readonly executionBudgetMs: number;
  private readonly estimate: ServerTimeEstimate;
  /** Estimated server time of finished requests inside the window, by finish time. */
  private readonly finishedCosts = new CostLog();
  private inFlightCost = 0;

  constructor(options: RateGovernorOptions = {}) {
    this.maxConcurrent = positiveInt(options.maxConcurrent ?? 16, 'maxConcurrent');
    const perWindow = positiveInt(options.requestsPerWindow ?? 6000, 'requestsPerWindow');
    this.windowMs = positiveInt(options.windowMs ?? 300_000, 'windowMs');
    const margin = options.safetyMargin ?? 0.95;
    if (!(margin > 0 && margin <= 1)) throw new RangeError(`safetyMargin must be in (0, 1], got ${margin}`);
    this.budget = Math.max(1, Math.floor(perWindow * margin));
    this.paceHorizonMs = Math.min(options.paceHorizonMs ?? 10_000, this.windowMs);
    this.clock = options.clock ?? systemClock;
    this.name = options.name ?? 'default';
    this.executionBudgetMs = Math.max(1, Math.floor((options.executionMsPerWindow ?? 1_200_000) * margin));
    this.estimate = options.estimatedServerTime ?? { perRequestMs: 50, perRowMs: 10 };
  }

  /** Estimated server time of one request of this weight (ms). */
  costOf(weight: RequestWeight = {}): number {
    return (weight.operations ?? 1) * this.estimate.perRequestMs + (weight.rows ?? 0) * this.estimate.perRowMs;
  }

  run<T>(fn: () => Promise<T>, weight: RequestWeight = {}): Promise<T> {
    const cost = this.costOf(weight);
    return new Promise<T>((resolve, reject) => {
      this.queue.push({
        cost,
        start: () => {
          let result: Promise<T>;
          try {
            result = fn();
          } catch (err) {
            result = Promise.reject(err);
          }
          result.then(resolve, reject).finally(() => {
            this.inFlight -= 1;
            this.inFlightCost -= cost;
            const now = this.clock.now();
            this.finishes.push(now);
            this.finishedCosts.push(now, cost);
            this.pump();
          });
        },
      });
      this.pump();
    });
  }

  /** A 429/503 came back: hold every new start until Retry-After has passed. */
  throttled(retryAfterMs: number): void {
    this.throttledResponses += 1;
    const until = this.clock.now() + Math.max(0, retryAfterMs);
    if (until > this.pausedUntil) this.pausedUntil = until;
    this.pump();
  }

  snapshot(): GovernorSnapshot {
    const now = this.clock.now();
    return {
      inFlight: this.inFlight,
      waiting: this.queue.length,
      throttledResponses: this.throttledResponses,
      started: this.started,
      currentPacePerSecond: this.pace(now),
      pausedUntil: this.pausedUntil > now ? this.pausedUntil : 0,
      serverTimeMs: this.inFlightCost + this.finishedCosts.totalAfter(now - this.windowMs),
    };
  }

  private pump(): void {
    while (this.queue.length > 0 && this.inFlight < this.maxConcurrent) {
      const now = this.clock.now();
      if (now < this.pausedUntil) return this.wakeAt(this.pausedUntil);
      this.finishes.forgetUpTo(now - this.windowMs);
      if (this.inFlight + this.finishes.size >= this.budget) {
        // With the budget all in flight nothing frees up by time alone: the next finish pumps again.
        const oldest = this.finishes.oldest();
        return oldest === undefined ? undefined : this.wakeAt(oldest + this.windowMs);
      }
      this.finishedCosts.forgetUpTo(now - this.windowMs);
      const next = this.queue[0];
      const spent = this.inFlightCost + this.finishedCosts.total;
      if (next && spent > 0 && spent + next.cost > this.executionBudgetMs) {
        // Over the time budget: wait for the oldest finished cost to leave the window (or for a finish to pump).
        const oldest = this.finishedCosts.oldest();
        return oldest === undefined ? undefined : this.wakeAt(oldest + this.windowMs);
      }
      const waiter = this.queue.shift();
      if (!waiter) return;
      this.inFlightCost += waiter.cost;
      this.starts.forgetUpTo(now - this.paceHorizonMs);
      this.starts.push(now);
      this.started += 1;
      this.inFlight += 1;
      waiter.start();
    }
  }

  private wakeAt(at: number): void {
    if (this.timer !== undefined && this.timerAt <= at) return;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = this.clock.setTimeout(
      () => {
        this.timer = undefined;
        this.pump();
      },
      Math.max(0, at - this.clock.now()),
    );
  }

  private pace(now: number): number {
    return this.starts.countAfter(now - this.paceHorizonMs) / (this.paceHorizonMs / 1000);
  }
}

/** Costs by ascending time with their running total; expiry from the front like TimeLog. */
class CostLog {
  private entries: Array<{ at: number; cost: number }> = [];
  private head = 0;
  total = 0;

  push(at: number, cost: number): void {
    const last = this.entries[this.entries.length - 1];
    this.entries.push({ at: last !== undefined && last.at > at ? last.at : at, cost });
    this.total += cost;
  }

  oldest(): number | undefined {
    return this.entries[this.head]?.at;
  }

  totalAfter(cutoff: number): number {
    let total = 0;
    for (let i = this.entries.length - 1; i >= this.head; i -= 1) {
      const entry = this.entries[i];
      if (entry === undefined || entry.at <= cutoff) break;
      total += entry.cost;
    }
    return total;
  }

  forgetUpTo(cutoff: number): void {
    while (this.head < this.entries.length && (this.entries[this.head]?.at ?? Infinity) <= cutoff) {
      this.total -= this.entries[this.head]?.cost ?? 0;
      this.head += 1;
    }
    if (this.head > 1024 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
  }
}

/** Ascending times with cheap expiry from the front: `head` skips expired entries without shifting. */
class TimeLog {
  private times: number[] = [];
  private head = 0;

  get size(): number {
    return this.times.length - this.head;
  }

  push(t: number): void {
    // A clock stepping back must not unsort the log (expiry reads only the front).
    const last = this.times[this.times.length - 1];
    this.times.push(last !== undefined && last > t ? last : t);
  }

  oldest(): number | undefined {
    return this.head < this.times.length ? this.times[this.head] : undefined;
  }

  forgetUpTo(cutoff: number): void {
    while (this.head < this.times.length && (this.times[this.head] ?? Infinity) <= cutoff) this.head += 1;
    // Compact now and then so the log stays O(window) in memory.
    if (this.head > 1024 && this.head * 2 > this.times.length) {
      this.times = this.times.slice(this.head);
      this.head = 0;
    }
  }

  countAfter(cutoff: number): number {
    let count = 0;
    for (let i = this.times.length - 1; i >= this.head; i -= 1) {
      if ((this.times[i] ?? -Infinity) <= cutoff) break;
      count += 1;
    }
    return count;
  }
}

function positiveInt(v: number, name: string): number {
  if (!Number.isFinite(v) || v < 1) throw new RangeError(`${name} must be a positive number, got ${v}`);
  return Math.floor(v);
}
