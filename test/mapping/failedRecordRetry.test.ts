import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  needsFix,
  planFailedRecordRetry,
  retryDelayMs,
  type FailedRecordRun,
} from '../../src/mapping/failedRecordRetry';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const now = new Date('2026-12-04T12:00:00.000Z');
const ago = (ms: number): string => new Date(now.getTime() - ms).toISOString();
const transient = { failureType: 'DataverseError', nonRetryable: false };
const bad = { failureType: 'MappingError', nonRetryable: true };

describe('failed-record retry: the backoff schedule', () => {
  const cases: [attempts: number, delayMs: number][] = [
    [1, 15 * MINUTE],
    [2, 30 * MINUTE],
    [3, HOUR],
    [4, 2 * HOUR],
    [5, 4 * HOUR],
    [6, 8 * HOUR],
    [7, 12 * HOUR],
    [8, 12 * HOUR],
    [1_000, 12 * HOUR],
    // A count visibility could not give (0) is a first failure.
    [0, 15 * MINUTE],
  ];
  for (const [attempts, delayMs] of cases) {
    it(`after ${attempts} failed run(s) the record waits ${delayMs / MINUTE} min`, () =>
      assert.equal(retryDelayMs(attempts), delayMs));
  }
});

describe('failed-record retry: what a person must fix', () => {
  const cases: [what: string, run: Pick<FailedRecordRun, 'failureType' | 'nonRetryable'>, fix: boolean][] = [
    ['bad data (MappingError)', { failureType: 'MappingError', nonRetryable: true }, true],
    ['an Add QuickBooks refused three times', { failureType: 'InvoiceAddFailed', nonRetryable: true }, true],
    ['a record gone from QuickBooks', { failureType: 'ObjectNotFoundError', nonRetryable: true }, true],
    [
      'a Dataverse 503 that outlasted the activity retries',
      { failureType: 'DataverseError', nonRetryable: false },
      false,
    ],
    ['a network error that outlasted them', { failureType: 'TypeError', nonRetryable: false }, false],
    ['a QuickBooks answer lost', { failureType: 'QbxmlOutcomeUnknown', nonRetryable: false }, false],
    ['a record QuickBooks had locked', { failureType: 'RecordInUseError', nonRetryable: false }, false],
    // Runs failed before record syncs kept their cause's flag: every failure was non-retryable then.
    ['an activity timeout, recorded as non-retryable', { failureType: 'ActivityFailure', nonRetryable: true }, false],
    [
      'Dataverse throttling, recorded as non-retryable',
      { failureType: 'DataverseThrottledError', nonRetryable: true },
      false,
    ],
    [
      'an Entra outage (401), recorded as non-retryable',
      { failureType: 'DataverseAuthError', nonRetryable: true },
      false,
    ],
    [
      'the Web Connector stayed away past the bounded wait',
      { failureType: 'QuickBooksWaitExceeded', nonRetryable: true },
      false,
    ],
    [
      'the company file was reset under its requester',
      { failureType: 'CompanyFileRunChanged', nonRetryable: true },
      false,
    ],
    ['a row edited meanwhile, every time', { failureType: 'StaleEtag', nonRetryable: true }, false],
    ['a failure that is no ApplicationFailure (terminated by hand)', {}, true],
  ];
  for (const [what, run, fix] of cases) {
    it(`${what}: ${fix ? 'waits for a fix' : 'is retried'}`, () => assert.equal(needsFix(run), fix));
  }
});

describe('failed-record retry: which records a cycle runs again', () => {
  const run = (workflowId: string, failedAgoMs: number, attempts: number, kind = transient): FailedRecordRun => ({
    workflowId,
    failedAt: ago(failedAgoMs),
    attempts,
    ...kind,
  });
  const cases: [what: string, runs: FailedRecordRun[], limit: number, retry: string[], counts: number[]][] = [
    ['nothing failed', [], 200, [], [0, 0, 0]],
    ['a first failure an hour ago is due', [run('a', HOUR, 1)], 200, ['a'], [0, 0, 0]],
    ['a first failure 5 min ago waits', [run('a', 5 * MINUTE, 1)], 200, [], [0, 1, 0]],
    ['the third failure 50 min ago waits (1 h)', [run('a', 50 * MINUTE, 3)], 200, [], [0, 1, 0]],
    ['the third failure 61 min ago is due', [run('a', 61 * MINUTE, 3)], 200, ['a'], [0, 0, 0]],
    ['the tenth failure waits 12 h, not days', [run('a', 12 * HOUR, 10)], 200, ['a'], [0, 0, 0]],
    ['bad data is never retried', [run('a', 30 * 24 * HOUR, 1, bad)], 200, [], [0, 0, 1]],
    [
      'longest overdue first, the limit defers the rest',
      [run('new', HOUR, 1), run('old', 20 * HOUR, 1), run('mid', 5 * HOUR, 1)],
      2,
      ['old', 'mid'],
      [1, 0, 0],
    ],
    [
      'records due at the same instant in a stable order',
      [run('b', HOUR, 1), run('a', HOUR, 1)],
      200,
      ['a', 'b'],
      [0, 0, 0],
    ],
  ];
  for (const [what, runs, limit, retry, [deferred, waiting, fix]] of cases) {
    it(what, () =>
      assert.deepEqual(planFailedRecordRetry(runs, { now, limit }), { retry, deferred, waiting, needsFix: fix }),
    );
  }

  it('no starvation: 1,000 records failing for good behind the 200-a-cycle limit, and 600 on an outage, are all retried within 4 hourly cycles', () => {
    // The records that need a fix failed last; the old retry took the 200 newest every cycle and so only them.
    const records = new Map<string, FailedRecordRun>();
    for (let i = 0; i < 600; i++) records.set(`old-${i}`, run(`old-${i}`, 3 * HOUR + i * 1000, 1));
    for (let i = 0; i < 1000; i++) records.set(`bad-${i}`, run(`bad-${i}`, MINUTE * 20, 1, bad));
    const retried = new Map<string, number>();
    for (let cycle = 0; cycle < 4; cycle++) {
      const at = new Date(now.getTime() + cycle * HOUR);
      const plan = planFailedRecordRetry([...records.values()], { now: at, limit: 200 });
      assert.equal(plan.retry.length, 200, `cycle ${cycle} uses its whole budget`);
      for (const id of plan.retry) {
        retried.set(id, (retried.get(id) ?? 0) + 1);
        // The outage goes on: the run fails again and backs off further.
        const before = records.get(id)!;
        records.set(id, { ...before, failedAt: at.toISOString(), attempts: before.attempts + 1 });
      }
    }
    for (let i = 0; i < 600; i++) assert.ok(retried.get(`old-${i}`), `old-${i} was retried`);
    assert.equal([...retried.keys()].filter((id) => id.startsWith('bad-')).length, 0, 'bad data waits for a fix');
  });
});
