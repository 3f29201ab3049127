import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  cursorAfter,
  cursorAfterPage,
  type CrowdedInstants,
  invoiceReadFrom,
  OVERLAP_IDS_AT_MOST,
  QUICKBOOKS_OVERLAP_MS,
  readFrom,
  recordId,
  seenAfter,
  sublevel,
  unseen,
} from '../../src/mapping/quickbooksChanges';
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
      name: 'records after the cursor second are news',
      records: [b],
      cursors: { 'qb:Customer': T1, 'qb:Customer:seen': 'A@1' },
      news: ['B'],
    },
    {
      // Issue 11 item 15: the read starts an overlap window before the cursor.
      name: 'read again in the overlap window: the versions already handed off are dropped, a late commit is news',
      records: [a, customer('L', '2024-03-01T08:59:40-08:00', '1'), b],
      cursors: { 'qb:Customer': T2, 'qb:Customer:seen': 'A@1,B@1' },
      news: ['L'],
    },
  ];
  for (const { name, records, cursors, news } of cases) {
    it(name, () => assert.deepEqual(unseen(records, cursors, 'qb:Customer').map(recordId), news));
  }

  it('without an overlap the cursor moves to the newest second read, remembering every record at it', () => {
    assert.deepEqual(cursorAfter('qb:Customer', [a, b, c], {}, 0), {
      'qb:Customer': T2,
      'qb:Customer:seen': 'B@1,C@1',
    });
  });

  it('a cursor that stays on the same second keeps what it had seen there', () => {
    assert.deepEqual(cursorAfter('qb:Customer', [c], { 'qb:Customer': T2, 'qb:Customer:seen': 'B@1' }, 0), {
      'qb:Customer': T2,
      'qb:Customer:seen': 'B@1,C@1',
    });
  });

  it('nothing read: the cursor does not move', () => {
    assert.deepEqual(cursorAfter('qb:Customer', [], { 'qb:Customer': T1 }, QUICKBOOKS_OVERLAP_MS), {});
  });

  it('the cursor remembers every version read within the overlap window before it, and none older', () => {
    const old = customer('O', '2024-03-01T07:40:00-08:00', '1');
    assert.deepEqual(cursorAfter('qb:Customer', [old, a, b, c], {}, QUICKBOOKS_OVERLAP_MS), {
      'qb:Customer': T2,
      'qb:Customer:seen': 'A@1,B@1,C@1',
    });
  });

  it('records read only in the overlap never move the cursor back, and are remembered as seen', () => {
    const late = customer('L', '2024-03-01T08:59:40-08:00', '1');
    assert.deepEqual(
      cursorAfter('qb:Customer', [a, late], { 'qb:Customer': T2, 'qb:Customer:seen': 'B@1' }, QUICKBOOKS_OVERLAP_MS),
      { 'qb:Customer': T2, 'qb:Customer:seen': 'B@1,A@1,L@1' },
    );
  });

  it('the next read starts the overlap window before the cursor, in the offset QuickBooks stamped it with', () => {
    assert.equal(readFrom({ 'qb:Customer': T2 }, 'qb:Customer', QUICKBOOKS_OVERLAP_MS), '2024-03-01T07:45:05-08:00');
    assert.equal(readFrom({ 'qb:Customer': T2 }, 'qb:Customer', 0), T2);
    assert.equal(readFrom({}, 'qb:Customer', QUICKBOOKS_OVERLAP_MS), undefined);
  });

  it('when clocks go back, the window covers the repeated hour QuickBooks filters in local time', () => {
    // The cursor was stamped 01:50 PDT; an edit at 01:10 PST (40 minutes later) reads 01:10 on QuickBooks' clock.
    const from = readFrom({ 'qb:Customer': '2026-11-01T01:50:00-07:00' }, 'qb:Customer', QUICKBOOKS_OVERLAP_MS);
    assert.equal(from, '2026-11-01T00:35:00-07:00');
    assert.ok(from!.slice(11, 19) <= '01:10:00', 'the edit in the repeated hour is read');
  });

  it('jobs sort after their customers by sub-level', () => {
    assert.deepEqual([customer('J', T1, '1', 1), a].sort((x, y) => sublevel(x) - sublevel(y)).map(recordId), [
      'A',
      'J',
    ]);
  });
});

/** A read handed off `pageSize` records at a time: where it moves the cursor, and the most ids kept between pages. */
function readInPages(
  records: QbRecord[],
  cursors: Readonly<Record<string, string>>,
  pageSize: number,
  crowdedInstants: CrowdedInstants = 'kept',
) {
  let advanced: Record<string, string> = {};
  let window = {};
  let largestWindow = 0;
  for (let at = 0; at < records.length; at += pageSize) {
    const page = records.slice(at, at + pageSize);
    const moved = cursorAfterPage('qb:Customer', page, cursors, advanced, window, QUICKBOOKS_OVERLAP_MS, {
      crowdedInstants,
    });
    advanced = { ...advanced, ...moved.advanced };
    window = moved.window;
    largestWindow = Math.max(largestWindow, Object.keys(window).length);
  }
  return { advanced, largestWindow };
}

describe('QuickBooks changes: the cursor of a read handed off page by page (issue 11 item 5)', () => {
  /** 300 customers a minute apart, over five hours, in an order that is not TimeModified's. */
  const read = Array.from({ length: 300 }, (_, i) =>
    customer(`C${i}`, new Date(Date.parse('2024-03-01T17:00:00Z') + ((i * 37) % 300) * 60_000).toISOString(), '1'),
  );
  const seenOf = (cursor: Record<string, string>) => new Set((cursor['qb:Customer:seen'] ?? '').split(','));

  for (const [name, cursors] of [
    ['a first read', {}],
    ['a read past its cursor', { 'qb:Customer': '2024-03-01T16:00:00Z', 'qb:Customer:seen': 'X@1' }],
    [
      'a read that finds nothing newer than its cursor',
      { 'qb:Customer': '2024-03-02T00:00:00Z', 'qb:Customer:seen': 'X@1' },
    ],
  ] as const) {
    it(`${name}: page by page, the cursor the whole read gives, keeping one window of ids between pages`, () => {
      const { advanced, largestWindow } = readInPages(read, cursors, 25);
      const whole = cursorAfter('qb:Customer', read, cursors, QUICKBOOKS_OVERLAP_MS);
      assert.equal(advanced['qb:Customer'], whole['qb:Customer']);
      assert.deepEqual(seenOf(advanced), seenOf(whole));
      // 75 minutes of records a minute apart, however long the read.
      assert.ok(largestWindow <= 76, `${largestWindow} ids kept between pages`);
    });
  }
});

describe('QuickBooks changes: a crowded overlap window (a fresh import, a mass update)', () => {
  const seenOf = (cursor: Record<string, string>) => (cursor['qb:Customer:seen'] ?? '').split(',').filter(Boolean);
  /** 5,000 customers modified a second apart, all within the overlap window, read in pages of 100. */
  const crowd = Array.from({ length: 5000 }, (_, i) =>
    customer(`M${i}`, new Date(Date.parse('2026-12-06T20:00:00Z') + i * 1000).toISOString(), '1'),
  );

  it('keeps the newest records of the window, and the next read starts at the oldest kept', () => {
    const { advanced, largestWindow } = readInPages(crowd, {}, 100);
    assert.ok(largestWindow <= OVERLAP_IDS_AT_MOST, `${largestWindow} ids kept between pages`);
    assert.equal(seenOf(advanced).length, OVERLAP_IDS_AT_MOST);
    const oldestKept = crowd[crowd.length - OVERLAP_IDS_AT_MOST]!;
    assert.equal(advanced['qb:Customer:from'], (oldestKept as { timeModified: string }).timeModified);
    assert.equal(readFrom(advanced, 'qb:Customer', QUICKBOOKS_OVERLAP_MS), advanced['qb:Customer:from']);
  });

  it('the next read hands off none of what it reads again, and only what changed since', () => {
    const { advanced } = readInPages(crowd, {}, 100);
    const from = Date.parse(readFrom(advanced, 'qb:Customer', QUICKBOOKS_OVERLAP_MS)!);
    // What a read from there returns: the records kept, one of them edited since, and a new one.
    const edited = customer('M4999', '2026-12-06T21:30:00Z', '2');
    const added = customer('N1', '2026-12-06T21:30:01Z', '1');
    const again = [
      ...crowd.filter(
        (r) => Date.parse((r as { timeModified: string }).timeModified) >= from && recordId(r) !== 'M4999',
      ),
      edited,
      added,
    ];
    assert.deepEqual(unseen(again, advanced, 'qb:Customer').map(recordId), ['M4999', 'N1']);
  });

  it('records of one instant are kept together past the count: a read from that instant returns them all', () => {
    const sameSecond = Array.from({ length: OVERLAP_IDS_AT_MOST + 10 }, (_, i) =>
      customer(`S${i}`, '2026-12-06T20:05:00Z', '1'),
    );
    const { advanced } = readInPages([...crowd.slice(0, 100), ...sameSecond], {}, 100);
    assert.equal(seenOf(advanced).length, OVERLAP_IDS_AT_MOST + 10);
    assert.equal(unseen(sameSecond, advanced, 'qb:Customer').length, 0);
  });

  it('an instant crowded past the count, once skipped: the window within the count, the next read after it', () => {
    // 25,000 records of one second (an import) after 100 others: kept whole, each id went with the cycle twice.
    const sameSecond = Array.from({ length: 12 * OVERLAP_IDS_AT_MOST + 1 }, (_, i) =>
      customer(`S${i}`, '2026-12-06T20:05:00-05:00', '1'),
    );
    const later = customer('L1', '2026-12-06T20:06:00-05:00', '1');
    for (const tail of [[], [later]]) {
      const { advanced, largestWindow } = readInPages(
        [...crowd.slice(0, 100), ...sameSecond, ...tail],
        {},
        1000,
        'skipped',
      );
      assert.ok(largestWindow <= OVERLAP_IDS_AT_MOST, `${largestWindow} ids kept between pages`);
      assert.ok(seenOf(advanced).length <= OVERLAP_IDS_AT_MOST);
      assert.equal(
        advanced['qb:Customer'],
        tail.length > 0 ? '2026-12-06T20:06:00-05:00' : '2026-12-06T20:05:00-05:00',
      );
      // A second after the crowded instant, in QuickBooks' own offset; the newer record is read again and known.
      assert.equal(advanced['qb:Customer:from'], '2026-12-06T20:05:01-05:00');
      assert.equal(readFrom(advanced, 'qb:Customer', QUICKBOOKS_OVERLAP_MS), '2026-12-06T20:05:01-05:00');
      assert.deepEqual(unseen(tail, advanced, 'qb:Customer'), []);
    }
  });

  it('an instant at the edge of the count is skipped too: the window never holds more than the count', () => {
    // 1,990 records of one second, then 20 a second apart: kept whole, the window would hold 2,010 ids.
    const sameSecond = Array.from({ length: OVERLAP_IDS_AT_MOST - 10 }, (_, i) =>
      customer(`S${i}`, '2026-12-06T20:05:00Z', '1'),
    );
    const after = Array.from({ length: 20 }, (_, i) =>
      customer(`A${i}`, new Date(Date.parse('2026-12-06T20:06:00Z') + i * 1000).toISOString(), '1'),
    );
    const kept = readInPages([...sameSecond, ...after], {}, 100);
    assert.equal(seenOf(kept.advanced).length, OVERLAP_IDS_AT_MOST + 10, 'cycles recorded before kept it whole');
    const { advanced } = readInPages([...sameSecond, ...after], {}, 100, 'skipped');
    assert.deepEqual(seenOf(advanced).sort(), after.map((r) => `${recordId(r)}@1`).sort());
    assert.equal(advanced['qb:Customer:from'], '2026-12-06T20:05:01Z');
  });

  it('the seen list is made again from the window and the cursors the read began with', () => {
    const cursors = { 'qb:Customer': '2026-12-06T20:05:00Z', 'qb:Customer:seen': 'P@1,Q@1' };
    const window = { 'Q@1': '2026-12-06T20:05:00Z', 'R@1': '2026-12-06T20:05:00Z' };
    assert.equal(seenAfter('qb:Customer', cursors, '2026-12-06T20:05:00Z', window), 'P@1,Q@1,R@1');
    // Once the cursor moves, only the window's.
    assert.equal(seenAfter('qb:Customer', cursors, '2026-12-06T20:06:00Z', window), 'Q@1,R@1');
    // What a read hands over between pages makes the list it keeps, wherever the cursor stood.
    for (const began of [{}, cursors, { ...cursors, 'qb:Customer': '2026-12-06T20:00:00Z' }]) {
      const read = [customer('Q', '2026-12-06T20:05:00Z', '1'), ...crowd.slice(0, 50)];
      const moved = cursorAfterPage('qb:Customer', read, began, {}, {}, QUICKBOOKS_OVERLAP_MS);
      const latest = moved.advanced['qb:Customer']!;
      assert.equal(seenAfter('qb:Customer', began, latest, moved.window), moved.advanced['qb:Customer:seen']);
    }
  });

  it('in the small hours a full overlap is read: an edit in the hour repeated when clocks go back is found', () => {
    // 2,000 records modified just before 02:00 EDT; clocks go back, and a person edits a record at 01:20 EST, which
    // QuickBooks filters by its local time. Starting at the window kept (01:50) would never read that edit.
    const cursors = { 'qb:Customer': '2026-11-01T01:55:00-04:00', 'qb:Customer:from': '2026-11-01T01:50:00-04:00' };
    const from = readFrom(cursors, 'qb:Customer', QUICKBOOKS_OVERLAP_MS)!;
    assert.equal(from, '2026-11-01T00:40:00-04:00');
    assert.ok(from.slice(11, 19) <= '01:20:00');
  });

  it('a window kept long ago no longer shortens the overlap once the cursor has moved past it', () => {
    const cursors = { 'qb:Customer': '2026-12-06T23:00:00Z', 'qb:Customer:from': '2026-12-06T21:00:00Z' };
    assert.equal(readFrom(cursors, 'qb:Customer', QUICKBOOKS_OVERLAP_MS), '2026-12-06T21:45:00Z');
    assert.equal(
      readFrom({ ...cursors, 'qb:Customer:from': '2026-12-06T22:00:00Z' }, 'qb:Customer', QUICKBOOKS_OVERLAP_MS),
      '2026-12-06T22:00:00Z',
    );
  });
});

describe('quickbooks changes: where the invoice read starts', () => {
  const now = Date.parse('2026-12-04T18:00:00Z');
  it('the cursor, once there is one', () => {
    assert.equal(invoiceReadFrom(T1, { daysBack: 90 }, now), T1);
  });
  it('else the configured number of days back, as a date (the first poll does not read every invoice ever)', () => {
    assert.equal(invoiceReadFrom(undefined, { daysBack: 90 }, now), '2026-09-05');
    assert.equal(invoiceReadFrom(undefined, { daysBack: 0 }, now), '2026-12-04');
  });
  it('else the configured date', () => {
    assert.equal(invoiceReadFrom(undefined, { date: '2024-01-01' }, now), '2024-01-01');
  });
  it('settings recorded before the option existed: 90 days back', () => {
    assert.equal(invoiceReadFrom(undefined, undefined, now), '2026-09-05');
  });
});
