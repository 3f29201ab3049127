import { ACTIVE_STATE_COLUMN, withRowState } from './activeStatus';
import { type AccountRecord, RelationshipType } from './dataverseRows';
import { deletedInQuickBooks } from './quickbooksDeletions';
import { changedColumns } from './fields';
import { type OwnershipPolicy } from './ownership';
import { type MappingResult } from './result';
import {
  accountSyncFields,
  decodeDynamicsEdits,
  decodeQuickBooksForm,
  decodeSyncBase,
  dynamicsEditTimes,
  encodeSyncBase,
  mergeSyncFields,
  productSyncFields,
  quickbooksFormFor,
  quickbooksFormOf,
  sameSyncFields,
  withColumnsOf,
  withoutQuickBooksVersion,
  type DynamicsEdits,
  type FieldConflict,
  type QuickBooksForm,
  type SyncFields,
} from './syncBase';
import { type SyncOutcome } from './quickbooksToDynamics';

/**
 * The decisions of the Dynamics → QuickBooks flow for rows paired with a QuickBooks list record (accounts into
 * customers, products into items): which changed rows are due, and for a paired row, the merge with its QuickBooks
 * record, what the row must take back and the outcome. The orchestration is `workflows/sync/dynamicsRowToQuickBooks.ts`.
 */

// ---- which changed rows are due ------------------------------------------------------------------------------

/** A paired row whose synced fields equal its sync base changed only because the connector wrote it: an echo. */
export function isEcho(storedBase: string | null | undefined, fields: SyncFields): boolean {
  const base = decodeSyncBase(storedBase);
  return base !== null && sameSyncFields(base, fields);
}

export type ChangeVerdict = 'due' | 'echo' | 'notOurs';

/**
 * An account changed in Dynamics: an unpaired one is due when it is a customer (or has no type yet), a paired one
 * when it is a customer and the change is not our own write. Vendors only flow from QuickBooks, and an account whose
 * customer was deleted in QuickBooks has nothing left to go to.
 */
export function accountChange(
  row: AccountRecord & { qbsync_syncbase?: string | null; qbsync_qbdeletedon?: string | null },
): ChangeVerdict {
  if (deletedInQuickBooks(row)) return 'notOurs';
  const type = row.customertypecode ?? null;
  if (!row.qbsync_qblistid) return type === null || type === RelationshipType.Customer ? 'due' : 'notOurs';
  if (isEcho(row.qbsync_syncbase, accountSyncFields(row))) return 'echo';
  return type === RelationshipType.Customer ? 'due' : 'notOurs';
}

/** A product changed in Dynamics: an unpaired one goes to the company file receiving new records, if this is it. */
export function productChange(
  row: Parameters<typeof productSyncFields>[0] & {
    qbsync_qblistid?: string | null;
    qbsync_syncbase?: string | null;
    qbsync_qbdeletedon?: string | null;
  },
  receivesNewRecords: boolean,
): ChangeVerdict {
  if (deletedInQuickBooks(row)) return 'notOurs';
  if (!row.qbsync_qblistid) return receivesNewRecords ? 'due' : 'notOurs';
  return isEcho(row.qbsync_syncbase, productSyncFields(row)) ? 'echo' : 'due';
}

// ---- a paired row and its QuickBooks record ------------------------------------------------------------------

export interface PairedRowMergeInput {
  table: 'account' | 'product';
  /** The row's sync base column as stored. */
  storedBase: string | null | undefined;
  /** The QuickBooks record's synced fields, as the row would hold them (silence already applied). */
  quickbooks: SyncFields;
  /** The row's synced fields. */
  dynamics: SyncFields;
  qbModifiedAt: string;
  dvModifiedAt: string | null;
  policy: OwnershipPolicy;
  columnGroups?: Readonly<Record<string, string>>;
  numericColumns: readonly string[];
  /**
   * False: the base's `@quickbooksForm` is not read (runs recorded before it existed decided without it, and must
   * decide the same on replay). Default true.
   */
  readQuickBooksForm?: boolean;
}

export interface PairedRowMergePlan {
  /** What both systems hold after this sync. */
  merged: SyncFields;
  /** How QuickBooks holds the merged text it could not store as it is, while QuickBooks is not modified. */
  quickbooksForm: QuickBooksForm;
  /** QuickBooks must take `merged` (a Mod). */
  quickbooksNeedsChange: boolean;
  /** Columns the row must take back. */
  rowChanges: Record<string, unknown>;
  /** The row must be written (changes, or a sync base that moved). */
  rowNeedsWrite: boolean;
  conflicts: FieldConflict[];
}

/** Three-way merge of a Dynamics row with its QuickBooks record: QuickBooks is written first, then the row. */
export function planPairedRowMerge(input: PairedRowMergeInput): MappingResult<PairedRowMergePlan> {
  // The times, the policy and the column groups are the input's own; a value the last base was written over carries
  // the time it was saved, not the row's modifiedon (the connector's write).
  const storedForm = input.readQuickBooksForm === false ? null : decodeQuickBooksForm(input.storedBase);
  const merge = mergeSyncFields({
    ...input,
    base: decodeSyncBase(input.storedBase),
    dvEditedAt: dynamicsEditTimes(decodeDynamicsEdits(input.storedBase), input.dynamics),
    quickbooksForm: storedForm,
  });
  if (!merge.ok) return merge;
  const { merged, conflicts, heldInQuickBooksForm } = merge.value;
  const quickbooksForm = quickbooksFormFor(storedForm, heldInQuickBooksForm);
  const rowChanges = withRowState(
    input.table,
    changedColumns(merged as Record<string, unknown>, input.dynamics, input.numericColumns as never[]) ?? {},
    merged[ACTIVE_STATE_COLUMN],
    input.dynamics[ACTIVE_STATE_COLUMN],
  );
  return {
    ok: true,
    value: {
      merged,
      quickbooksForm,
      // A column QuickBooks holds in its form of the merged text is one it cannot hold any closer.
      quickbooksNeedsChange: !sameSyncFields(merged, withColumnsOf(input.quickbooks, merged, heldInQuickBooksForm)),
      rowChanges,
      // The base's QuickBooks version alone never makes a write (see `withoutQuickBooksVersion`).
      rowNeedsWrite:
        Object.keys(rowChanges).length > 0 ||
        withoutQuickBooksVersion(input.storedBase) !== encodeSyncBase(merged, { quickbooksForm }),
      conflicts,
    },
  };
}

/** The outcome once the writes are done: a conflict is reported as such even when both sides were written. */
export function pairedRowOutcome(
  plan: Pick<PairedRowMergePlan, 'conflicts' | 'rowChanges'>,
  quickbooksChanged: boolean,
): SyncOutcome {
  if (plan.conflicts.length > 0) return 'conflict';
  return quickbooksChanged || Object.keys(plan.rowChanges).length > 0 ? 'updated' : 'unchanged';
}

/**
 * QuickBooks has taken what a sync decided, but the row's write-back was refused: the row changed in Dynamics after it
 * was read (a second save, seconds later). Merging again against the old sync base would count the connector's own
 * QuickBooks write as a QuickBooks edit, newer than the Dynamics edit it overtook, and write the older value back
 * onto the row. So the row first learns what QuickBooks now holds: the sync base becomes `base`, and the columns the
 * sync meant to write go onto the row except those the person changed since the read, which stay as they left them;
 * the next merge finds QuickBooks equal to the base and carries exactly those edits to QuickBooks. Columns are taken
 * one by one: leaving out a column the person did not touch would make its old value look like a new Dynamics edit.
 */
export function planWriteBackOverEdit(input: {
  /** The row's synced fields as the sync read them. */
  read: SyncFields;
  /** The row's synced fields now. */
  current: SyncFields;
  /** The row's modifiedon now: the person's last save, which this write goes onto (its ETag). */
  currentModifiedOn?: string | null;
  /** What the sync meant to write onto the row: synced columns, and for a pairing its company file and ListID. */
  changes: Readonly<Record<string, unknown>>;
  /** What QuickBooks now holds (the merge, or the record a pairing found or created). */
  base: SyncFields;
}): {
  changes: Record<string, unknown>;
  base: SyncFields;
  editedSinceRead: string[];
  dynamicsEdits: DynamicsEdits | null;
} {
  const editedSinceRead = Object.keys({ ...input.read, ...input.current }).filter(
    (column) => !sameSyncFields({ [column]: input.read[column] ?? null }, { [column]: input.current[column] ?? null }),
  );
  const edited = new Set(editedSinceRead);
  const changes = Object.fromEntries(Object.entries(input.changes).filter(([column]) => !edited.has(column)));
  // The columns left as the person saved them now differ from the base, and this write moves the row's modifiedon
  // past their save: the base keeps when they were saved, so that a QuickBooks edit made between that save and this
  // write is not taken for the older one (chaos seed 1, 300 faults: west 8000002C ended on the earlier Dynamics phone).
  const left = editedSinceRead.filter(
    (column) => !sameSyncFields({ [column]: input.current[column] ?? null }, { [column]: input.base[column] ?? null }),
  );
  const dynamicsEdits =
    input.currentModifiedOn && left.length > 0
      ? {
          at: input.currentModifiedOn,
          columns: Object.fromEntries(left.map((column) => [column, input.current[column] ?? null])),
        }
      : null;
  return { changes, base: input.base, editedSinceRead, dynamicsEdits };
}

/**
 * A row created in Dynamics now has its QuickBooks record: the pairing, plus the columns QuickBooks normalised
 * differently (e.g. a trimmed name), with the record's fields as the new base.
 */
export function planPairing(input: {
  table: 'account' | 'product';
  connection: string;
  listId: string;
  quickbooks: SyncFields;
  dynamics: SyncFields;
  numericColumns: readonly string[];
  /**
   * What the connection makes of text QuickBooks cannot store (its transliteration). A column QuickBooks holds as
   * this makes the row's text keeps the row's text, and the base records both forms. Absent: QuickBooks' text is
   * taken (runs recorded before the base kept both forms).
   */
  quickbooksText?: (text: string) => string;
}): { changes: Record<string, unknown>; base: SyncFields; quickbooksForm: QuickBooksForm } {
  const quickbooksForm = input.quickbooksText
    ? quickbooksFormOf(input.dynamics, input.quickbooks, input.quickbooksText)
    : {};
  const agreed = withColumnsOf(input.quickbooks, input.dynamics, Object.keys(quickbooksForm));
  const changes = withRowState(
    input.table,
    changedColumns(agreed as Record<string, unknown>, input.dynamics, input.numericColumns as never[]) ?? {},
    agreed[ACTIVE_STATE_COLUMN],
    input.dynamics[ACTIVE_STATE_COLUMN],
  );
  return {
    changes: { ...changes, qbsync_companyfile: input.connection, qbsync_qblistid: input.listId },
    base: agreed,
    quickbooksForm,
  };
}

/** What identifies a list Mod (its record and the EditSequence it was computed from), not a field it sets. */
const MOD_IDENTITY: ReadonlySet<string> = new Set(['listId', 'editSequence']);

/**
 * Whether a QuickBooks version read after a Mod went out holds every field that Mod set. `stillToSet` is the Mod the
 * same merge computes over that version (null: nothing differs), so a field the sent Mod set that the version does not
 * hold is in it. A Mod whose answer was lost is then known applied even when a person edited another field beside it:
 * what it set is what QuickBooks and the row agreed on, not a QuickBooks edit to merge against the older base.
 *
 * A group the Mod sets (an item's `SalesOrPurchaseMod` of description and price, an address) is looked into
 * `withinGroups`: a person's edit of the description is then beside the Mod's price, not on it. Without, the whole
 * group counts as one field, as runs recorded before compared.
 */
export function holdsSentMod(
  sent: object,
  stillToSet: object | null,
  { withinGroups = true }: { withinGroups?: boolean } = {},
): boolean {
  if (!stillToSet) return true;
  const fields = Object.fromEntries(Object.entries(sent).filter(([field]) => !MOD_IDENTITY.has(field)));
  return heldIn(fields, stillToSet, withinGroups);
}

/** Every field `sent` set is held: none is in `stillToSet`, or, `withinGroups`, its group holds each of its parts. */
function heldIn(sent: object, stillToSet: object, withinGroups: boolean): boolean {
  const still = stillToSet as Record<string, unknown>;
  return Object.entries(sent).every(
    ([field, value]) =>
      !(field in still) ||
      (withinGroups && isGroup(field, value) && isGroup(field, still[field]) && heldIn(value, still[field], true)),
  );
}

/** A group of fields set one by one (an address, a sales description and price); a reference is one value. */
function isGroup(field: string, value: unknown): value is object {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !field.endsWith('Ref');
}
