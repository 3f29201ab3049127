import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { RateGovernor, type GovernorClock } from '../../src/dataverse/rateGovernor';
import { observeDataverseGovernor } from '../../src/observability/metrics';

/** Manual clock: time moves only when the test says so, and due timers fire in order. */
class FakeClock implements GovernorClock {
  private t = 1_000_000;
  private seq = 0;
  private timers = new Map<number, { at: number; fn: () => void }>();
  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.timers.set(id, { at: this.t + ms, fn });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }
  async advance(ms: number): Promise<void> {
    const target = this.t + ms;
    for (;;) {
      const due = [...this.timers.entries()].filter(([, v]) => v.at <= target).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      this.timers.delete(due[0]);
      this.t = Math.max(this.t, due[1].at);
      due[1].fn();
      await flush();
    }
    this.t = target;
    await flush();
  }
  pendingTimers(): number {
    return this.timers.size;
  }
}

async function flush(): Promise<void> {
  for (let i = 0; i < 10; i += 1) await Promise.resolve();
}

interface Deferred {
  resolve: () => void;
  promise: Promise<void>;
}
function deferred(): Deferred {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { resolve, promise };
}

describe('RateGovernor', () => {
  it('never runs more than maxConcurrent tasks at once, and starts waiters as slots free up', async () => {
    const clock = new FakeClock();
    const gov = new RateGovernor({ maxConcurrent: 3, clock });
    const gates = Array.from({ length: 10 }, () => deferred());
    let running = 0;
    let peak = 0;
    const done = gates.map((g) =>
      gov.run(async () => {
        running += 1;
        peak = Math.max(peak, running);
        await g.promise;
        running -= 1;
      }),
    );
    await flush();
    assert.equal(running, 3);
    assert.deepEqual(
      { inFlight: gov.snapshot().inFlight, waiting: gov.snapshot().waiting },
      { inFlight: 3, waiting: 7 },
    );
    for (const g of gates) {
      g.resolve();
      await flush();
    }
    await Promise.all(done);
    assert.equal(peak, 3);
    assert.equal(gov.snapshot().inFlight, 0);
    assert.equal(gov.snapshot().waiting, 0);
  });

  it('propagates results and rejections (sync throws included) and frees the slot', async () => {
    const gov = new RateGovernor({ maxConcurrent: 1, clock: new FakeClock() });
    assert.equal(await gov.run(async () => 42), 42);
    await assert.rejects(
      gov.run(async () => {
        throw new Error('boom');
      }),
      /boom/,
    );
    await assert.rejects(
      gov.run(() => {
        throw new Error('sync boom');
      }),
      /sync boom/,
    );
    assert.equal(await gov.run(async () => 'still works'), 'still works');
  });

  it('uses the whole budget at once, then paces so no window ever holds more than the budget', async () => {
    const clock = new FakeClock();
    // 100 per 10 s with margin 0.9 → budget 90.
    const gov = new RateGovernor({
      maxConcurrent: 1000,
      requestsPerWindow: 100,
      windowMs: 10_000,
      safetyMargin: 0.9,
      clock,
    });
    assert.equal(gov.budget, 90);
    const startTimes: number[] = [];
    const all = Array.from({ length: 300 }, () =>
      gov.run(async () => {
        startTimes.push(clock.now());
      }),
    );
    await flush();
    // No needless idling: the whole budget starts immediately.
    assert.equal(startTimes.length, 90);
    for (let i = 0; i < 40; i += 1) await clock.advance(1000);
    await Promise.all(all);
    assert.equal(startTimes.length, 300);
    // Sliding check over every start: at most `budget` starts in any window of windowMs.
    for (let i = 0; i < startTimes.length; i += 1) {
      const from = startTimes[i] ?? 0;
      const inWindow = startTimes.filter((t) => t >= from && t < from + 10_000).length;
      assert.ok(inWindow <= 90, `window starting at ${from} holds ${inWindow}`);
    }
    // And the budget is actually used: 300 requests need just over 3 windows, not more.
    const span = (startTimes.at(-1) ?? 0) - (startTimes[0] ?? 0);
    assert.ok(span <= 30_000, `took ${span} ms of fake time`);
  });

  it('plans by the execution-time budget too: bulk requests wait while their estimated server time would overrun it', async () => {
    const clock = new FakeClock();
    const gov = new RateGovernor({
      clock,
      maxConcurrent: 10,
      requestsPerWindow: 1000,
      windowMs: 10_000,
      safetyMargin: 1,
      executionMsPerWindow: 1_000,
      estimatedServerTime: { perRequestMs: 100, perRowMs: 10 },
    });
    assert.equal(gov.costOf({ rows: 40 }), 500);
    assert.equal(gov.costOf({ operations: 3 }), 300);
    const started: number[] = [];
    const gates = [deferred(), deferred(), deferred()];
    const t0 = clock.now();
    const runs = gates.map((gate) =>
      gov.run(
        async () => {
          started.push(clock.now() - t0);
          await gate.promise;
        },
        { rows: 40 },
      ),
    );
    await flush();
    // Two bulk calls of 500 ms fill the 1,000 ms budget; the third waits though requests and slots are free.
    assert.deepEqual(started, [0, 0]);
    assert.equal(gov.snapshot().serverTimeMs, 1_000);
    await clock.advance(1_000);
    gates[0]?.resolve();
    gates[1]?.resolve();
    await flush();
    assert.deepEqual(started, [0, 0], 'finished calls still count for a window after they finished');
    await clock.advance(9_999);
    assert.equal(started.length, 2);
    await clock.advance(1);
    assert.deepEqual(started, [0, 0, 11_000]);
    gates[2]?.resolve();
    await Promise.all(runs);
    // A lone request costing more than the whole budget still runs (else it could never run at all).
    await clock.advance(20_000);
    await gov.run(async () => undefined, { rows: 500 });
  });

  it('pauses every new start until Retry-After has passed, keeping the latest deadline', async () => {
    const clock = new FakeClock();
    const gov = new RateGovernor({ clock });
    const t0 = clock.now();
    gov.throttled(5_000);
    gov.throttled(2_000); // a shorter Retry-After must not shorten the pause
    assert.equal(gov.snapshot().pausedUntil, t0 + 5_000);
    const started: number[] = [];
    const p = Promise.all([1, 2, 3].map(() => gov.run(async () => void started.push(clock.now()))));
    await flush();
    assert.equal(started.length, 0);
    assert.equal(gov.snapshot().waiting, 3);
    await clock.advance(4_999);
    assert.equal(started.length, 0);
    await clock.advance(1);
    await p;
    assert.deepEqual(started, [t0 + 5_000, t0 + 5_000, t0 + 5_000]);
    assert.equal(gov.snapshot().pausedUntil, 0);
    assert.equal(gov.snapshot().throttledResponses, 2);
  });

  it('exposes metrics on the given registry matching snapshot()', async () => {
    const clock = new FakeClock();
    const registry = new Registry();
    const gov = new RateGovernor({ clock, maxConcurrent: 2, paceHorizonMs: 10_000 });
    observeDataverseGovernor(gov, registry);
    const gates = [deferred(), deferred(), deferred()];
    const runs = gates.map((g) => gov.run(() => g.promise));
    gov.throttled(1000);
    await flush();
    const values = async (): Promise<Record<string, number>> => {
      const out: Record<string, number> = {};
      for (const m of await registry.getMetricsAsJSON()) out[m.name] = m.values[0]?.value ?? NaN;
      return out;
    };
    assert.deepEqual(await values(), {
      dataverse_governor_in_flight: 2,
      dataverse_governor_waiting: 1,
      dataverse_governor_throttled_total: 1,
      dataverse_governor_pace_per_second: 0.2, // 2 starts over a 10 s horizon
    });
    await clock.advance(1000);
    for (const g of gates) g.resolve();
    await Promise.all(runs);
    assert.deepEqual(await values(), {
      dataverse_governor_in_flight: 0,
      dataverse_governor_waiting: 0,
      dataverse_governor_throttled_total: 1,
      dataverse_governor_pace_per_second: 0.3,
    });
    await clock.advance(20_000);
    assert.equal((await values()).dataverse_governor_pace_per_second, 0);
  });

  it('counts a request against the window until it has finished, not from when it started', async () => {
    const clock = new FakeClock();
    const gov = new RateGovernor({ requestsPerWindow: 2, windowMs: 1_000, safetyMargin: 1, maxConcurrent: 10, clock });
    const slow = deferred();
    const started: Array<[string, number]> = [];
    const task = (name: string, wait?: Promise<void>) =>
      gov.run(async () => {
        started.push([name, clock.now()]);
        await wait;
      });
    const t0 = clock.now();
    const runs = [task('slow', slow.promise), task('quick'), task('third'), task('fourth')];
    await flush();
    assert.deepEqual(started, [
      ['slow', t0],
      ['quick', t0],
    ]);
    await clock.advance(800);
    slow.resolve();
    await flush();
    // `quick` finished at t0 and leaves the window at t0+1000; `slow` finished at t0+800 and counts until t0+1800,
    // although it started at t0 (a log of start times would have let `fourth` in at t0+1000).
    await clock.advance(200);
    assert.deepEqual(started.slice(2), [['third', t0 + 1_000]]);
    await clock.advance(799);
    assert.equal(started.length, 3);
    await clock.advance(1);
    await Promise.all(runs);
    assert.deepEqual(started.slice(3), [['fourth', t0 + 1_800]]);
    assert.equal(gov.snapshot().started, 4);
  });

  it('keeps the server-side count within the budget whatever the delay between our start and its arrival', async () => {
    const clock = new FakeClock();
    const windowMs = 10_000;
    const gov = new RateGovernor({ requestsPerWindow: 50, windowMs, safetyMargin: 1, maxConcurrent: 20, clock });
    // Deterministic pseudo-random latencies up to 3 s; the server counts each request at a point inside it.
    let seed = 42;
    const random = (): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const arrivals: number[] = [];
    const runs = Array.from({ length: 400 }, () =>
      gov.run(async () => {
        const latency = Math.floor(random() * 3_000);
        const arrival = clock.now() + Math.floor(random() * latency);
        await new Promise<void>((resolve) => clock.setTimeout(resolve, latency));
        arrivals.push(arrival);
      }),
    );
    for (let i = 0; i < 1_000 && arrivals.length < 400; i += 1) await clock.advance(100);
    await Promise.all(runs);
    arrivals.sort((a, b) => a - b);
    let lo = 0;
    for (let hi = 0; hi < arrivals.length; hi += 1) {
      while ((arrivals[lo] ?? 0) <= (arrivals[hi] ?? 0) - windowMs) lo += 1;
      assert.ok(hi - lo + 1 <= 50, `${hi - lo + 1} arrivals within one window`);
    }
  });

  it('rejects nonsensical options', () => {
    const cases: Array<[string, () => unknown, RegExp]> = [
      ['zero concurrency', () => new RateGovernor({ maxConcurrent: 0 }), /maxConcurrent/],
      ['negative window', () => new RateGovernor({ windowMs: -1 }), /windowMs/],
      ['margin above 1', () => new RateGovernor({ safetyMargin: 1.5 }), /safetyMargin/],
      ['margin zero', () => new RateGovernor({ safetyMargin: 0 }), /safetyMargin/],
      ['NaN budget', () => new RateGovernor({ requestsPerWindow: Number.NaN }), /requestsPerWindow/],
    ];
    for (const [name, make, err] of cases) assert.throws(make, err, name);
  });
});
