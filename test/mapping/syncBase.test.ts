import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ACCOUNT_SYNC_COLUMNS,
  type AccountRecord,
  accountSyncFields,
  decodeQuickBooksVersion,
  decodeSyncBase,
  DEFAULT_OWNERSHIP,
  encodeSyncBase,
  encodeSyncBaseWithEdits,
  mergeSyncFields,
  PRODUCT_COLUMN_GROUPS,
  productSyncFields,
  quickbooksVersionSuperseded,
  sameSyncFields,
  SYNC_BASE_MAX_LENGTH,
  withoutQuickBooksVersion,
  type SyncFields,
  type SyncMergeInput,
} from '../../src/mapping';
import { assertError, value } from './mappingResults';

const EARLY = '2024-03-01T09:00:00-08:00'; // 17:00Z
const LATE = '2024-03-01T18:00:00Z';

/** The address both sides held at the last sync. */
const SPRINGFIELD = {
  address1_line1: '12 Elm St',
  address1_city: 'Springfield',
  address1_stateorprovince: 'IL',
  address1_postalcode: '62701',
  address1_country: 'USA',
};

const BASE_ACCOUNT: AccountRecord = {
  name: 'Acme',
  accountnumber: '007',
  telephone1: '555-0100',
  fax: '555-0101',
  emailaddress1: 'ap@acme.test',
  paymenttermscode: 1,
  creditlimit: '5000.00',
  accountcategorycode: 2,
  ...SPRINGFIELD,
  address2_line1: '1 Dock Rd',
  address2_city: 'Springfield',
};

const base = accountSyncFields(BASE_ACCOUNT);
const account = (changes: Partial<AccountRecord>): SyncFields => accountSyncFields({ ...BASE_ACCOUNT, ...changes });

function merge(input: Partial<SyncMergeInput> & Pick<SyncMergeInput, 'quickbooks' | 'dynamics'>) {
  return mergeSyncFields({
    base,
    qbModifiedAt: EARLY,
    dvModifiedAt: LATE,
    policy: DEFAULT_OWNERSHIP,
    ...input,
  });
}

describe('accountSyncFields / productSyncFields', () => {
  it('projects every sync column and nothing else, absent columns as null', () => {
    const fields = accountSyncFields({ name: 'Acme', accountid: 'x', customertypecode: 3, modifiedon: LATE });
    assert.deepEqual(Object.keys(fields), [...ACCOUNT_SYNC_COLUMNS]);
    assert.equal(fields.name, 'Acme');
    assert.equal(fields.address2_country, null);
    assert.ok(ACCOUNT_SYNC_COLUMNS.includes('address2_stateorprovince'));
    assert.equal(ACCOUNT_SYNC_COLUMNS.length, 8 + 2 * 7 + 1);
    assert.equal(fields.statecode, null);
  });

  const cases: { title: string; row: Record<string, unknown>; column: string; expected: string | number | null }[] = [
    { title: 'text is trimmed', row: { name: '  Acme  ' }, column: 'name', expected: 'Acme' },
    { title: 'blank text is null', row: { telephone1: '   ' }, column: 'telephone1', expected: null },
    { title: 'leading zeros stay text', row: { accountnumber: '007' }, column: 'accountnumber', expected: '007' },
    { title: 'money gets two places', row: { creditlimit: '5000' }, column: 'creditlimit', expected: '5000.00' },
    { title: 'money from a number', row: { creditlimit: 5000.5 }, column: 'creditlimit', expected: '5000.50' },
    { title: 'money keeps four decimals', row: { creditlimit: '1.23750' }, column: 'creditlimit', expected: '1.2375' },
    { title: 'negative zero money', row: { creditlimit: '-0' }, column: 'creditlimit', expected: '0.00' },
    { title: 'blank money is null', row: { creditlimit: ' ' }, column: 'creditlimit', expected: null },
    { title: 'malformed money stays text', row: { creditlimit: '1e3' }, column: 'creditlimit', expected: '1e3' },
    { title: 'choices stay numbers', row: { paymenttermscode: 4 }, column: 'paymenttermscode', expected: 4 },
    { title: 'null choice', row: { accountcategorycode: null }, column: 'accountcategorycode', expected: null },
  ];
  for (const c of cases) {
    it(c.title, () => assert.equal(accountSyncFields(c.row as AccountRecord)[c.column], c.expected));
  }

  it('normalises product prices and costs as money', () => {
    assert.deepEqual(productSyncFields({ name: ' Hinge ', price: '95', standardcost: 1.2375, productnumber: 'H' }), {
      name: 'Hinge',
      description: null,
      price: '95.00',
      standardcost: '1.2375',
      statecode: null,
    });
  });

  it('active status: only state 1 (account Inactive, product Retired) is inactive; Draft and Under Revision are active', () => {
    assert.equal(accountSyncFields({ statecode: 1 }).statecode, 1);
    assert.equal(accountSyncFields({ statecode: 0 }).statecode, null);
    for (const statecode of [0, 2, 3]) assert.equal(productSyncFields({ statecode }).statecode, null);
    assert.equal(productSyncFields({ statecode: 1 }).statecode, 1);
  });
});

describe('encodeSyncBase / decodeSyncBase', () => {
  it('round-trips', () => {
    // An active record's base leaves its null statecode out, so it reads as it did before active status was synced.
    const { statecode, ...stored } = base;
    assert.equal(statecode, null);
    assert.deepEqual(decodeSyncBase(encodeSyncBase(base)), stored);
    const inactive = { ...base, statecode: 1 };
    assert.deepEqual(decodeSyncBase(encodeSyncBase(inactive)), inactive);
  });

  it('gives the same text whatever the key order', () => {
    assert.equal(encodeSyncBase({ b: 1, a: 'x', c: null }), encodeSyncBase({ c: null, a: 'x', b: 1 }));
    assert.equal(encodeSyncBase({ b: 1, a: 'x' }), '{"a":"x","b":1}');
  });

  const garbage: { title: string; text: string | null | undefined }[] = [
    { title: 'null', text: null },
    { title: 'undefined', text: undefined },
    { title: 'blank', text: '  ' },
    { title: 'not JSON', text: '{"name":' },
    { title: 'an array', text: '["Acme"]' },
    { title: 'a string', text: '"Acme"' },
    { title: 'JSON null', text: 'null' },
    { title: 'a nested object', text: '{"name":{"first":"A"}}' },
    { title: 'a boolean value', text: '{"name":true}' },
    { title: 'an array value', text: '{"name":[]}' },
  ];
  for (const g of garbage) it(`decodes ${g.title} as null`, () => assert.equal(decodeSyncBase(g.text), null));

  it('fits the column by digesting the longest values, and still detects their change', () => {
    const long = 'x'.repeat(SYNC_BASE_MAX_LENGTH);
    const fields = productSyncFields({ name: 'Hinge', description: long, price: '4.5' });
    const text = encodeSyncBase(fields);
    assert.ok(text.length <= SYNC_BASE_MAX_LENGTH, `${text.length} characters`);
    const stored = decodeSyncBase(text);
    assert.ok(stored !== null);
    assert.equal(stored.name, 'Hinge');
    assert.ok(sameSyncFields(stored, fields));
    assert.ok(!sameSyncFields(stored, { ...fields, description: `${long}y` }));
    const m = value(
      mergeSyncFields({
        base: stored,
        quickbooks: fields,
        dynamics: { ...fields, description: 'short' },
        qbModifiedAt: EARLY,
        dvModifiedAt: LATE,
        policy: DEFAULT_OWNERSHIP,
        columnGroups: PRODUCT_COLUMN_GROUPS,
      }),
    );
    assert.deepEqual(m.changedInQuickBooks, []);
    assert.deepEqual(m.changedInDynamics, ['description']);
    assert.equal(m.merged.description, 'short');
  });
});

describe('the QuickBooks version a base was agreed at (@quickbooksVersion)', () => {
  const fields = { name: 'Harbor Supply', telephone1: '555-8441' };
  const v2 = { editSequence: '1764970002', timeModified: '2026-12-05T10:00:02-08:00' };

  it('is stored beside the fields under @quickbooksVersion, which the fields never show', () => {
    const text = encodeSyncBase(fields, { quickbooksVersion: v2 });
    assert.deepEqual(JSON.parse(text)['@quickbooksVersion'], v2);
    assert.deepEqual(decodeSyncBase(text), fields);
    assert.deepEqual(decodeQuickBooksVersion(text), v2);
    assert.equal(withoutQuickBooksVersion(text), encodeSyncBase(fields));
  });

  it('is kept beside the Dynamics edits a base was written over', () => {
    const text = encodeSyncBaseWithEdits(
      fields,
      { at: '2026-12-05T18:00:00Z', columns: { fax: null } },
      {
        quickbooksVersion: v2,
      },
    );
    assert.deepEqual(decodeQuickBooksVersion(text), v2);
    assert.deepEqual(decodeSyncBase(text), fields);
    assert.equal(
      withoutQuickBooksVersion(text),
      encodeSyncBaseWithEdits(fields, { at: '2026-12-05T18:00:00Z', columns: { fax: null } }),
    );
  });

  it('is left out, never the fields, when the column has no room for it', () => {
    const long = { name: 'x'.repeat(SYNC_BASE_MAX_LENGTH - 12) };
    const text = encodeSyncBase(long, { quickbooksVersion: v2 });
    assert.ok(text.length <= SYNC_BASE_MAX_LENGTH);
    assert.equal(text, encodeSyncBase(long));
    assert.equal(decodeQuickBooksVersion(text), null);
  });

  it('is passed by name beside the QuickBooks form, and the text is the one stored bases already carry', () => {
    const form = { name: 'Harbor Supply Co' };
    // Workflows replay their planners, so this text must not move.
    assert.equal(
      encodeSyncBase(fields, { quickbooksForm: form, quickbooksVersion: v2 }),
      '{"name":"Harbor Supply","telephone1":"555-8441","@quickbooksForm":{"name":"Harbor Supply Co"},' +
        '"@quickbooksVersion":{"editSequence":"1764970002","timeModified":"2026-12-05T10:00:02-08:00"}}',
    );
    // A version has the shape of a form (strings by key): passed bare, either would be dropped without a word.
    // @ts-expect-error a QuickBooks form is not the marks
    assert.equal(encodeSyncBase(fields, form), encodeSyncBase(fields));
    // @ts-expect-error a QuickBooks version is not the marks
    assert.equal(encodeSyncBase(fields, v2), encodeSyncBase(fields));
  });

  const cases: { title: string; carried: { editSequence: string; timeModified: string }; superseded: boolean }[] = [
    { title: 'the same version', carried: v2, superseded: false },
    {
      title: 'an earlier TimeModified (offsets compared as instants)',
      carried: { editSequence: '1764970001', timeModified: '2026-12-05T18:00:01Z' },
      superseded: true,
    },
    {
      title: 'a later TimeModified',
      carried: { editSequence: '1764970003', timeModified: '2026-12-05T10:00:03-08:00' },
      superseded: false,
    },
    {
      title: 'the same second, a lower EditSequence',
      carried: { editSequence: '1764970001', timeModified: '2026-12-05T18:00:02Z' },
      superseded: true,
    },
    {
      title: 'the same second, a higher EditSequence',
      carried: { editSequence: '1764970003', timeModified: '2026-12-05T18:00:02Z' },
      superseded: false,
    },
    {
      title: 'the same second, an EditSequence that is no number',
      carried: { editSequence: 'A1', timeModified: '2026-12-05T18:00:02Z' },
      superseded: false,
    },
    { title: 'no TimeModified', carried: { editSequence: '1', timeModified: '' }, superseded: false },
  ];
  for (const c of cases) {
    it(`a run carrying ${c.title} is ${c.superseded ? '' : 'not '}superseded`, () =>
      assert.equal(
        quickbooksVersionSuperseded(encodeSyncBase(fields, { quickbooksVersion: v2 }), c.carried),
        c.superseded,
      ));
  }

  it('a base written by older code (no version) supersedes nothing and reads as before', () => {
    const old = encodeSyncBase(fields);
    assert.equal(quickbooksVersionSuperseded(old, { editSequence: '1', timeModified: '2000-01-01T00:00:00Z' }), false);
    assert.equal(decodeQuickBooksVersion(old), null);
    assert.equal(withoutQuickBooksVersion(old), old);
    assert.equal(quickbooksVersionSuperseded(null, v2), false);
  });
});

describe('sameSyncFields', () => {
  const cases: { title: string; a: SyncFields; b: SyncFields; same: boolean }[] = [
    { title: 'money by value', a: { creditlimit: '5000' }, b: { creditlimit: '5000.00' }, same: true },
    { title: 'other decimals as text', a: { accountnumber: '7' }, b: { accountnumber: '007' }, same: false },
    { title: 'blank equals null', a: { fax: '' }, b: { fax: null }, same: true },
    { title: 'missing equals null', a: { fax: null }, b: {}, same: true },
    { title: 'case matters', a: { name: 'ACME' }, b: { name: 'Acme' }, same: false },
    { title: 'choice 0 is not null', a: { paymenttermscode: 0 }, b: { paymenttermscode: null }, same: false },
  ];
  for (const c of cases) it(c.title, () => assert.equal(sameSyncFields(c.a, c.b), c.same));
});

describe('mergeSyncFields', () => {
  const cases: {
    title: string;
    qb: Partial<AccountRecord>;
    dv: Partial<AccountRecord>;
    qbAt?: string;
    dvAt?: string;
    changedInQuickBooks: string[];
    changedInDynamics: string[];
    merged: Partial<Record<string, string | number | null>>;
    conflicts: { field: string; columns: string[]; winner: string; reason: string }[];
  }[] = [
    {
      title: 'nothing changed',
      qb: {},
      dv: {},
      changedInQuickBooks: [],
      changedInDynamics: [],
      merged: base,
      conflicts: [],
    },
    {
      title: 'changed only in QuickBooks takes QuickBooks',
      qb: { telephone1: '555-0199' },
      dv: {},
      changedInQuickBooks: ['telephone1'],
      changedInDynamics: [],
      merged: { telephone1: '555-0199' },
      conflicts: [],
    },
    {
      title: 'changed only in Dynamics takes Dynamics, even against an owner',
      qb: {},
      dv: { creditlimit: '9000' },
      changedInQuickBooks: [],
      changedInDynamics: ['creditlimit'],
      merged: { creditlimit: '9000.00' },
      conflicts: [],
    },
    {
      title: 'a cleared value is a change',
      qb: {},
      dv: { fax: null },
      changedInQuickBooks: [],
      changedInDynamics: ['fax'],
      merged: { fax: null },
      conflicts: [],
    },
    {
      title: '"5000" against "5000.00" is no change',
      qb: { creditlimit: '5000' },
      dv: { creditlimit: 5000 },
      changedInQuickBooks: [],
      changedInDynamics: [],
      merged: { creditlimit: '5000.00' },
      conflicts: [],
    },
    {
      title: 'blank against null is no change',
      qb: { address2_line2: '' },
      dv: { address2_line2: null },
      changedInQuickBooks: [],
      changedInDynamics: [],
      merged: { address2_line2: null },
      conflicts: [],
    },
    {
      title: 'both changed to the same value: no conflict',
      qb: { emailaddress1: 'billing@acme.test' },
      dv: { emailaddress1: ' billing@acme.test ' },
      changedInQuickBooks: ['emailaddress1'],
      changedInDynamics: ['emailaddress1'],
      merged: { emailaddress1: 'billing@acme.test' },
      conflicts: [],
    },
    {
      title: 'both changed a latest field: the later change wins',
      qb: { name: 'Acme Corp' },
      dv: { name: 'Acme Inc' },
      changedInQuickBooks: ['name'],
      changedInDynamics: ['name'],
      merged: { name: 'Acme Inc' },
      conflicts: [{ field: 'name', columns: ['name'], winner: 'dynamics', reason: 'later-change' }],
    },
    {
      title: 'both changed at the same instant: QuickBooks wins',
      qb: { name: 'Acme Corp' },
      dv: { name: 'Acme Inc' },
      qbAt: '2024-03-01T10:00:00-08:00',
      dvAt: '2024-03-01T18:00:00Z',
      changedInQuickBooks: ['name'],
      changedInDynamics: ['name'],
      merged: { name: 'Acme Corp' },
      conflicts: [{ field: 'name', columns: ['name'], winner: 'quickbooks', reason: 'same-time' }],
    },
    {
      title: 'both changed an owned field: the owner wins whatever the time',
      qb: { paymenttermscode: 4, accountcategorycode: 7 },
      dv: { paymenttermscode: 2, accountcategorycode: 9 },
      changedInQuickBooks: ['paymenttermscode', 'accountcategorycode'],
      changedInDynamics: ['paymenttermscode', 'accountcategorycode'],
      merged: { paymenttermscode: 4, accountcategorycode: 9 },
      conflicts: [
        { field: 'terms', columns: ['paymenttermscode'], winner: 'quickbooks', reason: 'owner' },
        { field: 'category', columns: ['accountcategorycode'], winner: 'dynamics', reason: 'owner' },
      ],
    },
    {
      title: 'one conflict per field, not per column; the other column of the field merges on its own',
      qb: { telephone1: '555-0111', fax: '555-0112' },
      dv: { telephone1: '555-0222' },
      qbAt: LATE,
      dvAt: EARLY,
      changedInQuickBooks: ['telephone1', 'fax'],
      changedInDynamics: ['telephone1'],
      merged: { telephone1: '555-0111', fax: '555-0112' },
      conflicts: [{ field: 'phone', columns: ['telephone1'], winner: 'quickbooks', reason: 'later-change' }],
    },
    {
      title: 'an address is decided as a unit: no street from one side with the city of the other',
      qb: { address1_line1: '99 Oak Ave', address1_city: 'Chicago', address1_postalcode: '60601' },
      dv: { address1_city: 'Peoria', address1_postalcode: '61602' },
      changedInQuickBooks: ['address1_line1', 'address1_city', 'address1_postalcode'],
      changedInDynamics: ['address1_city', 'address1_postalcode'],
      merged: {
        address1_line1: '12 Elm St',
        address1_city: 'Peoria',
        address1_postalcode: '61602',
        address1_stateorprovince: 'IL',
      },
      conflicts: [
        {
          field: 'address',
          columns: ['address1_line1', 'address1_city', 'address1_postalcode'],
          winner: 'dynamics',
          reason: 'later-change',
        },
      ],
    },
    {
      title: 'the other address merges on its own: parts changed on one side are taken without a conflict',
      qb: { address1_city: 'Chicago', address2_line2: 'Gate 4' },
      dv: { address1_city: 'Peoria', address2_postalcode: '62702' },
      changedInQuickBooks: ['address1_city', 'address2_line2'],
      changedInDynamics: ['address1_city', 'address2_postalcode'],
      merged: { address1_city: 'Peoria', address2_line2: 'Gate 4', address2_postalcode: '62702' },
      conflicts: [{ field: 'address', columns: ['address1_city'], winner: 'dynamics', reason: 'later-change' }],
    },
  ];
  for (const c of cases) {
    it(c.title, () => {
      const m = value(
        merge({
          quickbooks: account(c.qb),
          dynamics: account(c.dv),
          qbModifiedAt: c.qbAt ?? EARLY,
          dvModifiedAt: c.dvAt ?? LATE,
        }),
      );
      assert.deepEqual(m.changedInQuickBooks, c.changedInQuickBooks);
      assert.deepEqual(m.changedInDynamics, c.changedInDynamics);
      for (const [column, expected] of Object.entries(c.merged)) {
        assert.equal(m.merged[column], expected, column);
      }
      assert.deepEqual(
        m.conflicts.map(({ field, columns, winner, reason }) => ({ field, columns, winner, reason })),
        c.conflicts,
      );
      // Written back to both systems, the merged values are a fixed point: the next sync finds nothing to do.
      const again = value(merge({ base: m.merged, quickbooks: m.merged, dynamics: m.merged }));
      assert.deepEqual([again.changedInQuickBooks, again.changedInDynamics, again.conflicts], [[], [], []]);
      assert.ok(sameSyncFields(again.merged, m.merged));
      assert.equal(encodeSyncBase(decodeSyncBase(encodeSyncBase(m.merged)) ?? {}), encodeSyncBase(m.merged));
    });
  }

  it('records the three versions of the decided columns', () => {
    const m = value(
      merge({ quickbooks: account({ address1_city: 'Chicago' }), dynamics: account({ address1_city: 'Peoria' }) }),
    );
    assert.deepEqual(m.conflicts[0], {
      field: 'address',
      columns: ['address1_city'],
      base: { address1_city: 'Springfield' },
      quickbooks: { address1_city: 'Chicago' },
      dynamics: { address1_city: 'Peoria' },
      winner: 'dynamics',
      reason: 'later-change',
    });
  });

  it('no Dataverse row yet: QuickBooks as it is, no conflicts', () => {
    const quickbooks = account({ name: 'Acme Corp' });
    const m = value(merge({ base: null, quickbooks, dynamics: null, dvModifiedAt: null }));
    assert.deepEqual(m.merged, quickbooks);
    assert.deepEqual(m.conflicts, []);
    assert.deepEqual(m.changedInDynamics, []);
    assert.ok(m.changedInQuickBooks.includes('name'));
    assert.ok(!m.changedInQuickBooks.includes('address1_line2'), 'an empty column is no change from nothing');
  });

  it('first pairing: every difference is a change on both sides, decided by the policy', () => {
    const quickbooks = account({ name: 'Acme Corp', creditlimit: '7000', telephone1: null });
    const dynamics = account({ name: 'Acme Inc', creditlimit: '9000', fax: null });
    const m = value(merge({ base: null, quickbooks, dynamics }));
    assert.deepEqual(m.changedInQuickBooks, ['name', 'telephone1', 'fax', 'creditlimit']);
    assert.deepEqual(m.changedInDynamics, m.changedInQuickBooks);
    assert.deepEqual(
      m.conflicts.map((c) => [c.field, c.columns, c.winner, c.base]),
      [
        ['name', ['name'], 'dynamics', null],
        ['phone', ['telephone1', 'fax'], 'dynamics', null],
        ['creditLimit', ['creditlimit'], 'quickbooks', null],
      ],
    );
    assert.deepEqual(
      [m.merged.name, m.merged.telephone1, m.merged.fax, m.merged.creditlimit],
      ['Acme Inc', '555-0100', null, '7000.00'],
    );
  });

  const badTimes: { title: string; qbAt: string; dvAt: string | null; field: string }[] = [
    { title: 'a QuickBooks time without a zone', qbAt: '2024-03-01T09:00:00', dvAt: LATE, field: 'qbModifiedAt' },
    { title: 'an unreadable Dataverse time', qbAt: EARLY, dvAt: 'yesterday', field: 'dvModifiedAt' },
    { title: 'no Dataverse time beside a row', qbAt: EARLY, dvAt: null, field: 'dvModifiedAt' },
  ];
  for (const b of badTimes) {
    it(`a later-change conflict with ${b.title} is an error, reported once`, () => {
      const result = merge({
        quickbooks: account({ name: 'Acme Corp', emailaddress1: 'a@acme.test' }),
        dynamics: account({ name: 'Acme Inc', emailaddress1: 'b@acme.test' }),
        qbModifiedAt: b.qbAt,
        dvModifiedAt: b.dvAt,
      });
      assertError(result, b.field, 'timestamp');
      assert.equal(result.ok ? 0 : result.errors.length, 1);
    });
  }

  it('a bad time does not matter when nothing needs it', () => {
    const m = value(
      merge({
        quickbooks: account({ paymenttermscode: 4, name: 'Acme Corp' }),
        dynamics: account({ paymenttermscode: 2 }),
        qbModifiedAt: 'garbage',
        dvModifiedAt: null,
      }),
    );
    assert.deepEqual([m.merged.paymenttermscode, m.merged.name], [4, 'Acme Corp']);
  });

  it('products: cost conflicts go by the policy field cost, other columns by their own name', () => {
    const policy = { owners: { cost: 'quickbooks' as const }, fallback: 'dynamics' as const };
    const productBase = productSyncFields({ name: 'Hinge', description: 'Brass', price: '4.5', standardcost: '1.2' });
    const m = value(
      mergeSyncFields({
        base: productBase,
        quickbooks: { ...productBase, standardcost: '1.30', description: 'Brass hinge' },
        dynamics: { ...productBase, standardcost: '1.40', description: 'Brass, polished', qbsync_note: 'x' },
        qbModifiedAt: LATE,
        dvModifiedAt: EARLY,
        policy,
        columnGroups: PRODUCT_COLUMN_GROUPS,
      }),
    );
    assert.deepEqual(
      m.conflicts.map((c) => [c.field, c.winner]),
      [
        ['description', 'dynamics'],
        ['cost', 'quickbooks'],
      ],
    );
    assert.deepEqual(m.merged, {
      name: 'Hinge',
      description: 'Brass, polished',
      price: '4.50',
      standardcost: '1.30',
      statecode: null,
      qbsync_note: 'x',
    });
  });
});
