import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_OWNERSHIP, type OwnershipPolicy, resolveConflict } from '../../src/mapping';
import { assertError, value } from './mappingResults';

const EARLY = '2024-03-01T09:00:00-08:00'; // 17:00Z
const LATE = '2024-03-01T18:00:00Z';

describe('resolveConflict (default policy)', () => {
  const cases: {
    field: string;
    qb: unknown;
    dv: unknown;
    qbAt: string;
    dvAt: string;
    winner: string;
    conflict: boolean;
    reason: string;
  }[] = [
    {
      field: 'terms',
      qb: 'Net 30',
      dv: 'Net 60',
      qbAt: EARLY,
      dvAt: LATE,
      winner: 'quickbooks',
      conflict: true,
      reason: 'owner',
    },
    {
      field: 'creditLimit',
      qb: '5000',
      dv: '9000',
      qbAt: EARLY,
      dvAt: LATE,
      winner: 'quickbooks',
      conflict: true,
      reason: 'owner',
    },
    {
      field: 'tax',
      qb: 'Tax',
      dv: 'Non',
      qbAt: EARLY,
      dvAt: LATE,
      winner: 'quickbooks',
      conflict: true,
      reason: 'owner',
    },
    {
      field: 'balance',
      qb: '10',
      dv: '0',
      qbAt: EARLY,
      dvAt: LATE,
      winner: 'quickbooks',
      conflict: true,
      reason: 'owner',
    },
    {
      field: 'relationshipType',
      qb: 3,
      dv: 9,
      qbAt: LATE,
      dvAt: EARLY,
      winner: 'dynamics',
      conflict: true,
      reason: 'owner',
    },
    { field: 'category', qb: 1, dv: 2, qbAt: LATE, dvAt: EARLY, winner: 'dynamics', conflict: true, reason: 'owner' },
    { field: 'owner', qb: 'a', dv: 'b', qbAt: LATE, dvAt: EARLY, winner: 'dynamics', conflict: true, reason: 'owner' },
    {
      field: 'name',
      qb: 'Acme',
      dv: 'Acme Inc',
      qbAt: EARLY,
      dvAt: LATE,
      winner: 'dynamics',
      conflict: true,
      reason: 'later-change',
    },
    {
      field: 'phone',
      qb: '1',
      dv: '2',
      qbAt: LATE,
      dvAt: EARLY,
      winner: 'quickbooks',
      conflict: true,
      reason: 'later-change',
    },
    // 09:00-08:00 is 17:00Z: later than 16:30Z although the local clock reads earlier.
    {
      field: 'email',
      qb: 'a@x',
      dv: 'b@x',
      qbAt: EARLY,
      dvAt: '2024-03-01T16:30:00Z',
      winner: 'quickbooks',
      conflict: true,
      reason: 'later-change',
    },
    {
      field: 'address',
      qb: { city: 'A' },
      dv: { city: 'B' },
      qbAt: EARLY,
      dvAt: '2024-03-01T17:00:00Z',
      winner: 'quickbooks',
      conflict: true,
      reason: 'same-time',
    },
    {
      field: 'address',
      qb: { city: 'A', state: 'X' },
      dv: { state: 'X', city: 'A' },
      qbAt: EARLY,
      dvAt: LATE,
      winner: 'quickbooks',
      conflict: false,
      reason: 'equal',
    },
    {
      field: 'creditLimit',
      qb: '5000.00',
      dv: '5000',
      qbAt: EARLY,
      dvAt: LATE,
      winner: 'quickbooks',
      conflict: false,
      reason: 'equal',
    },
    {
      field: 'phone',
      qb: '',
      dv: null,
      qbAt: EARLY,
      dvAt: LATE,
      winner: 'quickbooks',
      conflict: false,
      reason: 'equal',
    },
    {
      field: 'phone',
      qb: '007',
      dv: '7',
      qbAt: EARLY,
      dvAt: LATE,
      winner: 'dynamics',
      conflict: true,
      reason: 'later-change',
    },
    {
      field: 'website',
      qb: 'a',
      dv: 'b',
      qbAt: EARLY,
      dvAt: LATE,
      winner: 'dynamics',
      conflict: true,
      reason: 'later-change',
    },
  ];
  for (const c of cases) {
    it(`${c.field}: ${JSON.stringify(c.qb)} vs ${JSON.stringify(c.dv)} → ${c.winner} (${c.reason})`, () => {
      const r = value(resolveConflict(c.field, c.qb, c.dv, c.qbAt, c.dvAt));
      assert.equal(r.winner, c.winner);
      assert.equal(r.conflict, c.conflict);
      assert.equal(r.reason, c.reason);
      assert.deepEqual(r.value, c.winner === 'quickbooks' ? c.qb : c.dv);
    });
  }

  it('the default policy declares the owners the design names', () => {
    assert.equal(DEFAULT_OWNERSHIP.owners.terms, 'quickbooks');
    assert.equal(DEFAULT_OWNERSHIP.owners.category, 'dynamics');
    assert.equal(DEFAULT_OWNERSHIP.owners.address, 'latest');
  });

  const badTimes: { qbAt: string; dvAt: string; field: string }[] = [
    { qbAt: 'yesterday', dvAt: LATE, field: 'qbModifiedAt' },
    { qbAt: EARLY, dvAt: '2024-03-01T18:00:00', field: 'dvModifiedAt' },
    { qbAt: EARLY, dvAt: '', field: 'dvModifiedAt' },
  ];
  for (const b of badTimes) {
    it(`an unreadable ${b.field} "${b.dvAt || b.qbAt}" is an error under a later-change rule`, () => {
      assertError(resolveConflict('name', 'a', 'b', b.qbAt, b.dvAt), b.field, 'timestamp');
    });
  }
  it('owner rules need no timestamps', () => {
    assert.equal(value(resolveConflict('terms', 'a', 'b', 'garbage', 'garbage')).winner, 'quickbooks');
  });
});

describe('resolveConflict (custom policy)', () => {
  const policy: OwnershipPolicy = { owners: { name: 'quickbooks' }, fallback: 'dynamics' };
  it('named field follows its owner', () =>
    assert.equal(value(resolveConflict('name', 'a', 'b', EARLY, LATE, policy)).winner, 'quickbooks'));
  it('unnamed field follows the fallback', () =>
    assert.equal(value(resolveConflict('phone', '1', '2', LATE, EARLY, policy)).winner, 'dynamics'));
  it('a prototype name is not an owner entry', () =>
    assert.equal(value(resolveConflict('toString', '1', '2', LATE, EARLY, policy)).winner, 'dynamics'));
});
