import type { CustomerRet, VendorRet } from '../qbxml/requests';
import { customerContact, customerToAccount } from './customerAccount';
import type { AccountWrite, ContactWrite } from './dataverseRows';
import type { AccountMappingContext } from './party';
import { vendorContact, vendorToAccount } from './vendorAccount';
import { ACTIVE_STATE_COLUMN, activeStateValue, rowStateFor, type RowState, withRowState } from './activeStatus';
import { COMPANY_FILE_COLUMN, LIST_ID_COLUMN, SYNC_BASE_COLUMN } from './entityRegistry';
import { changedColumns } from './fields';
import { type OwnershipPolicy } from './ownership';
import { type MappingResult } from './result';
import {
  decodeDynamicsEdits,
  decodeQuickBooksForm,
  decodeSyncBase,
  dynamicsEditTimes,
  encodeSyncBase,
  mergeSyncFields,
  quickbooksFormFor,
  sameSyncFields,
  withColumnsOf,
  withoutQuickBooksVersion,
  type FieldConflict,
  type QuickBooksVersion,
  type SyncFields,
} from './syncBase';

/**
 * The decisions of the QuickBooks → Dynamics flow (customers and vendors into accounts, items into products), apart
 * from the reads and writes that carry them out (`activities/dataverseListRecords.ts`): what a new row holds, and for
 * a row that exists, which columns to write, what QuickBooks must take back, and the outcome.
 */

export type SyncOutcome = 'created' | 'updated' | 'unchanged' | 'conflict';

type Fields = Record<string, string | number | null>;

/**
 * Silence is not a change: for a column QuickBooks has no opinion on (the category of a customer without a type),
 * QuickBooks "holds" whatever both sides last agreed on, or else what Dynamics holds, so the merge never clears it.
 */
export function withQuickBooksSilence(
  quickbooks: SyncFields,
  silent: readonly string[],
  base: SyncFields | null,
  dynamics: SyncFields,
): SyncFields {
  const fields: Fields = { ...quickbooks };
  for (const column of silent) fields[column] = base?.[column] ?? dynamics[column] ?? null;
  return fields;
}

/**
 * First pairing of a record both sides already had (no base yet): a blank on one side is not a competing value, so
 * each side's blanks take the other side's value before the merge.
 */
export function fillFirstPairingBlanks(
  quickbooks: SyncFields,
  dynamics: SyncFields,
): { quickbooks: SyncFields; dynamics: SyncFields } {
  const qb: Fields = { ...quickbooks };
  const dv: Fields = { ...dynamics };
  for (const column of Object.keys(qb)) {
    if (qb[column] === null && dv[column] !== null) qb[column] = dv[column] ?? null;
    else if (dv[column] === null && qb[column] !== null) dv[column] = qb[column] ?? null;
  }
  return { quickbooks: qb, dynamics: dv };
}

/**
 * A row that does not exist yet: the QuickBooks record as it is, with the base both sides now agree on. Dataverse
 * refuses a state on create (reference dataverse.md §2), so a record already inactive in QuickBooks is created and
 * then given its state (`state`, null when the row is born as it should be).
 */
export function planRowCreate(
  table: 'account' | 'product',
  desired: Readonly<Record<string, unknown>>,
  quickbooks: SyncFields,
  quickbooksVersion?: QuickBooksVersion,
): { body: Record<string, unknown>; written: string[]; state: RowState | null } {
  const { [ACTIVE_STATE_COLUMN]: statecode, ...columns } = desired;
  const state = activeStateValue(statecode) === null ? null : rowStateFor(table, statecode);
  return {
    body: { ...columns, [SYNC_BASE_COLUMN]: encodeSyncBase(quickbooks, { quickbooksVersion }) },
    written: [...Object.keys(columns), ...(state === null ? [] : Object.keys(state))],
    state,
  };
}

export interface RowMergeInput {
  table: 'account' | 'product';
  /** The QuickBooks record as the row should hold it (mapping-shaped, money as decimal text). */
  desired: Readonly<Record<string, unknown>>;
  /** Its synced fields. */
  quickbooks: SyncFields;
  /** The Dataverse row as read (money as decimal text). */
  row: Readonly<Record<string, unknown>>;
  /** The row's synced fields. */
  dynamics: SyncFields;
  /** The row's sync base column as stored (null: never synced). */
  storedBase: string | null;
  qbModifiedAt: string;
  /** The version `quickbooks` was read at, recorded in the base written here; absent in runs that did not carry it. */
  quickbooksVersion?: QuickBooksVersion;
  dvModifiedAt: string | null;
  policy: OwnershipPolicy;
  columnGroups?: Readonly<Record<string, string>>;
  /** Customers take Dynamics' changes back; vendors and items only flow from QuickBooks when false. */
  returnsToQuickBooks: boolean;
  /** Columns QuickBooks has no opinion on for this record. */
  quickbooksSilent: readonly string[];
  /** Money and decimal columns of the table, compared by value. */
  numericColumns: readonly string[];
  /** Lookup bindings to send (the caller knows which lookups the row lacks). */
  binds: Readonly<Record<string, string | undefined>>;
  /** Set when the row is an unpaired one taken over by this QuickBooks record (adoption): it gets the pairing. */
  adoptAs?: { companyFile: string; listId: string };
}

export interface RowMergePlan {
  /** Columns to write to the row (mapping-shaped), the sync base included when it moves; empty: nothing to write. */
  changes: Record<string, unknown>;
  /** Columns written, the sync base left out. */
  written: string[];
  outcome: SyncOutcome;
  conflicts: FieldConflict[];
  /**
   * What QuickBooks must take because Dynamics' side won some fields, or null when QuickBooks already agrees. The base
   * is then not moved here: it is committed once QuickBooks took them, so a failed QuickBooks write is retried.
   */
  quickbooksTarget: SyncFields | null;
}

/** Three-way merge of a QuickBooks record into its paired (or adopted) row: the writes and the outcome. */
export function planRowMerge(input: RowMergeInput): MappingResult<RowMergePlan> {
  const base = decodeSyncBase(input.storedBase);
  const storedForm = decodeQuickBooksForm(input.storedBase);
  const silenced = withQuickBooksSilence(input.quickbooks, input.quickbooksSilent, base, input.dynamics);
  const sides = base === null ? fillFirstPairingBlanks(silenced, input.dynamics) : null;
  // The times, the policy and the column groups are the input's own.
  const merge = mergeSyncFields({
    ...input,
    base,
    quickbooks: sides?.quickbooks ?? silenced,
    dynamics: sides?.dynamics ?? input.dynamics,
    // A value the last base was written over was saved before the row's modifiedon (the connector's write).
    dvEditedAt: dynamicsEditTimes(decodeDynamicsEdits(input.storedBase), input.dynamics),
    // QuickBooks reading back the transliteration of a Dynamics text is the echo of the connector's write.
    quickbooksForm: storedForm,
  });
  if (!merge.ok) return merge;
  const { merged, conflicts, heldInQuickBooksForm } = merge.value;
  // Compared with what QuickBooks holds as it is (silence kept, blanks not filled): a blank filled from Dynamics is news.
  // A column QuickBooks holds in its form of the merged text is one it cannot hold any closer.
  const quickbooksNeedsChange =
    input.returnsToQuickBooks && !sameSyncFields(merged, withColumnsOf(silenced, merged, heldInQuickBooksForm));
  const changes: Record<string, unknown> = withRowState(
    input.table,
    changedColumns({ ...input.desired, ...merged }, input.row, input.numericColumns as never[]) ?? {},
    merged[ACTIVE_STATE_COLUMN],
    input.row[ACTIVE_STATE_COLUMN],
  );
  const newForm = quickbooksFormFor(storedForm, heldInQuickBooksForm);
  // Rewritten when its fields (or their QuickBooks forms) move; then with the version they were agreed at.
  if (
    !quickbooksNeedsChange &&
    withoutQuickBooksVersion(input.storedBase) !== encodeSyncBase(merged, { quickbooksForm: newForm })
  ) {
    changes[SYNC_BASE_COLUMN] = encodeSyncBase(merged, {
      quickbooksForm: newForm,
      quickbooksVersion: input.quickbooksVersion,
    });
  }
  for (const [bind, target] of Object.entries(input.binds)) if (target) changes[bind] = target;
  if (input.adoptAs) {
    changes[COMPANY_FILE_COLUMN] = input.adoptAs.companyFile;
    changes[LIST_ID_COLUMN] = input.adoptAs.listId;
  }
  const written = Object.keys(changes).filter((c) => c !== SYNC_BASE_COLUMN);
  const outcome: SyncOutcome =
    conflicts.length > 0 ? 'conflict' : written.length > 0 || quickbooksNeedsChange ? 'updated' : 'unchanged';
  return {
    ok: true,
    value: { changes, written, outcome, conflicts, quickbooksTarget: quickbooksNeedsChange ? merged : null },
  };
}

/**
 * What a QuickBooks customer or vendor becomes in Dynamics: its account and its primary contact (null without a
 * contact person), or the account's broken rules, then the contact's. One mapping for a record's own run and for a
 * record group.
 */
export function partyRows(
  entity: 'customer' | 'vendor',
  record: CustomerRet | VendorRet,
  ctx: AccountMappingContext,
): MappingResult<{ desired: AccountWrite; contact: ContactWrite | null }> {
  const isCustomer = entity === 'customer';
  const desired = isCustomer
    ? customerToAccount(record as CustomerRet, ctx)
    : vendorToAccount(record as VendorRet, ctx);
  if (!desired.ok) return desired;
  const contact = isCustomer ? customerContact(record as CustomerRet, ctx) : vendorContact(record as VendorRet, ctx);
  if (!contact.ok) return contact;
  return { ok: true, value: { desired: desired.value, contact: contact.value } };
}
