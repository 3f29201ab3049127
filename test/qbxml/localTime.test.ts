import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  isTimeZone,
  offsetsOfWallTime,
  quickbooksFilterTime,
  quickbooksInstant,
  quickbooksTimeWithTrueOffset,
  withLocalFilterTimes,
} from '../../src/qbxml/localTime';

const LA = 'America/Los_Angeles';

describe('QuickBooks local times in the company file’s zone', () => {
  it('reads a stale offset by its wall time, and keeps a true one', () => {
    assert.equal(quickbooksTimeWithTrueOffset('2026-07-01T11:37:00-08:00', LA), '2026-07-01T11:37:00-07:00');
    assert.equal(quickbooksTimeWithTrueOffset('2026-07-01T11:37:00-07:00', LA), '2026-07-01T11:37:00-07:00');
    assert.equal(quickbooksTimeWithTrueOffset('2026-01-15T11:37:00-08:00', LA), '2026-01-15T11:37:00-08:00');
    assert.equal(
      quickbooksTimeWithTrueOffset('2026-07-01T11:37:00+01:00', 'Europe/London'),
      '2026-07-01T11:37:00+01:00',
    );
    assert.equal(
      quickbooksTimeWithTrueOffset('2026-07-01T10:37:00+00:00', 'Europe/London'),
      '2026-07-01T10:37:00+01:00',
    );
    assert.equal(quickbooksTimeWithTrueOffset('not a time', LA), 'not a time');
    assert.equal(quickbooksTimeWithTrueOffset('2026-07-01', LA), '2026-07-01');
  });

  it('tells the repeated hour’s two readings apart by the offset when it is one of them', () => {
    const wall = Date.parse('2026-11-01T01:30:00Z');
    assert.deepEqual(offsetsOfWallTime(LA, wall), [-420, -480]);
    assert.deepEqual(offsetsOfWallTime(LA, Date.parse('2026-03-08T02:30:00Z')), [], 'the skipped hour');
    assert.equal(quickbooksInstant('2026-11-01T01:30:00-07:00', LA), Date.parse('2026-11-01T08:30:00Z'));
    assert.equal(quickbooksInstant('2026-11-01T01:30:00-08:00', LA), Date.parse('2026-11-01T09:30:00Z'));
    assert.equal(quickbooksInstant('2026-11-01T01:30:00', LA), Date.parse('2026-11-01T08:30:00Z'), 'the earlier');
    assert.equal(quickbooksInstant('2026-03-08T02:30:00', LA), Date.parse('2026-03-08T10:30:00Z'), 'before the skip');
  });

  it('writes filter times as local time, taking in the hour that repeats after them', () => {
    // Spring: wall times only jump ahead, so the filter is the instant's own wall time.
    assert.equal(quickbooksFilterTime('2026-03-08T01:55:00-07:00', LA), '2026-03-08T00:55:00');
    assert.equal(quickbooksFilterTime('2026-03-08T03:30:00-07:00', LA), '2026-03-08T03:30:00');
    // Autumn: from 01:40 PDT on, the stamps of 01:00–01:40 PST are later though their wall time is lower.
    assert.equal(quickbooksFilterTime('2026-11-01T01:40:00-07:00', LA), '2026-11-01T01:00:00');
    assert.equal(quickbooksFilterTime('2026-11-01T00:30:00-07:00', LA), '2026-11-01T00:30:00');
    assert.equal(quickbooksFilterTime('2026-11-01T01:20:00-08:00', LA), '2026-11-01T01:20:00');
    // An upper bound takes in the first pass's later wall times.
    assert.equal(quickbooksFilterTime('2026-11-01T01:20:00-08:00', LA, 'to'), '2026-11-01T01:59:59');
    assert.equal(quickbooksFilterTime('2026-11-01T09:20:00Z', LA), '2026-11-01T01:20:00');
    assert.equal(quickbooksFilterTime('2026-11-01', LA), '2026-11-01');
    assert.equal(quickbooksFilterTime('2026-11-01T01:20:00', LA), '2026-11-01T01:20:00');
  });

  it('rewrites only the date filters of a request', () => {
    const request = {
      type: 'CustomerQuery' as const,
      requestId: 'q',
      fromModifiedDate: '2026-07-01T10:22:00-07:00',
      maxReturned: 5,
    };
    assert.deepEqual(withLocalFilterTimes(request, LA), { ...request, fromModifiedDate: '2026-07-01T10:22:00' });
    assert.equal(request.fromModifiedDate, '2026-07-01T10:22:00-07:00', 'the original is left alone');
    const plain = { type: 'ClassQuery' as const, requestId: 'c' };
    assert.equal(withLocalFilterTimes(plain, LA), plain);
  });

  it('knows IANA zones only', () => {
    assert.ok(isTimeZone('America/New_York'));
    assert.ok(isTimeZone('UTC'));
    assert.ok(!isTimeZone('Pacific Time'));
    assert.ok(!isTimeZone(''));
    assert.ok(!isTimeZone(' UTC'));
  });
});
