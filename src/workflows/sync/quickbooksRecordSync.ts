import { ApplicationFailure, patched } from '@temporalio/workflow';
import type { SyncSettings } from '../../config/syncSettings';
import type { ChoiceMaps } from '../../mapping/choices';
import { accountToCustomerMod, customerToAccount } from '../../mapping/customerAccount';
import { partyRows } from '../../mapping/quickbooksToDynamics';
import type { AccountRecord, ProductRecord } from '../../mapping/dataverseRows';
import { itemToProduct, itemValuesNotCarried, productToItemMod, type SyncedItem } from '../../mapping/itemProduct';
import type { QuickBooksEntity } from '../../mapping/entityRegistry';
import type { OwnershipPolicy } from '../../mapping/ownership';
import { DEFAULT_OWNERSHIP } from '../../mapping/ownership';
import { SUPERSEDED_REREADS } from '../../mapping/rereadLimits';
import {
  accountSyncFields,
  productSyncFields,
  quickbooksFormOf,
  quickbooksVersionOf,
  type SyncFields,
} from '../../mapping/syncBase';
import { transliterateToWindows1252 } from '../../qbxml/charset';
import type { CustomerModFields, CustomerRet, ListDeletedRet, QbxmlRequest, VendorRet } from '../../qbxml/requests';
import type { ToDataverseResult } from '../../activities/dataverseListRecords';
import { modifyListRecord } from '../companyFile/modifyListRecord';
import { dataverse } from './activities';
import { asRecordSync, mappedOrFail, markRecord, type RecordOutcome } from './recordOutcome';
import { readCustomer, readDeletion, readItem, readVendor, rememberOwnWrite } from './quickbooksRecords';
import {
  pairedAccountRow,
  pairedProductRow,
  runHoldsSentMod,
  writeBackOverEdit,
  type PairedRowReader,
} from './rowBaseOverEdit';

export interface QuickBooksRecordSyncInput {
  connection: string;
  entity: QuickBooksEntity;
  listId: string;
  /**
   * The version the poll read, or its deletion (`ListDeletedRet`). Absent on a retry or replay: the record is read
   * again, so the latest version wins.
   */
  record?: CustomerRet | VendorRet | SyncedItem | ListDeletedRet;
  settings: SyncSettings;
  choices: ChoiceMaps;
}

export interface QuickBooksRecordSyncResult {
  outcome: Exclude<RecordOutcome, 'failed'>;
  targetId: string;
  /** Columns written to Dataverse. */
  written: string[];
  /** Fields Dynamics won in a merge and QuickBooks took. */
  quickbooksChanged: boolean;
  /** Both versions of every field both sides changed, and who won: the conflict's audit record. */
  conflicts: ToDataverseResult['conflicts'];
  /** What happened, in words, when the outcome alone does not say it (a deletion, a value Dynamics cannot carry). */
  note?: string;
}

export function ownershipPolicy(settings: SyncSettings): OwnershipPolicy {
  return {
    ...DEFAULT_OWNERSHIP,
    owners: { ...DEFAULT_OWNERSHIP.owners, ...settings.ownership.owners },
    fallback: settings.ownership.fallback,
  };
}

async function readSource(
  input: QuickBooksRecordSyncInput,
): Promise<CustomerRet | VendorRet | SyncedItem | ListDeletedRet> {
  if (input.record && input.record.kind !== 'ListDeleted') return input.record;
  const found =
    input.entity === 'customer'
      ? await readCustomer(input.connection, { listId: input.listId })
      : input.entity === 'vendor'
        ? await readVendor(input.connection, input.listId)
        : await readItem(input.connection, { listId: input.listId });
  // Gone when read again (a retried deletion whose first run failed, a replay): QuickBooks says whether it was deleted.
  // Runs recorded before this failed at once.
  if (!found && patched('quickbooks-record-reread-deletion')) {
    const deletion = await readDeletion(input.connection, input.entity, input.listId);
    if (deletion) return deletion;
  }
  if (!found) {
    throw ApplicationFailure.nonRetryable(
      `QuickBooks ${input.entity} ${input.listId} no longer exists in company file ${input.connection}`,
      'ObjectNotFoundError',
    );
  }
  return found;
}

/**
 * One QuickBooks customer, vendor or item into Dynamics (`qb/<connection>/<entity>/<ListID>`). Its history is the
 * record's audit trail: the QuickBooks version (input or read), the mapped row and the merge (activity input and
 * result), and the Mod QuickBooks took when Dynamics' side of a conflict won.
 */
export async function quickbooksRecordSync(input: QuickBooksRecordSyncInput): Promise<QuickBooksRecordSyncResult> {
  return asRecordSync(async () => {
    if (input.record?.kind === 'ListDeleted') return recordDeleted(input, input.record);
    let source = await readSource(input);
    // The record this run carries may be older than the version its row's base was agreed at (a Dynamics → QuickBooks
    // run wrote QuickBooks meanwhile): then it is read again rather than merged. Runs recorded before merged it.
    const rereadsSuperseded = patched(SUPERSEDED_REREAD_PATCH);
    // A QuickBooks edit between the merge and its Mod sends the run back to merge the new version. Runs recorded before
    // computed the Mod over the new version from the old one's values, putting them back over that edit.
    const mergesMovedVersion = patched(MOD_ON_MERGED_VERSION_PATCH);
    for (let reread = 0; ; reread++) {
      if (source.kind === 'ListDeleted') return recordDeleted(input, source);
      const refuseSuperseded = rereadsSuperseded && reread < SUPERSEDED_REREADS;
      const synced = await syncVersion(input, source, refuseSuperseded, mergesMovedVersion);
      if (synced !== 'superseded') return synced;
      if (reread >= SUPERSEDED_REREADS) {
        throw ApplicationFailure.retryable(
          `QuickBooks ${input.entity} ${input.listId} kept changing while it was merged (${reread + 1} versions)`,
          'StaleEditSequenceError',
        );
      }
      source = await readSource({ ...input, record: undefined });
    }
  });
}

const SUPERSEDED_REREAD_PATCH = 'quickbooks-record-superseded-reread';
const MOD_ON_MERGED_VERSION_PATCH = 'quickbooks-record-mod-on-merged-version';

/**
 * A version that moved since the merge yet already holds the target is most often the run's own Mod, applied while
 * its answer was lost (a QBWC session cut after QuickBooks took it). Merged again as a new version against the base,
 * which is committed only after the Mod, its values would pass for a QuickBooks edit newer than a Dynamics save made
 * since the merge, and go over that save (as the Dynamics → QuickBooks flow did in chaos seed 11, east 80000040). It
 * is what QuickBooks holds: the base is committed at it. Runs recorded before merged it again.
 */
function movedVersionHoldsTarget(): boolean {
  return patched('quickbooks-record-moved-version-holds-target');
}

/**
 * A moved version that holds every field the run's Mod set beside a person's edit of another field is that Mod,
 * applied while its answer was lost, with the edit on top. Merged again against the base agreed before the Mod, the
 * Mod's values would pass for a QuickBooks edit newer than a Dynamics save made meanwhile and go over that save in both
 * systems. The row first learns the base as QuickBooks took it (`rowLearnsLostMod`); the merge again then sees the edit
 * alone as QuickBooks' news. Runs recorded before merged again against the old base.
 */
const BASE_AFTER_LOST_MOD_PATCH = 'quickbooks-record-base-after-lost-mod';

/**
 * An item run's Mod applied with its answer lost, beside a person's edit in QuickBooks: as for customers above. The
 * price and description travel in one group of an item Mod, so the edit is most often inside the Mod's own group
 * (`runHoldsSentMod`). Runs recorded before merged again against the old base.
 */
const ITEM_BASE_AFTER_LOST_MOD_PATCH = 'quickbooks-item-base-after-lost-mod';

/**
 * The row's sync base becomes `target`, which QuickBooks took with the Mod whose answer was lost (`moved` holds it, and
 * `holds` is `moved`'s synced fields). The row held `target` once the merge wrote it; a column saved in Dynamics since
 * keeps its value and the time it was saved (`writeBackOverEdit`), so the merge again weighs that save at its own time,
 * not at this write's.
 */
async function rowLearnsLostMod<Row>(
  row: PairedRowReader<Row>,
  rowId: string,
  target: SyncFields,
  holds: SyncFields,
  moved: CustomerRet | SyncedItem,
): Promise<void> {
  await writeBackOverEdit(
    row,
    rowId,
    target,
    {},
    target,
    quickbooksFormOf(target, holds, transliterateToWindows1252),
    quickbooksVersionOf(moved),
  );
}

/**
 * One version of the record into Dynamics, or `superseded` when `refuseSuperseded` and the row's base was agreed at a
 * newer version (nothing written), or when `mergesMovedVersion` and QuickBooks moved on from `record` before the Mod
 * carrying Dynamics' side went out (Dynamics written, QuickBooks not: the next version's merge carries it).
 */
async function syncVersion(
  input: QuickBooksRecordSyncInput,
  record: CustomerRet | VendorRet | SyncedItem,
  refuseSuperseded: boolean,
  mergesMovedVersion: boolean,
): Promise<QuickBooksRecordSyncResult | 'superseded'> {
  const policy = ownershipPolicy(input.settings);
  const companyFile = input.connection;
  const qbModifiedAt = record.timeModified ?? '';
  const version = { quickbooksVersion: quickbooksVersionOf(record), ...(refuseSuperseded ? { refuseSuperseded } : {}) };
  let result: ToDataverseResult;
  let quickbooksChanged = false;
  let notCarried: string[] = [];

  if (input.entity === 'item') {
    const item = record as SyncedItem;
    const desired = mappedOrFail(itemToProduct(item, { companyFile }), `QuickBooks item ${item.fullName ?? item.name}`);
    // A value the product cannot hold (negative stock) is left out and reported; the item's other fields still sync.
    notCarried = itemValuesNotCarried(item);
    result = await dataverse.syncItemToDataverse({
      desired,
      qbModifiedAt,
      ...version,
      ownership: policy,
      returnsToQuickBooks: true,
    });
    if (result.superseded) return 'superseded';
    if (result.quickbooksTarget) {
      const target = result.quickbooksTarget;
      let movedOn = false;
      /** The fields of the last Mod handed to QuickBooks, whose answer may have been lost. */
      let sent: object | null = null;
      let holdsSent = false;
      const modified = await modifyListRecord<SyncedItem>({
        connection: input.connection,
        current: item,
        read: (requestId) => ({ type: 'ItemQuery', requestId, listIds: [item.listId] }),
        write: (requestId, current) => {
          const mod = mappedOrFail(
            productToItemMod({ ...desired, ...target } as ProductRecord, current),
            `QuickBooks item ${item.fullName ?? item.name}`,
          );
          // Edited in QuickBooks since the merge (3200, read again): merge that version rather than write over it,
          // unless it holds the target already (see `movedVersionHoldsTarget`).
          if (mergesMovedVersion && current.editSequence !== item.editSequence) {
            if (mod === null && movedVersionHoldsTarget()) return null;
            movedOn = true;
            holdsSent = runHoldsSentMod(sent, mod && mod.fields);
            return null;
          }
          if (mod) sent = mod.fields;
          return mod ? ({ type: `${mod.kind}Mod`, requestId, fields: mod.fields } as QbxmlRequest) : null;
        },
      });
      if (movedOn) {
        if (holdsSent && patched(ITEM_BASE_AFTER_LOST_MOD_PATCH)) {
          const holds = mappedOrFail(itemToProduct(modified.record, { companyFile }), `QuickBooks item ${item.listId}`);
          await rowLearnsLostMod(
            pairedProductRow(result.rowId),
            result.rowId,
            target,
            productSyncFields(holds),
            modified.record,
          );
        }
        return 'superseded';
      }
      quickbooksChanged = true;
      if (modified.changed) await rememberOwnWrite(input.connection, modified.record);
      const holds = mappedOrFail(itemToProduct(modified.record, { companyFile }), `QuickBooks item ${item.listId}`);
      await dataverse.commitSyncBase({
        entity: 'product',
        rowId: result.rowId,
        fields: target,
        ...baseForms(target, productSyncFields(holds)),
        quickbooksVersion: quickbooksVersionOf(modified.record),
      });
    }
  } else {
    const isCustomer = input.entity === 'customer';
    const ctx = { companyFile, choices: input.choices };
    const what = `QuickBooks ${input.entity} ${record.fullName ?? record.name}`;
    const { desired, contact } = mappedOrFail(
      partyRows(isCustomer ? 'customer' : 'vendor', record as CustomerRet | VendorRet, ctx),
      what,
    );
    result = await dataverse.syncPartyToDataverse({
      desired,
      contact,
      qbModifiedAt,
      ...version,
      ownership: policy,
      returnsToQuickBooks: isCustomer,
    });
    if (result.superseded) return 'superseded';
    if (result.quickbooksTarget && isCustomer) {
      const target: SyncFields = result.quickbooksTarget;
      const customer = record as CustomerRet;
      let movedOn = false;
      /** The fields of the last Mod handed to QuickBooks, whose answer may have been lost. */
      let sent: CustomerModFields | null = null;
      let holdsSent = false;
      const modified = await modifyListRecord<CustomerRet>({
        connection: input.connection,
        current: customer,
        read: (requestId) => ({ type: 'CustomerQuery', requestId, listIds: [customer.listId] }),
        write: (requestId, current) => {
          const fields = mappedOrFail(
            accountToCustomerMod({ ...desired, ...target } as AccountRecord, current, {
              choices: input.choices,
              ...(current.parentRef?.listId ? { parentListId: current.parentRef.listId } : {}),
            }),
            what,
          );
          // Edited in QuickBooks since the merge (3200, read again): merge that version rather than write over it,
          // unless it holds the target already (see `movedVersionHoldsTarget`).
          if (mergesMovedVersion && current.editSequence !== customer.editSequence) {
            if (fields === null && movedVersionHoldsTarget()) return null;
            movedOn = true;
            holdsSent = runHoldsSentMod(sent, fields);
            return null;
          }
          if (fields) sent = fields;
          return fields ? { type: 'CustomerMod', requestId, fields } : null;
        },
      });
      if (movedOn) {
        if (holdsSent && patched(BASE_AFTER_LOST_MOD_PATCH)) {
          const holds = mappedOrFail(customerToAccount(modified.record, ctx), what);
          await rowLearnsLostMod(
            pairedAccountRow(result.rowId),
            result.rowId,
            target,
            accountSyncFields(holds),
            modified.record,
          );
        }
        return 'superseded';
      }
      quickbooksChanged = true;
      if (modified.changed) await rememberOwnWrite(input.connection, modified.record);
      const holds = mappedOrFail(customerToAccount(modified.record, ctx), what);
      await dataverse.commitSyncBase({
        entity: 'account',
        rowId: result.rowId,
        fields: target,
        ...baseForms(target, accountSyncFields(holds)),
        quickbooksVersion: quickbooksVersionOf(modified.record),
      });
    }
  }

  markRecord({ targetId: result.rowId, outcome: result.outcome });
  return {
    outcome: result.outcome,
    targetId: result.rowId,
    written: result.written,
    quickbooksChanged,
    conflicts: result.conflicts,
    ...(notCarried.length > 0 ? { note: notCarried.join('; ') } : {}),
  };
}

/** The record was deleted in QuickBooks: its paired row is deactivated and marked, never deleted. */
async function recordDeleted(
  input: QuickBooksRecordSyncInput,
  deleted: ListDeletedRet,
): Promise<QuickBooksRecordSyncResult> {
  const result = await dataverse.markDeletedInQuickBooks({
    entity: input.entity,
    companyFile: input.connection,
    listId: input.listId,
    timeDeleted: deleted.timeDeleted,
  });
  markRecord({ ...(result.rowId ? { targetId: result.rowId } : {}), outcome: result.outcome });
  return {
    outcome: result.outcome,
    targetId: result.rowId ?? '',
    written: result.written,
    quickbooksChanged: false,
    conflicts: [],
    note: result.note,
  };
}

/**
 * The QuickBooks forms a base committed after a Mod keeps: the text of `target` QuickBooks now holds transliterated,
 * so that reading it back is not taken for a QuickBooks edit.
 */
function baseForms(target: SyncFields, holds: SyncFields): { quickbooksForm?: Record<string, string> } {
  const quickbooksForm = quickbooksFormOf(target, holds, transliterateToWindows1252);
  return Object.keys(quickbooksForm).length > 0 ? { quickbooksForm } : {};
}
