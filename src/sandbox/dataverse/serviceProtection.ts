import { DataverseError, ErrorCodes } from './dataverseError';

export interface ServiceProtectionLimits {
  requestsPerWindow: number;
  windowSeconds: number;
  concurrent: number;
}

export const DEFAULT_LIMITS: ServiceProtectionLimits = { requestsPerWindow: 6000, windowSeconds: 300, concurrent: 52 };

interface UserUsage {
  /** Arrival times (ms) inside the sliding window, oldest first. */
  arrivals: number[];
  inFlight: number;
}

/**
 * Dataverse's service-protection limits, counted per application user (the token's client id): requests over a
 * sliding window and concurrent requests. A rejected request is not counted, so waiting Retry-After always helps.
 */
export class ServiceProtection {
  private readonly users = new Map<string, UserUsage>();
  requests = 0;
  throttled = 0;

  constructor(private limits: ServiceProtectionLimits) {}

  setLimits(limits: ServiceProtectionLimits): void {
    this.limits = limits;
  }

  /** Admits a request or throws the 429; the returned function ends the request. */
  admit(user: string, now = Date.now()): () => void {
    this.requests += 1;
    let usage = this.users.get(user);
    if (usage === undefined) {
      usage = { arrivals: [], inFlight: 0 };
      this.users.set(user, usage);
    }
    const windowMs = this.limits.windowSeconds * 1000;
    while (usage.arrivals.length > 0 && (usage.arrivals[0] ?? 0) <= now - windowMs) usage.arrivals.shift();
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
    usage.arrivals.push(now);
    usage.inFlight += 1;
    const current = usage;
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      current.inFlight -= 1;
    };
  }
}
