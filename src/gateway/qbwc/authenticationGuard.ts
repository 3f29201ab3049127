import { randomBytes } from 'node:crypto';
import { hashPassword, verifyPassword } from '../../config/qbwcPassword';

/**
 * What stands between `authenticate` and a password guesser:
 * - every attempt costs one scrypt check, for unknown users too (against a throw-away hash), so the answer's timing
 *   does not tell which user names exist;
 * - at most `maxConcurrentChecks` checks run at once (scrypt runs on libuv's small thread pool, which file and DNS
 *   work share), and at most `maxWaitingChecks` wait; beyond that the answer is `busy` without any work;
 * - after `freeFailures` failures a user name, and separately an address, is refused without a check for a backoff
 *   that doubles per failure up to `maxBackoffMs`;
 * - an address that authenticated that user before is exempt from the user's backoff (only its own failures count),
 *   so a guesser elsewhere cannot lock the real Web Connector out; at worst the right password waits `maxBackoffMs`.
 */
export interface AuthenticationGuardOptions {
  maxConcurrentChecks?: number;
  maxWaitingChecks?: number;
  freeFailures?: number;
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  /** Failures older than this are forgotten; a good address is remembered as long. */
  memoryMs?: number;
  /** Bounds the memory an attacker can make us spend on names and addresses. */
  maxTracked?: number;
  now?: () => number;
}

export type AuthenticationVerdict = 'valid' | 'invalid' | 'backoff' | 'busy';

interface FailureRecord {
  failures: number;
  blockedUntil: number;
  lastSeen: number;
}

/** A Map that forgets its oldest entries past `limit`, so random names cannot grow it without bound. */
class BoundedMap<V> extends Map<string, V> {
  constructor(private readonly limit: number) {
    super();
  }

  override set(key: string, value: V): this {
    this.delete(key);
    super.set(key, value);
    while (this.size > this.limit) this.delete(this.keys().next().value!);
    return this;
  }
}

export class AuthenticationGuard {
  private readonly options: Required<Omit<AuthenticationGuardOptions, 'now'>>;
  private readonly now: () => number;
  private readonly users: BoundedMap<FailureRecord>;
  private readonly addresses: BoundedMap<FailureRecord>;
  /** `user\naddress` → when that address last authenticated that user. */
  private readonly goodAddresses: BoundedMap<number>;
  private readonly waiting: { trusted: boolean; start: () => void }[] = [];
  private running = 0;
  /** A hash of a random password, checked for unknown users so they cost the same as known ones. */
  private readonly decoyHash: Promise<string>;
  /** Password checks actually performed (scrypt runs): what the guard saves is visible here and in tests. */
  checksPerformed = 0;

  constructor(options: AuthenticationGuardOptions = {}) {
    this.options = {
      maxConcurrentChecks: options.maxConcurrentChecks ?? 2,
      maxWaitingChecks: options.maxWaitingChecks ?? 16,
      freeFailures: options.freeFailures ?? 5,
      baseBackoffMs: options.baseBackoffMs ?? 1_000,
      maxBackoffMs: options.maxBackoffMs ?? 60_000,
      memoryMs: options.memoryMs ?? 24 * 60 * 60 * 1000,
      maxTracked: options.maxTracked ?? 10_000,
    };
    this.now = options.now ?? Date.now;
    this.users = new BoundedMap(this.options.maxTracked);
    this.addresses = new BoundedMap(this.options.maxTracked);
    this.goodAddresses = new BoundedMap(this.options.maxTracked);
    this.decoyHash = hashPassword(randomBytes(24).toString('base64url'));
  }

  /** `storedHash` undefined = no such user: the check still runs, against the decoy, and fails. */
  async check(
    userName: string,
    address: string,
    password: string,
    storedHash: string | undefined,
  ): Promise<AuthenticationVerdict> {
    const now = this.now();
    const trusted = this.isGoodAddress(userName, address, now);
    if (this.blocked(this.addresses, address, now) || (!trusted && this.blocked(this.users, userName, now))) {
      return 'backoff';
    }
    if (this.running >= this.options.maxConcurrentChecks && !trusted) {
      if (this.waiting.filter((w) => !w.trusted).length >= this.options.maxWaitingChecks) return 'busy';
    }
    await this.slot(trusted);
    let valid: boolean;
    try {
      this.checksPerformed++;
      valid = (await verifyPassword(password, storedHash ?? (await this.decoyHash))) && storedHash !== undefined;
    } finally {
      this.release();
    }
    const after = this.now();
    if (valid) {
      this.users.delete(userName);
      this.addresses.delete(address);
      this.goodAddresses.set(`${userName}\n${address}`, after);
      return 'valid';
    }
    this.fail(this.addresses, address, after);
    if (!trusted) this.fail(this.users, userName, after);
    return 'invalid';
  }

  private isGoodAddress(userName: string, address: string, now: number): boolean {
    const seen = this.goodAddresses.get(`${userName}\n${address}`);
    return seen !== undefined && now - seen <= this.options.memoryMs;
  }

  private blocked(records: BoundedMap<FailureRecord>, key: string, now: number): boolean {
    const record = records.get(key);
    return record !== undefined && now < record.blockedUntil;
  }

  private fail(records: BoundedMap<FailureRecord>, key: string, now: number): void {
    const previous = records.get(key);
    const failures = previous && now - previous.lastSeen <= this.options.memoryMs ? previous.failures + 1 : 1;
    const over = failures - this.options.freeFailures;
    const backoff = over > 0 ? Math.min(this.options.baseBackoffMs * 2 ** (over - 1), this.options.maxBackoffMs) : 0;
    records.set(key, { failures, blockedUntil: now + backoff, lastSeen: now });
  }

  private slot(trusted: boolean): Promise<void> {
    if (this.running < this.options.maxConcurrentChecks) {
      this.running++;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const entry = { trusted, start: resolve };
      // A Web Connector that authenticated from here before goes ahead of strangers.
      const firstStranger = this.waiting.findIndex((w) => !w.trusted);
      if (trusted && firstStranger >= 0) this.waiting.splice(firstStranger, 0, entry);
      else this.waiting.push(entry);
    });
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next.start();
    else this.running--;
  }
}
