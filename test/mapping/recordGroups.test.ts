import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  BATCH_BYTES_AT_MOST,
  BATCH_RECORDS_AT_MOST,
  GROUP_SOURCE_IDS_AT_MOST,
  recordBatchLength,
  recordGroups,
} from '../../src/mapping/recordGroups';
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

describe('recordBatchLength: the next batch a poll hands off, by count and by bytes', () => {
  const noted = (i: number, noteLength: number, char = 'x') => ({ ...listId(i), notes: char.repeat(noteLength) });
  const jsonBytes = (records: unknown[]): number => Buffer.byteLength(JSON.stringify(records), 'utf8');

  it('takes 500 small records, and every one of fewer', () => {
    const records = Array.from({ length: 1200 }, (_, i) => noted(i, 100));
    assert.equal(recordBatchLength(records), BATCH_RECORDS_AT_MOST);
    assert.equal(recordBatchLength(records, 1000), 200);
    assert.equal(recordBatchLength(records, 1200), 0);
    assert.equal(recordBatchLength([]), 0);
  });

  it('cuts 500 records of 4 KB (a 2 MB input) where the next one would pass 1 MB', () => {
    const records = Array.from({ length: 500 }, (_, i) => noted(i, 4000));
    const length = recordBatchLength(records);
    assert.ok(length < 500 && length > 200, `${length} records`);
    assert.ok(jsonBytes(records.slice(0, length)) <= BATCH_BYTES_AT_MOST, 'the batch fits');
    assert.ok(jsonBytes(records.slice(0, length + 1)) > BATCH_BYTES_AT_MOST, 'one more would not');
    // From the middle: the same cut applies to what is left.
    assert.equal(recordBatchLength(records, 100), length);
  });

  it('counts bytes as UTF-8: a note in accented letters weighs twice its characters, in Chinese three times', () => {
    const accented = Array.from({ length: 500 }, (_, i) => noted(i, 1500, 'é'));
    const chinese = Array.from({ length: 500 }, (_, i) => noted(i, 1000, '账'));
    for (const records of [accented, chinese]) {
      const length = recordBatchLength(records);
      assert.ok(length < 500, `${length} records`);
      assert.ok(jsonBytes(records.slice(0, length)) <= BATCH_BYTES_AT_MOST);
      assert.ok(jsonBytes(records.slice(0, length + 1)) > BATCH_BYTES_AT_MOST);
    }
    const emoji = Array.from({ length: 500 }, (_, i) => noted(i, 800, '📒'));
    const length = recordBatchLength(emoji);
    assert.ok(jsonBytes(emoji.slice(0, length)) <= BATCH_BYTES_AT_MOST);
    assert.ok(jsonBytes(emoji.slice(0, length + 1)) > BATCH_BYTES_AT_MOST);
  });

  it('sends a record larger than the budget alone, never none', () => {
    const records = [noted(1, 1_200_000), noted(2, 10)];
    assert.equal(recordBatchLength(records), 1);
    assert.equal(recordBatchLength(records, 1), 1);
  });
});
