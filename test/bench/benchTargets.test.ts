import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { benchTarget, targetRows } from '../../bench/benchTargets';

describe("the bench's targets beside the per-row load's figures", () => {
  it("judges the per-row figure by the target's own rule, not by the bulk one's verdict", () => {
    const perRecord = benchTarget(0.1, '≤ 0.2', (n) => n <= 0.2, { perRow: 4.2 });
    assert.deepEqual(perRecord, {
      measured: 0.1,
      target: '≤ 0.2',
      met: true,
      perRow: { bulk: 0.1, perRow: 4.2, met: false },
    });
    const rate = benchTarget(
      { perSecond: 80, failedByThrottling: 0 },
      '≥ 100 a second, 0 failed by throttling',
      (f) => f.perSecond >= 100 && f.failedByThrottling === 0,
      { perRow: { perSecond: 120, failedByThrottling: 0 } },
    );
    assert.equal(rate.met, false);
    assert.equal(rate.perRow?.met, true);
    const noted = benchTarget(2, '≤ 3', (n) => n <= 3, { perRow: 0.5, perRowNote: 'the bulk figure counts orders' });
    assert.equal(noted.perRow?.note, 'the bulk figure counts orders');
  });

  it('leaves a target the per-row load does not measure without a per-row figure, a zero figure with one', () => {
    assert.equal('perRow' in benchTarget(12, '≤ 30 at scale 1', (m) => m <= 30), false);
    assert.deepEqual(benchTarget(0, '0 failed', (n) => n === 0, { perRow: 0 }).perRow, {
      bulk: 0,
      perRow: 0,
      met: true,
    });
  });

  it('prints each target with its per-row figure, a dash where there is none', () => {
    const rows = targetRows({
      actionsPerSyncedRecord: benchTarget(1.5, '≤ 3', (n) => n <= 3, { perRow: 3.4 }),
      initialLoadMinutes: benchTarget(8.7, '≤ 30 at scale 1', (n) => n <= 30),
    });
    assert.deepEqual(rows.slice(2), [
      '| actionsPerSyncedRecord | 1.5 | met | 3.4 | not met |',
      '| initialLoadMinutes | 8.7 | met | – | – |',
    ]);
  });
});
