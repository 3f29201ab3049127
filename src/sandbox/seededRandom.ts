/**
 * Deterministic pseudo-random draws (mulberry32) for the generated benchmark data of both simulators: the same seed
 * always yields the same customers, items and orders, so two benchmark runs measure the same work.
 */
export interface SeededRandom {
  /** The next number of the sequence, in [0, 1). */
  next(): number;
  /** One of `values`, each as likely as the others. */
  pick<T>(values: readonly T[]): T;
}

export function seededRandom(seed: number): SeededRandom {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const pick = <T>(values: readonly T[]): T => {
    if (values.length === 0) throw new RangeError('nothing to pick from');
    return values[Math.floor(next() * values.length)] as T;
  };
  return { next, pick };
}
