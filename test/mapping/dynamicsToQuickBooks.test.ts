import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  accountSyncFields,
  DEFAULT_OWNERSHIP,
  encodeSyncBase,
  encodeSyncBaseWithEdits,
  productSyncFields,
  type AccountRecord,
} from '../../src/mapping';
import {
  accountChange,
  holdsSentMod,
  isEcho,
  pairedRowOutcome,
  planPairedRowMerge,
  planPairing,
  planWriteBackOverEdit,
  productChange,
  type PairedRowMergeInput,
} from '../../src/mapping/dynamicsToQuickBooks';
import { numericColumns } from '../../src/mapping/entityRegistry';
import { planRowMerge } from '../../src/mapping/quickbooksToDynamics';
import { value } from './mappingResults';

const ACME: AccountRecord = {
  name: 'Acme',
  accountnumber: '007',
  telephone1: '555-0100',
  emailaddress1: 'ap@acme.test',
  paymenttermscode: 1,
  creditlimit: '5000.00',
  accountcategorycode: 2,
};
const synced = encodeSyncBase(accountSyncFields(ACME));

describe('which Dynamics changes are due in QuickBooks', () => {
  const accounts: { name: string; row: Parameters<typeof accountChange>[0]; verdict: string }[] = [
    { name: 'a new customer account', row: { ...ACME, customertypecode: 3 }, verdict: 'due' },
    { name: 'a new account without a type', row: { ...ACME, customertypecode: null }, verdict: 'due' },
    {
      name: 'a new vendor account (vendors only flow from QuickBooks)',
      row: { customertypecode: 11 },
      verdict: 'notOurs',
    },
    {
      name: 'a paired customer edited in Dynamics',
      row: { ...ACME, name: 'Acme Ltd', customertypecode: 3, qbsync_qblistid: '8000-1', qbsync_syncbase: synced },
      verdict: 'due',
    },
    {
      name: 'a paired customer the connector itself wrote (fields equal the base)',
      row: { ...ACME, customertypecode: 3, qbsync_qblistid: '8000-1', qbsync_syncbase: synced },
      verdict: 'echo',
    },
    {
      name: 'an echo on a paired vendor is still counted as an echo',
      row: { ...ACME, customertypecode: 11, qbsync_qblistid: '8000-2', qbsync_syncbase: synced },
      verdict: 'echo',
    },
    {
      name: 'a paired vendor edited in Dynamics',
      row: { ...ACME, name: 'Other', customertypecode: 11, qbsync_qblistid: '8000-2', qbsync_syncbase: synced },
      verdict: 'notOurs',
    },
    {
      name: 'a paired customer never synced with a base (damaged base counts as none)',
      row: { ...ACME, customertypecode: 3, qbsync_qblistid: '8000-1', qbsync_syncbase: '{oops' },
      verdict: 'due',
    },
  ];
  for (const { name, row, verdict } of accounts) {
    it(`account: ${name} → ${verdict}`, () => assert.equal(accountChange(row), verdict));
  }

  const product = { name: 'Widget', description: null, price: '9.5', standardcost: '4' };
  const productBase = encodeSyncBase(productSyncFields(product));
  const products: { name: string; row: Parameters<typeof productChange>[0]; receives: boolean; verdict: string }[] = [
    { name: 'a new product, this file receives new records', row: product, receives: true, verdict: 'due' },
    { name: 'a new product, another file receives them', row: product, receives: false, verdict: 'notOurs' },
    {
      name: 'a paired product whose price moved',
      row: { ...product, price: '10', qbsync_qblistid: 'I-1', qbsync_syncbase: productBase },
      receives: false,
      verdict: 'due',
    },
    {
      name: 'a paired product written by the connector (9.5 is 9.50)',
      row: { ...product, price: '9.50', qbsync_qblistid: 'I-1', qbsync_syncbase: productBase },
      receives: false,
      verdict: 'echo',
    },
  ];
  for (const { name, row, receives, verdict } of products) {
    it(`product: ${name} → ${verdict}`, () => assert.equal(productChange(row, receives), verdict));
  }

  it('isEcho needs a base: no base, no echo', () => {
    assert.equal(isEcho(null, accountSyncFields(ACME)), false);
    assert.equal(isEcho(synced, accountSyncFields(ACME)), true);
  });
});

describe('a paired Dynamics row and its QuickBooks record', () => {
  const EARLY = '2024-03-01T09:00:00-08:00';
  const LATE = '2024-03-01T18:00:00Z';
  const input = (quickbooks: AccountRecord, row: AccountRecord, base: string | null): PairedRowMergeInput => ({
    table: 'account',
    storedBase: base,
    quickbooks: accountSyncFields(quickbooks),
    dynamics: accountSyncFields(row),
    qbModifiedAt: EARLY,
    dvModifiedAt: LATE,
    policy: DEFAULT_OWNERSHIP,
    numericColumns: numericColumns('account'),
  });

  const cases: {
    name: string;
    input: PairedRowMergeInput;
    quickbooksNeedsChange: boolean;
    rowChanges: Record<string, unknown>;
    rowNeedsWrite: boolean;
    outcome: string;
  }[] = [
    {
      name: 'in agreement: no Mod, no write-back',
      input: input(ACME, ACME, synced),
      quickbooksNeedsChange: false,
      rowChanges: {},
      rowNeedsWrite: false,
      outcome: 'unchanged',
    },
    {
      name: 'edited in Dynamics: QuickBooks takes it, the row only records the new base',
      input: input(ACME, { ...ACME, telephone1: '555-0199' }, synced),
      quickbooksNeedsChange: true,
      rowChanges: {},
      rowNeedsWrite: true,
      outcome: 'updated',
    },
    {
      name: 'edited in QuickBooks meanwhile: the row takes it back',
      input: input({ ...ACME, telephone1: '555-0142' }, ACME, synced),
      quickbooksNeedsChange: false,
      rowChanges: { telephone1: '555-0142' },
      rowNeedsWrite: true,
      outcome: 'updated',
    },
    {
      name: 'never synced with a base: the base is written even when the values agree',
      input: input(ACME, ACME, null),
      quickbooksNeedsChange: false,
      rowChanges: {},
      rowNeedsWrite: true,
      outcome: 'unchanged',
    },
    {
      name: 'deactivated in Dynamics: QuickBooks takes it (IsActive false), the row records the new base',
      input: input(ACME, { ...ACME, statecode: 1 }, synced),
      quickbooksNeedsChange: true,
      rowChanges: {},
      rowNeedsWrite: true,
      outcome: 'updated',
    },
    {
      name: 'made inactive in QuickBooks meanwhile: the row is deactivated, state and status together',
      input: input({ ...ACME, statecode: 1 }, { ...ACME, telephone1: '555-0199' }, synced),
      quickbooksNeedsChange: true,
      rowChanges: { statecode: 1, statuscode: 2 },
      rowNeedsWrite: true,
      outcome: 'updated',
    },
    {
      name: 'a product Under Revision is as active as its item: nothing to do',
      input: {
        ...input(ACME, ACME, synced),
        table: 'product',
        quickbooks: productSyncFields({ name: 'Hinge', statecode: 0 }),
        dynamics: productSyncFields({ name: 'Hinge', statecode: 3 }),
        storedBase: encodeSyncBase(productSyncFields({ name: 'Hinge' })),
      },
      quickbooksNeedsChange: false,
      rowChanges: {},
      rowNeedsWrite: false,
      outcome: 'unchanged',
    },
    {
      name: 'both changed the credit limit: QuickBooks owns it, the row takes it, a conflict',
      input: input({ ...ACME, creditlimit: '7000.00' }, { ...ACME, creditlimit: '6000' }, synced),
      quickbooksNeedsChange: false,
      rowChanges: { creditlimit: '7000.00' },
      rowNeedsWrite: true,
      outcome: 'conflict',
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const plan = value(planPairedRowMerge(c.input));
      assert.equal(plan.quickbooksNeedsChange, c.quickbooksNeedsChange);
      assert.deepEqual(plan.rowChanges, c.rowChanges);
      assert.equal(plan.rowNeedsWrite, c.rowNeedsWrite);
      assert.equal(pairedRowOutcome(plan, plan.quickbooksNeedsChange), c.outcome);
    });
  }

  it('a base that differs from the merge only by its QuickBooks version is not written again', () => {
    const version = { editSequence: '1764970002', timeModified: '2026-12-05T10:00:02-08:00' };
    const plan = value(
      planPairedRowMerge({
        table: 'account',
        storedBase: encodeSyncBase(accountSyncFields(ACME), { quickbooksVersion: version }),
        quickbooks: accountSyncFields(ACME),
        dynamics: accountSyncFields(ACME),
        qbModifiedAt: '2024-03-01T09:00:00-08:00',
        dvModifiedAt: '2024-03-01T18:00:00Z',
        policy: DEFAULT_OWNERSHIP,
        numericColumns: numericColumns('account'),
      }),
    );
    assert.equal(plan.rowNeedsWrite, false);
    assert.equal(plan.quickbooksNeedsChange, false);
  });

  it('a Mod QuickBooks found unnecessary does not make the row updated', () => {
    const plan = value(planPairedRowMerge(cases[1]!.input));
    assert.equal(pairedRowOutcome(plan, false), 'unchanged');
  });

  it('a row created in Dynamics is paired, taking what QuickBooks normalised', () => {
    const pairing = planPairing({
      table: 'account',
      connection: 'east',
      listId: '8000-9',
      quickbooks: accountSyncFields({ ...ACME, name: 'Acme' }),
      dynamics: accountSyncFields({ ...ACME, name: 'Acme ', creditlimit: '5000' }),
      numericColumns: numericColumns('account'),
    });
    assert.deepEqual(pairing.changes, { qbsync_companyfile: 'east', qbsync_qblistid: '8000-9' });
    assert.deepEqual(pairing.base, accountSyncFields(ACME));
    const renamed = planPairing({
      table: 'account',
      connection: 'east',
      listId: '8000-9',
      quickbooks: accountSyncFields({ ...ACME, name: 'Acme Corp' }),
      dynamics: accountSyncFields(ACME),
      numericColumns: numericColumns('account'),
    });
    assert.deepEqual(renamed.changes, { name: 'Acme Corp', qbsync_companyfile: 'east', qbsync_qblistid: '8000-9' });
  });
});

describe('QuickBooks took a sync, but the row changed in Dynamics after it was read', () => {
  const read = accountSyncFields(ACME);
  const merged = accountSyncFields({ ...ACME, telephone1: '555-0100', emailaddress1: 'billing@acme.test' });

  it('the base becomes what QuickBooks holds, and a column the person saved again stays as they left it', () => {
    // QuickBooks' new e-mail won the merge and Dynamics was to take it; the person then saved a new phone.
    const plan = planWriteBackOverEdit({
      read,
      current: accountSyncFields({ ...ACME, telephone1: '555-0199' }),
      changes: { emailaddress1: 'billing@acme.test' },
      base: merged,
    });
    assert.deepEqual(plan.changes, { emailaddress1: 'billing@acme.test' });
    assert.deepEqual(plan.base, merged);
    assert.deepEqual(plan.editedSinceRead, ['telephone1']);
    // The next merge sees QuickBooks equal to the base and the new phone as Dynamics' own edit: it goes to QuickBooks.
    const next = value(
      planPairedRowMerge({
        table: 'account',
        storedBase: encodeSyncBase(plan.base),
        quickbooks: merged,
        dynamics: accountSyncFields({ ...ACME, telephone1: '555-0199', emailaddress1: 'billing@acme.test' }),
        qbModifiedAt: '2026-12-05T10:00:09-05:00',
        dvModifiedAt: '2026-12-05T15:00:05Z',
        policy: DEFAULT_OWNERSHIP,
        numericColumns: numericColumns('account'),
      }),
    );
    assert.equal(next.merged.telephone1, '555-0199');
    assert.equal(next.quickbooksNeedsChange, true);
    assert.deepEqual(next.conflicts, []);
  });

  it('a column the sync meant to write and the person changed since is left out, the pairing always written', () => {
    const plan = planWriteBackOverEdit({
      read,
      current: accountSyncFields({ ...ACME, name: 'Acme Holdings' }),
      changes: { name: 'Acme Corp', qbsync_companyfile: 'east', qbsync_qblistid: '8000-9' },
      base: accountSyncFields({ ...ACME, name: 'Acme Corp' }),
    });
    assert.deepEqual(plan.changes, { qbsync_companyfile: 'east', qbsync_qblistid: '8000-9' });
    assert.deepEqual(plan.editedSinceRead, ['name']);
  });

  it('formatting is not an edit: the same money written differently keeps the column in the write', () => {
    const plan = planWriteBackOverEdit({
      read,
      current: accountSyncFields({ ...ACME, creditlimit: '5000' }),
      changes: { creditlimit: '7500.00' },
      base: accountSyncFields({ ...ACME, creditlimit: '7500.00' }),
    });
    assert.deepEqual(plan.changes, { creditlimit: '7500.00' });
    assert.deepEqual(plan.editedSinceRead, []);
  });
});

// Issue 11, finding (b): chaos seed 1 (300 faults) lost a QuickBooks edit (west 8000002C: Dynamics 555-6954, Dynamics
// 555-3263, QuickBooks 555-2920, both systems ended on 555-3263). The run of the first save wrote QuickBooks, found the
// row saved again and wrote the base over that second save; that write moved the row's modifiedon past the QuickBooks
// edit made between the save and the write, so "later change wins" took the older Dynamics value for the newer one.
describe('a Dynamics value the base was written over keeps the time it was saved', () => {
  const saved = '2026-12-05T15:00:05Z'; // the person's second save (555-3263)
  const qbEdit = '2026-12-05T10:00:09-05:00'; // the QuickBooks edit, 4 s later (555-2920)
  const written = '2026-12-05T15:00:12Z'; // the connector's write of the base over the save
  const base = accountSyncFields({ ...ACME, telephone1: '555-6954' });
  const current = accountSyncFields({ ...ACME, telephone1: '555-3263' });
  const quickbooks = accountSyncFields({ ...ACME, telephone1: '555-2920' });
  const overEdit = planWriteBackOverEdit({
    read: base,
    current,
    currentModifiedOn: saved,
    changes: {},
    base,
  });

  it('the write over the save records the columns left as saved, and when', () => {
    assert.deepEqual(overEdit.dynamicsEdits, { at: saved, columns: { telephone1: '555-3263' } });
    const stored = encodeSyncBaseWithEdits(overEdit.base, overEdit.dynamicsEdits);
    // The base itself reads as before: the row is still a change (not an echo), merged against the same base.
    assert.equal(isEcho(stored, current), false);
    assert.equal(isEcho(stored, base), true);
  });

  it('the Dynamics row run: the QuickBooks edit, made after the save, wins', () => {
    const plan = value(
      planPairedRowMerge({
        table: 'account',
        storedBase: encodeSyncBaseWithEdits(overEdit.base, overEdit.dynamicsEdits),
        quickbooks,
        dynamics: current,
        qbModifiedAt: qbEdit,
        dvModifiedAt: written,
        policy: DEFAULT_OWNERSHIP,
        numericColumns: numericColumns('account'),
      }),
    );
    assert.equal(plan.merged.telephone1, '555-2920');
    assert.equal(plan.conflicts[0]?.winner, 'quickbooks');
  });

  it('the QuickBooks record run: the same', () => {
    const plan = value(
      planRowMerge({
        table: 'account',
        desired: { ...ACME, telephone1: '555-2920' },
        quickbooks,
        row: { ...ACME, telephone1: '555-3263' },
        dynamics: current,
        storedBase: encodeSyncBaseWithEdits(overEdit.base, overEdit.dynamicsEdits),
        qbModifiedAt: qbEdit,
        dvModifiedAt: written,
        policy: DEFAULT_OWNERSHIP,
        returnsToQuickBooks: true,
        quickbooksSilent: [],
        numericColumns: numericColumns('account'),
        binds: {},
      }),
    );
    assert.equal(plan.changes.telephone1, '555-2920');
    assert.equal(plan.conflicts[0]?.winner, 'quickbooks');
  });

  it('a value saved again after the write is weighed at the row’s modifiedon, as before', () => {
    const plan = value(
      planPairedRowMerge({
        table: 'account',
        storedBase: encodeSyncBaseWithEdits(overEdit.base, overEdit.dynamicsEdits),
        quickbooks,
        dynamics: accountSyncFields({ ...ACME, telephone1: '555-3300' }),
        qbModifiedAt: qbEdit,
        dvModifiedAt: '2026-12-05T15:00:20Z',
        policy: DEFAULT_OWNERSHIP,
        numericColumns: numericColumns('account'),
      }),
    );
    assert.equal(plan.merged.telephone1, '555-3300');
  });

  it('a base without edits is written byte for byte as before', () => {
    assert.equal(encodeSyncBaseWithEdits(base, null), encodeSyncBase(base));
  });
});

describe('a QuickBooks version read after a Mod whose answer was lost', () => {
  const sent = { listId: '80000040-1', editSequence: '1001', phone: '555-1308' };

  it('holds the Mod when the Mod computed over it sets none of the fields the sent one set', () => {
    assert.equal(holdsSentMod(sent, null), true);
    // A person edited the email beside it: the merge would set the email back, not the phone.
    assert.equal(
      holdsSentMod(sent, { listId: '80000040-1', editSequence: '1003', email: 'desk@lantern.example' }),
      true,
    );
  });

  it('does not hold it when the Mod computed over it sets a field the sent one set', () => {
    assert.equal(holdsSentMod(sent, { listId: '80000040-1', editSequence: '1003', phone: '555-1308' }), false);
    assert.equal(
      holdsSentMod(
        { listId: '80000040-1', editSequence: '1001', billAddress: { addr1: '1 Quay' } },
        { listId: '80000040-1', editSequence: '1003', billAddress: { addr1: '1 Quay' }, email: 'x@y.example' },
      ),
      false,
    );
  });

  it('holds it when a person edited another field of the same group (item price and description, address lines)', () => {
    const priceSent = { listId: '80000050-1', editSequence: '1001', salesOrPurchase: { price: '150.00' } };
    const descStill = { listId: '80000050-1', editSequence: '1003', salesOrPurchase: { desc: 'Hull survey' } };
    assert.equal(holdsSentMod(priceSent, descStill), true);
    assert.equal(
      holdsSentMod(
        { listId: '80000040-1', editSequence: '1001', billAddress: { addr1: '1 Quay' } },
        { listId: '80000040-1', editSequence: '1003', billAddress: { city: 'Bristol' } },
      ),
      true,
    );
    // Runs that took the lost Mod's base before groups were looked into compared whole groups.
    assert.equal(holdsSentMod(priceSent, descStill, { withinGroups: false }), false);
  });

  it('does not hold it when the field set inside the group is still to set, or a reference is to set again', () => {
    assert.equal(
      holdsSentMod(
        { listId: '80000040-1', editSequence: '1001', classRef: { listId: '40000-1' } },
        { listId: '80000040-1', editSequence: '1003', classRef: { fullName: 'West' } },
      ),
      false,
    );
    assert.equal(
      holdsSentMod(
        { listId: '80000040-1', editSequence: '1001', billAddress: { note: { listId: 'x' } } },
        { listId: '80000040-1', editSequence: '1003', billAddress: { note: { listId: 'x' } } },
      ),
      false,
    );
    assert.equal(
      holdsSentMod(
        { listId: '80000050-1', editSequence: '1001', salesOrPurchase: { price: '150.00' } },
        { listId: '80000050-1', editSequence: '1003', salesOrPurchase: { price: '150.00', desc: 'Hull survey' } },
      ),
      false,
    );
  });
});
