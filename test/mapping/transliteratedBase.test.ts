import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  accountSyncFields,
  decodeQuickBooksForm,
  decodeSyncBase,
  DEFAULT_OWNERSHIP,
  encodeSyncBase,
  encodeSyncBaseWithEdits,
  mergeSyncFields,
  quickbooksFormOf,
  SYNC_BASE_MAX_LENGTH,
  type AccountRecord,
  type QuickBooksForm,
} from '../../src/mapping';
import { planPairedRowMerge, planPairing } from '../../src/mapping/dynamicsToQuickBooks';
import { numericColumns, SYNC_BASE_COLUMN } from '../../src/mapping/entityRegistry';
import { planRowMerge, type RowMergeInput } from '../../src/mapping/quickbooksToDynamics';
import { transliterateToWindows1252 } from '../../src/qbxml/charset';
import { value } from './mappingResults';

/**
 * Issue 14 item 1, last part: an account named in Greek reaches QuickBooks transliterated; the base keeps both forms,
 * so that QuickBooks reading back its form (the echo) is no edit and never overwrites the Greek name in Dynamics,
 * while a real QuickBooks edit still wins.
 */

const EARLY = '2024-03-01T09:00:00-08:00'; // 17:00Z
const LATE = '2024-03-01T18:00:00Z';
const GREEK = 'Ελληνικά ΑΕ';
const LATIN = 'Ellinika AE';

const ROW: AccountRecord = {
  name: GREEK,
  accountnumber: '007',
  telephone1: '555-0100',
  fax: null,
  emailaddress1: 'ap@greek.test',
  paymenttermscode: 1,
  creditlimit: '5000.00',
  accountcategorycode: 2,
  address1_city: 'Αθήνα',
};
/** The customer as QuickBooks holds it after the connector sent it the row. */
const CUSTOMER: AccountRecord = { ...ROW, name: LATIN, address1_city: 'Athina' };
const FORM: QuickBooksForm = { name: LATIN, address1_city: 'Athina' };
/** The base the connector writes once both sides hold the account: the Dynamics form, and QuickBooks' next to it. */
const STORED = encodeSyncBase(accountSyncFields(ROW), { quickbooksForm: FORM });
/** The same base as code before this change wrote it: no QuickBooks form. */
const LEGACY = encodeSyncBase(accountSyncFields(ROW));

function pollInput(quickbooks: AccountRecord, row: AccountRecord, storedBase: string): RowMergeInput {
  return {
    table: 'account',
    desired: { ...quickbooks },
    quickbooks: accountSyncFields(quickbooks),
    row: { ...row },
    dynamics: accountSyncFields(row),
    storedBase,
    // QuickBooks' TimeModified is later than the row's: a QuickBooks change would win any conflict.
    qbModifiedAt: LATE,
    dvModifiedAt: EARLY,
    policy: DEFAULT_OWNERSHIP,
    returnsToQuickBooks: true,
    quickbooksSilent: [],
    numericColumns: numericColumns('account'),
    binds: {},
  };
}

describe('the sync base keeps the QuickBooks form next to the Dynamics form', () => {
  it('under the key @quickbooksForm, which is not read as a column', () => {
    const parsed = JSON.parse(STORED) as Record<string, unknown>;
    assert.deepEqual(parsed['@quickbooksForm'], FORM);
    // The columns read as from a base without the forms, the Dynamics form as their value.
    assert.deepEqual(decodeSyncBase(STORED), decodeSyncBase(LEGACY));
    assert.equal(decodeSyncBase(STORED)?.name, GREEK);
    assert.deepEqual(decodeQuickBooksForm(STORED), FORM);
    assert.equal(decodeQuickBooksForm(LEGACY), null);
    // Next to the Dynamics edits a stale write-back keeps, both readable.
    const both = encodeSyncBaseWithEdits(
      accountSyncFields(ROW),
      { at: LATE, columns: { telephone1: '1' } },
      {
        quickbooksForm: FORM,
      },
    );
    assert.deepEqual(decodeQuickBooksForm(both), FORM);
    assert.deepEqual(decodeSyncBase(both), decodeSyncBase(LEGACY));
  });

  it('records only text QuickBooks holds as the transliteration of the Dynamics text', () => {
    assert.deepEqual(
      quickbooksFormOf(accountSyncFields(ROW), accountSyncFields(CUSTOMER), transliterateToWindows1252),
      FORM,
    );
    // A QuickBooks name that is not the transliteration is a different value, not a form of the same one.
    const renamed = accountSyncFields({ ...CUSTOMER, name: 'Hellenic SA' });
    assert.deepEqual(quickbooksFormOf(accountSyncFields(ROW), renamed, transliterateToWindows1252), {
      address1_city: 'Athina',
    });
    assert.deepEqual(
      quickbooksFormOf(accountSyncFields(CUSTOMER), accountSyncFields(CUSTOMER), (t) => t),
      {},
    );
  });

  it('a form too long for the column is kept as digests, which still recognise the echo', () => {
    const long = 'Ω'.repeat(1900);
    const fields = accountSyncFields({ ...ROW, name: long });
    const form = { name: transliterateToWindows1252(long) };
    const text = encodeSyncBase(fields, { quickbooksForm: form });
    assert.ok(text.length <= SYNC_BASE_MAX_LENGTH);
    const merge = value(
      mergeSyncFields({
        base: decodeSyncBase(text),
        quickbooks: { ...fields, name: form.name },
        dynamics: fields,
        qbModifiedAt: LATE,
        dvModifiedAt: EARLY,
        policy: DEFAULT_OWNERSHIP,
        quickbooksForm: decodeQuickBooksForm(text),
      }),
    );
    assert.deepEqual(merge.changedInQuickBooks, []);
    assert.equal(merge.merged.name, long);
  });
});

describe('pairing a Dynamics row with the customer QuickBooks made of it', () => {
  const pairing = (quickbooksText?: (text: string) => string) =>
    planPairing({
      table: 'account',
      connection: 'east',
      listId: '8000-9',
      quickbooks: accountSyncFields(CUSTOMER),
      dynamics: accountSyncFields(ROW),
      numericColumns: numericColumns('account'),
      ...(quickbooksText ? { quickbooksText } : {}),
    });

  it('keeps the Greek name on the row and records both forms in the base', () => {
    const plan = pairing(transliterateToWindows1252);
    assert.deepEqual(plan.changes, { qbsync_companyfile: 'east', qbsync_qblistid: '8000-9' });
    assert.deepEqual(plan.base, accountSyncFields(ROW));
    assert.deepEqual(plan.quickbooksForm, FORM);
  });

  it('runs recorded before (no transliteration given) still take what QuickBooks holds', () => {
    const plan = pairing();
    assert.deepEqual(plan.changes, {
      name: LATIN,
      address1_city: 'Athina',
      qbsync_companyfile: 'east',
      qbsync_qblistid: '8000-9',
    });
    assert.deepEqual(plan.quickbooksForm, {});
  });
});

describe('the next QuickBooks poll reads the customer back', () => {
  it('the echo of the transliterated name is no edit: the Greek name stays, nothing is written', () => {
    const plan = value(planRowMerge(pollInput(CUSTOMER, ROW, STORED)));
    assert.equal(plan.outcome, 'unchanged');
    assert.deepEqual(plan.changes, {});
    assert.equal(plan.quickbooksTarget, null);
  });

  it('a base written by older code (no form) still works as it did: QuickBooks text counts as an edit', () => {
    const plan = value(planRowMerge(pollInput(CUSTOMER, ROW, LEGACY)));
    assert.equal(plan.outcome, 'updated');
    assert.equal(plan.changes.name, LATIN);
  });

  it('another QuickBooks edit is taken while the echoed name stays Greek, and the new base keeps the form', () => {
    const plan = value(planRowMerge(pollInput({ ...CUSTOMER, telephone1: '555-0199' }, ROW, STORED)));
    assert.equal(plan.outcome, 'updated');
    assert.deepEqual(plan.written, ['telephone1']);
    assert.equal(plan.changes.telephone1, '555-0199');
    const base = plan.changes[SYNC_BASE_COLUMN] as string;
    assert.equal(decodeSyncBase(base)?.name, GREEK);
    assert.deepEqual(decodeQuickBooksForm(base), FORM);
  });

  it('a genuine rename in QuickBooks still wins, and the base then has no form for the name', () => {
    const plan = value(planRowMerge(pollInput({ ...CUSTOMER, name: 'Ellinika AE Ltd' }, ROW, STORED)));
    assert.equal(plan.outcome, 'updated');
    assert.equal(plan.changes.name, 'Ellinika AE Ltd');
    const base = plan.changes[SYNC_BASE_COLUMN] as string;
    assert.equal(decodeSyncBase(base)?.name, 'Ellinika AE Ltd');
    assert.deepEqual(decodeQuickBooksForm(base), { address1_city: 'Athina' });
  });

  it('a rename in Dynamics against the echo is no conflict: Dynamics wins and QuickBooks must take it', () => {
    const renamed = { ...ROW, name: 'Ελληνικά Εμπορική ΑΕ' };
    const plan = value(planRowMerge(pollInput(CUSTOMER, renamed, STORED)));
    assert.deepEqual(plan.conflicts, []);
    assert.equal(plan.quickbooksTarget?.name, 'Ελληνικά Εμπορική ΑΕ');
    assert.equal(plan.changes.name, undefined);
  });
});

describe('a Dynamics change of the row merged with its customer', () => {
  const input = (row: AccountRecord, readQuickBooksForm?: boolean) => ({
    table: 'account' as const,
    storedBase: STORED,
    quickbooks: accountSyncFields(CUSTOMER),
    dynamics: accountSyncFields(row),
    qbModifiedAt: LATE,
    dvModifiedAt: EARLY,
    policy: DEFAULT_OWNERSHIP,
    numericColumns: numericColumns('account'),
    ...(readQuickBooksForm === undefined ? {} : { readQuickBooksForm }),
  });

  it('QuickBooks needs no Mod for text it already holds in its form, and the row no write', () => {
    const plan = value(planPairedRowMerge(input(ROW)));
    assert.equal(plan.quickbooksNeedsChange, false);
    assert.equal(plan.rowNeedsWrite, false);
    assert.equal(plan.merged.name, GREEK);
    assert.deepEqual(plan.quickbooksForm, FORM);
  });

  it('a phone changed in Dynamics goes to QuickBooks and the Greek name stays on the row', () => {
    const plan = value(planPairedRowMerge(input({ ...ROW, telephone1: '555-0142' })));
    assert.equal(plan.quickbooksNeedsChange, true);
    assert.deepEqual(plan.rowChanges, {});
    assert.equal(plan.merged.name, GREEK);
    assert.equal(plan.merged.telephone1, '555-0142');
  });

  it('runs recorded before the base kept both forms decide as they did (readQuickBooksForm false)', () => {
    const plan = value(planPairedRowMerge(input(ROW, false)));
    assert.equal(plan.merged.name, LATIN);
    assert.equal(plan.rowChanges.name, LATIN);
  });
});
