import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  EMPTY_LINE,
  awaits,
  releases,
  reported,
  runsAtOnce,
  settled,
  started,
  type RecordBatchLine,
} from '../../src/workflows/sync/recordBatchLine';

/** Starts `batchId` as the cycle does: running if its turn has come, held otherwise. */
function start(line: RecordBatchLine, batchId: string, afterEarlier = false, atOnce = 2): RecordBatchLine {
  return started(line, batchId, runsAtOnce(line, afterEarlier, atOnce), afterEarlier);
}

describe('record batch line: whose turn it is to run', () => {
  it('runs batches at once up to the limit, and holds the rest in the order started', () => {
    let line = start(start(start(EMPTY_LINE, 'a'), 'b'), 'c');
    assert.deepEqual(line.running, ['a', 'b']);
    assert.deepEqual(
      line.held.map((h) => h.batchId),
      ['c'],
    );
    assert.equal(releases(line, 2).release.length, 0, 'no place is free');
    line = reported(line, 'a');
    const next = releases(line, 2);
    assert.deepEqual(next.release, ['c']);
    assert.deepEqual(next.line.running, ['b', 'c']);
    assert.equal(next.line.held.length, 0);
  });

  it('a batch after the earlier ones runs only once every batch before it has reported', () => {
    let line = start(EMPTY_LINE, 'parents');
    assert.equal(runsAtOnce(line, true, 2), false, 'the parents are still running');
    line = start(line, 'jobs', true);
    line = start(line, 'more parents');
    assert.deepEqual(line.running, ['parents']);
    // The batch behind the jobs waits its turn too, though a place is free: batches run in the order started.
    assert.deepEqual(releases(line, 2).release, []);
    line = reported(line, 'parents');
    const next = releases(line, 2);
    assert.deepEqual(next.release, ['jobs', 'more parents']);
  });

  it('a batch after the earlier ones waits for batches released before it, not only those started running', () => {
    let line = start(start(start(EMPTY_LINE, 'a', false, 1), 'b', false, 1), 'jobs', true, 1);
    line = releases(reported(line, 'a'), 1).line;
    assert.deepEqual(line.running, ['b']);
    assert.deepEqual(releases(line, 1).release, []);
    assert.deepEqual(releases(reported(line, 'b'), 1).release, ['jobs']);
  });

  it('is settled once every batch started has reported, held ones included', () => {
    let line = start(start(EMPTY_LINE, 'a', false, 1), 'b', false, 1);
    assert.equal(settled(line), false);
    line = reported(line, 'a');
    assert.equal(settled(line), false, 'b is still held');
    // A held batch that waited past its bound runs without a release, and reports.
    line = reported(line, 'b');
    assert.equal(settled(line), true);
  });

  it('keeps what failed a batch as a whole, and knows no batch it did not start', () => {
    let line = start(EMPTY_LINE, 'a');
    assert.equal(awaits(line, 'a'), true);
    assert.equal(awaits(line, 'poll/east/1234abcd/customer-1'), false, 'a batch of an earlier cycle');
    line = reported(line, 'a', 'worker lost the batch');
    assert.deepEqual(line.errors, ['a: worker lost the batch']);
    assert.equal(awaits(line, 'a'), false, 'a batch reports once');
  });
});
