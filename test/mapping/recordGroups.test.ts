import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GROUP_SOURCE_IDS_AT_MOST, recordGroups } from '../../src/mapping/recordGroups';
import { groupTrailOfRecord, type RunTrail } from '../../src/cli/recordRuns';

const listId = (i: number): { listId: string } => ({
  listId: `${(0x80000000 + i).toString(16).toUpperCase()}-1700000000`,
});

describe('recordGroups: a batch cut into groups whose ListIDs fit one SyncSourceIds value', () => {
  it('keeps every record once, in order, each group within the search attribute size', () => {
    const records = Array.from({ length: 500 }, (_, i) => listId(i));
    const groups = recordGroups(records);
    assert.deepEqual(groups.flat(), records);
    assert.ok(groups.length > 1, 'a batch of 500 ListIDs does not fit one value');
    for (const group of groups) {
      const size = JSON.stringify(group.map((r) => r.listId)).length;
      assert.ok(size <= GROUP_SOURCE_IDS_AT_MOST, `a group of ${size} characters`);
    }
    // Full groups: a group is cut only when the next ListID would not fit.
    for (const [i, group] of groups.slice(0, -1).entries()) {
      const next = groups[i + 1]![0]!;
      const grown = JSON.stringify([...group, next].map((r) => r.listId)).length;
      assert.ok(grown > GROUP_SOURCE_IDS_AT_MOST, `group ${i} was cut with room left`);
    }
  });

  it('makes no group of nothing, and one group of a small batch', () => {
    assert.deepEqual(recordGroups([]), []);
    assert.deepEqual(recordGroups([listId(1), listId(2)]), [[listId(1), listId(2)]]);
  });
});

describe("groupTrailOfRecord: a group's audit trail cut down to one record", () => {
  const trail: RunTrail = {
    input: [
      {
        connection: 'east',
        entity: 'customer',
        records: [
          { listId: 'A', name: 'Ann' },
          { listId: 'B', name: 'Bo' },
        ],
      },
    ],
    activities: [
      {
        activityType: 'syncRecordGroupToDataverse',
        status: 'completed',
        result: [
          { listId: 'A', result: { outcome: 'created', rowId: 'row-a' } },
          { listId: 'B', error: 'refused' },
        ],
      },
    ],
    signals: [],
    result: { synced: [{ listId: 'A', outcome: 'created' }], toRecordRuns: [{ listId: 'B', why: 'not written' }] },
  };

  it("keeps the record's own version, answer and outcome, and no other record's", () => {
    const b = groupTrailOfRecord(trail, 'B');
    assert.deepEqual(b.input, [{ connection: 'east', entity: 'customer', records: [{ listId: 'B', name: 'Bo' }] }]);
    assert.deepEqual(b.activities[0]!.result, [{ listId: 'B', error: 'refused' }]);
    assert.deepEqual(b.result, { synced: [], toRecordRuns: [{ listId: 'B', why: 'not written' }] });
    assert.equal(JSON.stringify(b).includes('Ann'), false);
  });
});
