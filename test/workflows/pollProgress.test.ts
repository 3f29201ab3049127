import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { describePollProgress, type PollProgress } from '../../src/workflows/pollProgress';

const base: PollProgress = {
  connection: 'east',
  phase: 'QuickBooks → Dynamics',
  total: 10_000,
  done: 500,
  perSecond: 35.26,
  secondsLeft: null,
};

describe('poll progress line', () => {
  const cases: [string, Partial<PollProgress>, string][] = [
    ['no rate yet', {}, 'QuickBooks → Dynamics: 500 / 10,000 records, 35.3/s'],
    [
      'minutes when long',
      { secondsLeft: 269.4 },
      'QuickBooks → Dynamics: 500 / 10,000 records, 35.3/s, about 4 min left',
    ],
    [
      'seconds when short',
      { secondsLeft: 42.4 },
      'QuickBooks → Dynamics: 500 / 10,000 records, 35.3/s, about 42 s left',
    ],
    ['done', { phase: 'done', done: 10_000, secondsLeft: 0 }, 'done: 10,000 / 10,000 records, 35.3/s, about 0 s left'],
  ];
  for (const [name, change, expected] of cases) {
    it(name, () => assert.equal(describePollProgress({ ...base, ...change }), expected));
  }
});
