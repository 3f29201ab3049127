import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  changedSince,
  changeOrder,
  positionMark,
  readPositionMark,
  savedAfterRead,
  savedAgainWithin,
} from '../../src/mapping/dataverseChanges';

describe('Dynamics rows changed since the cursor', () => {
  const cases: { name: string; position: Parameters<typeof changedSince>[0]; filter: string | undefined }[] = [
    { name: 'no cursor yet: every row', position: {}, filter: undefined },
    {
      name: 'a cursor without an id (kept before ids were): the whole second again',
      position: { since: '2026-11-02T09:30:00Z' },
      filter: 'modifiedon ge 2026-11-02T09:30:00Z',
    },
    {
      name: 'a cursor with the last id: later seconds, and later ids of its own second',
      position: { since: '2026-11-02T09:30:00Z', afterId: '0a7c3f3e-2d1b-4c59-9a43-7f1e8f0c2b11' },
      filter:
        '(modifiedon gt 2026-11-02T09:30:00Z or (modifiedon eq 2026-11-02T09:30:00Z and accountid gt 0a7c3f3e-2d1b-4c59-9a43-7f1e8f0c2b11))',
    },
  ];
  for (const { name, position, filter } of cases) {
    it(name, () => assert.equal(changedSince(position, 'accountid'), filter));
  }

  it('rows are read in the same total order the cursor names: modifiedon, then id', () => {
    assert.equal(changeOrder('accountid'), 'modifiedon asc,accountid asc');
  });
});

describe("the overlap of the cursor's last second", () => {
  const id = '0a7c3f3e-2d1b-4c59-9a43-7f1e8f0c2b11';
  const since = '2026-11-02T09:30:00Z';

  it('a mark keeps the last id and the highest row version read, and reads back', () => {
    assert.equal(positionMark(id, 1_000_123n), `${id}@1000123`);
    assert.deepEqual(readPositionMark(`${id}@1000123`), { afterId: id, seenVersion: 1_000_123n });
  });

  it('a bare id (a mark kept before versions were) has no version, and so no overlap', () => {
    assert.deepEqual(readPositionMark(id), { afterId: id });
    assert.equal(savedAgainWithin({ since, afterId: id }, 'accountid'), undefined);
  });

  it("the overlap is the cursor's second up to the position", () => {
    assert.equal(
      savedAgainWithin({ since, afterId: id, seenVersion: 5n }, 'accountid'),
      `modifiedon eq ${since} and accountid le ${id}`,
    );
  });

  it('only a row version newer than the read counts as saved after it', () => {
    assert.equal(savedAfterRead('W/"1000124"', 1_000_123n), true);
    assert.equal(savedAfterRead('W/"1000123"', 1_000_123n), false);
    assert.equal(savedAfterRead(undefined, 1_000_123n), false);
  });
});
