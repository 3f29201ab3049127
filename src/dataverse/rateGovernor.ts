import { Counter, Gauge, type Registry } from 'prom-client';

/**
 * One governor per application user per worker process: Dataverse counts service-protection limits per user
 * (reference §6), so every client of that user must draw from the same budget and honour the same Retry-After.
 *
 * Pacing is a sliding log of start times: a request may start when fewer than `budget` requests started in the
 * last `windowMs`. That never exceeds the budget in any window, yet lets a quiet worker use its whole budget at
 * once instead of idling at an average rate; the concurrency cap keeps such bursts shallow.
 */

export interface GovernorClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: GovernorClock = {
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
  registry?: Registry;
}

export interface GovernorSnapshot {
  inFlight: number;
  waiting: number;
  throttledResponses: number;
  currentPacePerSecond: number;
  /** Epoch ms until which no request starts; 0 when not paused. */
  pausedUntil: number;
}

interface Waiter {
  start: () => void;
}

export class RateGovernor {
  readonly maxConcurrent: number;
  readonly windowMs: number;
  /** Requests we allow to start in any `windowMs`. */
  readonly budget: number;
  private readonly paceHorizonMs: number;
  private readonly clock: GovernorClock;
  private readonly queue: Waiter[] = [];
  /** Start times inside the current window, oldest first; `head` skips expired entries without shifting. */
  private starts: number[] = [];
  private head = 0;
  private inFlight = 0;
  private throttledResponses = 0;
  private pausedUntil = 0;
  private timer: unknown = undefined;
  private timerAt = 0;

  constructor(options: RateGovernorOptions = {}) {
    this.maxConcurrent = positiveInt(options.maxConcurrent ?? 16, 'maxConcurrent');
    const perWindow = positiveInt(options.requestsPerWindow ?? 6000, 'requestsPerWindow');
    this.windowMs = positiveInt(options.windowMs ?? 300_000, 'windowMs');
    const margin = options.safetyMargin ?? 0.95;
    if (!(margin > 0 && margin <= 1)) throw new RangeError(`safetyMargin must be in (0, 1], got ${margin}`);
    this.budget = Math.max(1, Math.floor(perWindow * margin));
    this.paceHorizonMs = Math.min(options.paceHorizonMs ?? 10_000, this.windowMs);
    this.clock = options.clock ?? systemClock;
    if (options.registry) this.registerMetrics(options.registry);
  }

  run<T>(fn: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({
        start: () => {
          let result: Promise<T>;
          try {
            result = fn();
          } catch (err) {
            result = Promise.reject(err);
          }
          result.then(resolve, reject).finally(() => {
            this.inFlight -= 1;
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
      currentPacePerSecond: this.pace(now),
      pausedUntil: this.pausedUntil > now ? this.pausedUntil : 0,
    };
  }

  private pump(): void {
    while (this.queue.length > 0 && this.inFlight < this.maxConcurrent) {
      const now = this.clock.now();
      if (now < this.pausedUntil) return this.wakeAt(this.pausedUntil);
      this.forgetBefore(now - this.windowMs);
      if (this.starts.length - this.head >= this.budget) {
        const oldest = this.starts[this.head] ?? now;
        return this.wakeAt(oldest + this.windowMs);
      }
      const waiter = this.queue.shift();
      if (!waiter) return;
      this.starts.push(now);
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

  private forgetBefore(cutoff: number): void {
    while (this.head < this.starts.length && (this.starts[this.head] ?? Infinity) <= cutoff) this.head += 1;
    // Compact now and then so the log stays O(budget) in memory.
    if (this.head > 1024 && this.head * 2 > this.starts.length) {
      this.starts = this.starts.slice(this.head);
      this.head = 0;
    }
  }

  private pace(now: number): number {
    const cutoff = now - this.paceHorizonMs;
    let count = 0;
    for (let i = this.starts.length - 1; i >= this.head; i -= 1) {
      if ((this.starts[i] ?? -Infinity) <= cutoff) break;
      count += 1;
    }
    return count / (this.paceHorizonMs / 1000);
  }

  private registerMetrics(registry: Registry): void {
    const inFlight = (): number => this.inFlight;
    const waiting = (): number => this.queue.length;
    const throttled = (): number => this.throttledResponses;
    const pace = (): number => this.pace(this.clock.now());
    new Gauge({
      name: 'dataverse_governor_in_flight',
      help: 'Dataverse requests currently in flight through the rate governor',
      registers: [registry],
      collect() {
        this.set(inFlight());
      },
    });
    new Gauge({
      name: 'dataverse_governor_waiting',
      help: 'Dataverse requests waiting for a slot in the rate governor',
      registers: [registry],
      collect() {
        this.set(waiting());
      },
    });
    new Counter({
      name: 'dataverse_governor_throttled_total',
      help: 'Service-protection (429/503) responses reported to the rate governor',
      registers: [registry],
      collect() {
        this.reset();
        this.inc(throttled());
      },
    });
    new Gauge({
      name: 'dataverse_governor_pace_per_second',
      help: 'Dataverse request starts per second over the recent pace horizon',
      registers: [registry],
      collect() {
        this.set(pace());
      },
    });
  }
}

function positiveInt(v: number, name: string): number {
  if (!Number.isFinite(v) || v < 1) throw new RangeError(`${name} must be a positive number, got ${v}`);
  return Math.floor(v);
}
