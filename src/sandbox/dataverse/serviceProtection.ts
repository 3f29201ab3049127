import { DataverseError, ErrorCodes } from './dataverseError';

export interface ServiceProtectionLimits {
  requestsPerWindow: number;
  windowSeconds: number;
  concurrent: number;
  /** Combined server time one user may use per window (Dataverse: 1,200,000 ms per 300 s). */
  executionMsPerWindow?: number;
}

export const DEFAULT_LIMITS: ServiceProtectionLimits = {
  requestsPerWindow: 6000,
  windowSeconds: 300,
  concurrent: 52,
  executionMsPerWindow: 1_200_000,
};

/**
 * The server time the sandbox charges, since it cannot measure a real organisation's. A documented assumption, not a
 * Microsoft figure: a single write costs tens of milliseconds on a quiet organisation and a row of a `*Multiple`
 * request less than a single write, because the platform handles the rows in one transaction.
 */
export interface ServerTimeCharges {
  /** Every request (and every operation inside a `$batch`), default 50 ms. */
  perRequestMs: number;
  /** Every row of a CreateMultiple / UpdateMultiple / UpsertMultiple, on top of its request, default 10 ms. */
  perRowMs: number;
}

export const DEFAULT_SERVER_TIME: ServerTimeCharges = { perRequestMs: 50, perRowMs: 10 };

interface UserUsage {
  /** Arrival times (ms) inside the sliding window, oldest first. */
  arrivals: number[];
  /** Server time charged (ms) with the time it was charged, oldest first. */
  charges: Array<{ at: number; ms: number }>;
  chargedMs: number;
  inFlight: number;
}

/** What an admitted request holds: charge its server time, then end it. */
export interface Admission {
  charge(ms: number): void;
  end(): void;
}

/**
 * Dataverse's service-protection limits, counted per application user (the token's client id): requests and
 * combined execution time over a sliding window, and concurrent requests. A rejected request is not counted, so
 * waiting Retry-After always helps. As in Dataverse, the time limit is enforced on arrival from what earlier requests
 * used, so one request can overshoot it briefly.
 */
export class ServiceProtection {
  private readonly users = new Map<string, UserUsage>();
  requests = 0;
  throttled = 0;
  /** Server time charged since start, all users (ms). */
  serverTimeMs = 0;

  constructor(private limits: ServiceProtectionLimits) {}

  setLimits(limits: ServiceProtectionLimits): void {
    this.limits = limits;
  }

  /** Admits a request or throws the 429. */
  admit(user: string, now = Date.now()): Admission {
    this.requests += 1;
    let usage = this.users.get(user);
    if (usage === undefined) {
      usage = { arrivals: [], charges: [], chargedMs: 0, inFlight: 0 };
      this.users.set(user, usage);
    }
    const windowMs = this.limits.windowSeconds * 1000;
    while (usage.arrivals.length > 0 && (usage.arrivals[0] ?? 0) <= now - windowMs) usage.arrivals.shift();
    while (usage.charges.length > 0 && (usage.charges[0]?.at ?? 0) <= now - windowMs) {
      usage.chargedMs -= usage.charges.shift()?.ms ?? 0;
    }
    if (usage.inFlight >= this.limits.concurrent) {
      this.throttled += 1;
      throw new DataverseError(
        429,
        ErrorCodes.concurrencyThrottled,
        `Number of concurrent requests exceeded the limit of ${this.limits.concurrent}.`,
        {
          'Retry-After': '1',
        },
      );
    }
    if (usage.arrivals.length >= this.limits.requestsPerWindow) {
      this.throttled += 1;
      const oldest = usage.arrivals[0] ?? now;
      const retryAfter = Math.max(1, Math.ceil((oldest + windowMs - now) / 1000));
      throw new DataverseError(
        429,
        ErrorCodes.requestsThrottled,
        `Number of requests exceeded the limit of ${this.limits.requestsPerWindow} over time window of ${this.limits.windowSeconds} seconds.`,
        { 'Retry-After': String(retryAfter) },
      );
    }
    const executionLimit = this.limits.executionMsPerWindow ?? Infinity;
    if (usage.chargedMs >= executionLimit) {
      this.throttled += 1;
      // Wait until enough of the oldest charges have left the window to bring the total back under the limit.
      let excess = usage.chargedMs - executionLimit;
      let until = now;
      for (const charge of usage.charges) {
        until = charge.at + windowMs;
        excess -= charge.ms;
        if (excess < 0) break;
      }
      const retryAfter = Math.max(1, Math.ceil((until - now) / 1000));
      throw new DataverseError(
        429,
        ErrorCodes.executionTimeThrottled,
        `Combined execution time of incoming requests exceeded limit of ${executionLimit.toLocaleString('en-US')} milliseconds over time window of ${this.limits.windowSeconds} seconds. Decrease number of concurrent requests or reduce the duration of requests and try again later.`,
        { 'Retry-After': String(retryAfter) },
      );
    }
    usage.arrivals.push(now);
    usage.inFlight += 1;
    const current = usage;
    let ended = false;
    return {
      charge: (ms) => {
        if (ms <= 0) return;
        current.charges.push({ at: Date.now(), ms });
        current.chargedMs += ms;
        this.serverTimeMs += ms;
      },
      end: () => {
        if (ended) return;
        ended = true;
        current.inFlight -= 1;
      },
    };
  }
}
