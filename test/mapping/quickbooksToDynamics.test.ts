import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  accountSyncFields,
  decodeQuickBooksVersion,
  DEFAULT_OWNERSHIP,
  encodeSyncBase,
  type AccountRecord,
} from '../../src/mapping';
import { numericColumns, SYNC_BASE_COLUMN } from '../../src/mapping/entityRegistry';
import {
  fillFirstPairingBlanks,
  planRowCreate,
  planRowMerge,
  withQuickBooksSilence,
  type RowMergeInput,
} from '../../src/mapping/quickbooksToDynamics';
import { assertError, value } from './mappingResults';

const EARLY = '2024-03-01T09:00:00-08:00'; // 17:00Z
const LATE = '2024-03-01T18:00:00Z';

const ACME: AccountRecord = {
  name: 'Acme',
  accountnumber: '007',
  telephone1: '555-0100',
  fax: null,
  emailaddress1: 'ap@acme.test',
  paymenttermscode: 1,
  creditlimit: '5000.00',
  accountcategorycode: 2,
};

/** A customer whose QuickBooks version is `quickbooks` merged into a row holding `row`, last agreed on `base`. */
function input(
  quickbooks: AccountRecord,
  row: AccountRecord,
  base: AccountRecord | null,
  extra: Partial<RowMergeInput> = {},
): RowMergeInput {
  return {
    table: 'account',
    desired: { ...quickbooks },
    quickbooks: accountSyncFields(quickbooks),
    row: { ...row },
    dynamics: accountSyncFields(row),
    storedBase: base === null ? null : encodeSyncBase(accountSyncFields(base)),
    qbModifiedAt: EARLY,
    dvModifiedAt: LATE,
    policy: DEFAULT_OWNERSHIP,
    returnsToQuickBooks: true,
    quickbooksSilent: [],
    numericColumns: numericColumns('account'),
    binds: {},
    ...extra,
  };
}

describe('planRowCreate: a QuickBooks record with no row yet', () => {
  it('writes the record as it is, with the base both sides now agree on', () => {
    const plan = planRowCreate(
      'account',
      { name: 'Acme', creditlimit: '5000.00' },
      { name: 'Acme', creditlimit: '5000.00' },
    );
    assert.deepEqual(plan.written, ['name', 'creditlimit']);
    assert.equal(plan.body[SYNC_BASE_COLUMN], encodeSyncBase({ name: 'Acme', creditlimit: '5000.00' }));
  });
});

describe('planRowCreate: a record already inactive in QuickBooks', () => {
  it('is created without a state (Dataverse refuses one on create) and given it afterwards', () => {
    const plan = planRowCreate('product', { name: 'Old hinge', statecode: 1 }, { name: 'Old hinge', statecode: 1 });
    assert.equal('statecode' in plan.body, false);
    assert.deepEqual(plan.state, { statecode: 1, statuscode: 2 });
    assert.equal(plan.body[SYNC_BASE_COLUMN], encodeSyncBase({ name: 'Old hinge', statecode: 1 }));
    assert.equal(planRowCreate('account', { name: 'Acme', statecode: 0 }, { name: 'Acme' }).state, null);
  });
  it("an active record's base is the text it had before active status was synced", () => {
    assert.equal(encodeSyncBase(accountSyncFields({ ...ACME, statecode: 0 })), encodeSyncBase(accountSyncFields(ACME)));
    assert.equal(encodeSyncBase(accountSyncFields(ACME)).includes('statecode'), false);
  });
});

describe('planRowMerge: a QuickBooks record into its row', () => {
  const cases: {
    name: string;
    input: RowMergeInput;
    outcome: string;
    changes: Record<string, unknown>;
    quickbooksTarget?: Record<string, unknown> | null;
    baseWritten: boolean;
  }[] = [
    {
      name: 'both sides already agree: nothing written (an echo stays an echo)',
      input: input(ACME, ACME, ACME),
      outcome: 'unchanged',
      changes: {},
      quickbooksTarget: null,
      baseWritten: false,
    },
    {
      name: 'money compares by value: 5000 is 5000.00',
      input: input(ACME, { ...ACME, creditlimit: '5000' }, ACME),
      outcome: 'unchanged',
      changes: {},
      baseWritten: false,
    },
    {
      name: 'a change in QuickBooks only is written to the row, and the base follows',
      input: input({ ...ACME, telephone1: '555-0199' }, ACME, ACME),
      outcome: 'updated',
      changes: { telephone1: '555-0199' },
      quickbooksTarget: null,
      baseWritten: true,
    },
    {
      name: 'a change in Dynamics only goes back to QuickBooks; the base waits for QuickBooks to take it',
      input: input(ACME, { ...ACME, emailaddress1: 'billing@acme.test' }, ACME),
      outcome: 'updated',
      changes: {},
      quickbooksTarget: { emailaddress1: 'billing@acme.test' },
      baseWritten: false,
    },
    {
      name: 'made inactive in QuickBooks: the row is deactivated, state and status together',
      input: input({ ...ACME, statecode: 1 }, { ...ACME, statecode: 0 }, ACME),
      outcome: 'updated',
      changes: { statecode: 1, statuscode: 2 },
      quickbooksTarget: null,
      baseWritten: true,
    },
    {
      name: 'active again in QuickBooks: the row is activated',
      input: input({ ...ACME, statecode: 0 }, { ...ACME, statecode: 1 }, { ...ACME, statecode: 1 }),
      outcome: 'updated',
      changes: { statecode: 0, statuscode: 1 },
      quickbooksTarget: null,
      baseWritten: true,
    },
    {
      name: 'deactivated in Dynamics: QuickBooks must take it, the row is not touched',
      input: input({ ...ACME, statecode: 0 }, { ...ACME, statecode: 1 }, ACME),
      outcome: 'updated',
      changes: {},
      quickbooksTarget: { statecode: 1 },
      baseWritten: false,
    },
    {
      name: 'a vendor never goes back: Dynamics keeps its change, the base moves on',
      input: input(ACME, { ...ACME, emailaddress1: 'billing@acme.test' }, ACME, { returnsToQuickBooks: false }),
      outcome: 'unchanged',
      changes: {},
      quickbooksTarget: null,
      baseWritten: true,
    },
    {
      name: 'both changed the credit limit: QuickBooks owns it, the conflict is recorded',
      input: input({ ...ACME, creditlimit: '7000.00' }, { ...ACME, creditlimit: '6000.00' }, ACME),
      outcome: 'conflict',
      changes: { creditlimit: '7000.00' },
      baseWritten: true,
    },
    {
      name: 'first pairing: a blank in QuickBooks takes the Dynamics value instead of clearing it',
      input: input({ ...ACME, fax: null }, { ...ACME, fax: '555-0101' }, null),
      outcome: 'updated',
      changes: {},
      quickbooksTarget: { fax: '555-0101' },
      baseWritten: false,
    },
    {
      name: 'first pairing: a blank in Dynamics takes the QuickBooks value',
      input: input({ ...ACME, fax: '555-0101' }, { ...ACME, fax: null }, null),
      outcome: 'updated',
      changes: { fax: '555-0101' },
      quickbooksTarget: null,
      baseWritten: true,
    },
    {
      name: 'QuickBooks is silent on the category: silence does not clear what Dynamics holds',
      input: input({ ...ACME, accountcategorycode: undefined }, ACME, ACME, {
        quickbooksSilent: ['accountcategorycode'],
      }),
      outcome: 'unchanged',
      changes: {},
      quickbooksTarget: null,
      baseWritten: false,
    },
    {
      name: 'QuickBooks is silent on the category: a Dynamics change to it stands, with no conflict',
      input: input(
        { ...ACME, accountcategorycode: undefined },
        { ...ACME, accountcategorycode: 1 },
        { ...ACME, accountcategorycode: 2 },
        { quickbooksSilent: ['accountcategorycode'] },
      ),
      outcome: 'updated',
      changes: {},
      quickbooksTarget: { accountcategorycode: 1 },
      baseWritten: false,
    },
    {
      name: 'adoption: an unpaired row entered on both sides is taken over and paired',
      input: input(ACME, ACME, null, { adoptAs: { companyFile: 'east', listId: '8000-1' } }),
      outcome: 'updated',
      changes: { qbsync_companyfile: 'east', qbsync_qblistid: '8000-1' },
      quickbooksTarget: null,
      baseWritten: true,
    },
    {
      name: 'a lookup the row lacks is bound, and counts as written',
      input: input(ACME, ACME, ACME, { binds: { 'parentaccountid@odata.bind': '/accounts(x)', other: undefined } }),
      outcome: 'updated',
      changes: { 'parentaccountid@odata.bind': '/accounts(x)' },
      baseWritten: false,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const plan = value(planRowMerge(c.input));
      assert.equal(plan.outcome, c.outcome);
      const { [SYNC_BASE_COLUMN]: base, ...changes } = plan.changes;
      assert.deepEqual(changes, c.changes);
      assert.deepEqual(plan.written.sort(), Object.keys(c.changes).sort());
      assert.equal(base !== undefined, c.baseWritten, 'sync base written');
      if (c.quickbooksTarget === null) assert.equal(plan.quickbooksTarget, null);
      else if (c.quickbooksTarget) {
        for (const [column, want] of Object.entries(c.quickbooksTarget)) {
          assert.equal(plan.quickbooksTarget?.[column], want, column);
        }
      }
    });
  }

  it('a conflict names both versions and the winner', () => {
    const plan = value(planRowMerge(cases.find((c) => c.name.startsWith('both changed the credit limit'))!.input));
    assert.deepEqual(
      plan.conflicts.map((c) => [c.field, c.winner, c.quickbooks, c.dynamics]),
      [['creditLimit', 'quickbooks', { creditlimit: '7000.00' }, { creditlimit: '6000.00' }]],
    );
  });

  it('an unreadable timestamp under a later-change rule fails the merge instead of guessing', () => {
    const bad = input({ ...ACME, name: 'Acme Ltd' }, { ...ACME, name: 'Acme Inc' }, ACME, { qbModifiedAt: 'soon' });
    assertError(planRowMerge(bad), 'qbModifiedAt', 'timestamp');
  });
});

describe('planRowMerge and planRowCreate: the QuickBooks version the base is agreed at', () => {
  const v1 = { editSequence: '1764970001', timeModified: '2026-12-05T10:00:01-08:00' };
  const v2 = { editSequence: '1764970002', timeModified: '2026-12-05T10:00:02-08:00' };

  it("a new row's base records the version it was created from", () => {
    const plan = planRowCreate('account', { name: 'Acme' }, { name: 'Acme' }, v1);
    assert.deepEqual(decodeQuickBooksVersion(String(plan.body[SYNC_BASE_COLUMN])), v1);
  });

  it('a base that moves records the version merged', () => {
    const plan = value(planRowMerge(input({ ...ACME, telephone1: '555-0199' }, ACME, ACME, { quickbooksVersion: v2 })));
    assert.deepEqual(decodeQuickBooksVersion(String(plan.changes[SYNC_BASE_COLUMN])), v2);
  });

  it('a version that moved with no synced field costs no write', () => {
    const agreedAtV1 = encodeSyncBase(accountSyncFields(ACME), { quickbooksVersion: v1 });
    const plan = value(planRowMerge(input(ACME, ACME, null, { storedBase: agreedAtV1, quickbooksVersion: v2 })));
    assert.deepEqual(plan.changes, {});
    assert.equal(plan.outcome, 'unchanged');
  });
});

describe('QuickBooks silence and first-pairing blanks', () => {
  it('a silent column holds the base, else what Dynamics holds', () => {
    assert.deepEqual(withQuickBooksSilence({ a: 1, c: null }, ['c'], { c: 5 }, { c: 7 }), { a: 1, c: 5 });
    assert.deepEqual(withQuickBooksSilence({ c: null }, ['c'], null, { c: 7 }), { c: 7 });
    assert.deepEqual(withQuickBooksSilence({ c: 3 }, [], null, { c: 7 }), { c: 3 });
  });

  it('blanks take the other side, values that differ stay for the merge to decide', () => {
    assert.deepEqual(fillFirstPairingBlanks({ a: null, b: 'q', c: 'x' }, { a: 'd', b: null, c: 'y' }), {
      quickbooks: { a: 'd', b: 'q', c: 'x' },
      dynamics: { a: 'd', b: 'q', c: 'y' },
    });
  });
});
