import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cursorAfter, recordId, sublevel, unseen } from '../../src/mapping/quickbooksChanges';
import type { QbRecord } from '../../src/qbxml/requests';

const T1 = '2024-03-01T09:00:00-08:00';
const T2 = '2024-03-01T09:00:05-08:00';

function customer(listId: string, timeModified: string, editSequence: string, level = 0): QbRecord {
  return { kind: 'Customer', listId, name: listId, timeModified, editSequence, sublevel: level } as QbRecord;
}

describe('QuickBooks changes since the cursor', () => {
  const a = customer('A', T1, '1');
  const b = customer('B', T2, '1');
  const c = customer('C', T2, '1');

  const cases: { name: string; records: QbRecord[]; cursors: Record<string, string>; news: string[] }[] = [
    { name: 'no cursor yet: everything is news', records: [a, b], cursors: {}, news: ['A', 'B'] },
    {
      name: 'records at the cursor second already handed off are dropped',
      records: [b, c],
      cursors: { 'qb:Customer': T2, 'qb:Customer:seen': 'B@1' },
      news: ['C'],
    },
    {
      name: 'a record at the cursor second edited again (new EditSequence) is news',
      records: [customer('B', T2, '2')],
      cursors: { 'qb:Customer': T2, 'qb:Customer:seen': 'B@1' },
      news: ['B'],
    },
    {
      name: 'records after the cursor second are news whatever was seen',
      records: [b],
      cursors: { 'qb:Customer': T1, 'qb:Customer:seen': 'B@1' },
      news: ['B'],
    },
  ];
  for (const { name, records, cursors, news } of cases) {
    it(name, () => assert.deepEqual(unseen(records, cursors, 'qb:Customer').map(recordId), news));
  }

  it('the cursor moves to the newest second read, remembering every record at it', () => {
    assert.deepEqual(cursorAfter('qb:Customer', [a, b, c], {}), { 'qb:Customer': T2, 'qb:Customer:seen': 'B@1,C@1' });
  });

  it('a cursor that stays on the same second keeps what it had seen there', () => {
    assert.deepEqual(cursorAfter('qb:Customer', [c], { 'qb:Customer': T2, 'qb:Customer:seen': 'B@1' }), {
      'qb:Customer': T2,
      'qb:Customer:seen': 'B@1,C@1',
    });
  });

  it('nothing read: the cursor does not move', () => {
    assert.deepEqual(cursorAfter('qb:Customer', [], { 'qb:Customer': T1 }), {});
  });

  it('jobs sort after their customers by sub-level', () => {
    assert.deepEqual([customer('J', T1, '1', 1), a].sort((x, y) => sublevel(x) - sublevel(y)).map(recordId), [
      'A',
      'J',
    ]);
  });
});
