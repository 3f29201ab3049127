import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { changedSince, changeOrder } from '../../src/mapping/dataverseChanges';

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
