import { ApplicationFailure, patched } from '@temporalio/workflow';
import type { SyncContext } from '../../activities/syncContext';
import type { AccountForQuickBooks, ProductForQuickBooks } from '../../activities/dataversePairedRows';
import { ACTIVE_STATE_COLUMN } from '../../mapping/activeStatus';
import { accountToCustomerAdd, accountToCustomerMod, customerToAccount } from '../../mapping/customerAccount';
import type { AccountRecord, ProductRecord } from '../../mapping/dataverseRows';
import { pairedRowOutcome, planPairedRowMerge, planPairing } from '../../mapping/dynamicsToQuickBooks';
import { numericColumns } from '../../mapping/entityRegistry';
import { itemToProduct, productToItemAdd, productToItemMod, type SyncedItem } from '../../mapping/itemProduct';
import { deletedInQuickBooks } from '../../mapping/quickbooksDeletions';
import { withQuickBooksSilence } from '../../mapping/quickbooksToDynamics';
import { ROW_MERGE_ATTEMPTS } from '../../mapping/rereadLimits';
import {
  accountSyncFields,
  decodeSyncBase,
  productSyncFields,
  PRODUCT_COLUMN_GROUPS,
  quickbooksFormOf,
  quickbooksVersionOf,
  type FieldConflict,
  type QuickBooksForm,
  type SyncFields,
} from '../../mapping/syncBase';
import { transliterateToWindows1252 } from '../../qbxml/charset';
import type { TotalsDifference } from '../../mapping/salesOrderInvoice';
import type { CustomerAddFields, CustomerRet, QbRecord, QbxmlRequest } from '../../qbxml/requests';
import { modifyListRecord } from '../companyFile/modifyListRecord';
import { dataverse } from './activities';
import { ownershipPolicy } from './quickbooksRecordSync';
import { ensureListRecord, readCustomer, readItem, rememberOwnWrite } from './quickbooksRecords';
import { mappedOrFail, markRecord, type RecordOutcome } from './recordOutcome';
import { isStaleRow, pairedProductRow, runHoldsSentMod, writeBackOverEdit } from './rowBaseOverEdit';

/**
 * The Dynamics → QuickBooks flow for rows paired with a QuickBooks list record: accounts into customers, products
 * into items. The decisions are `mapping/dynamicsToQuickBooks.ts`'s; this file orders the reads and writes.
 */

export interface DynamicsSyncResult {
  outcome: Exclude<RecordOutcome, 'failed'>;
  connection?: string;
  targetId?: string;
  conflicts?: FieldConflict[];
  /** Sales orders: invoice total − order total, reported and never hidden. */
  totals?: TotalsDifference;
  note?: string;
}

/** A QuickBooks version that moved since the merge yet holds it is taken as holding it (see `write` below). */
const MOVED_VERSION_HOLDS_MERGE_PATCH = 'dynamics-row-moved-version-holds-merge';

/** A QuickBooks version holding a lost Mod beside another edit is taken as holding the merge (see `write` below). */
const BASE_AFTER_LOST_MOD_PATCH = 'dynamics-row-base-after-lost-mod';

/** The fields a list Mod sets (with its ListID and EditSequence). */
function modFields(mod: QbxmlRequest): object {
  return 'fields' in mod ? mod.fields : {};
}

/** Loads the context of the connection a Dynamics row belongs to (its company file, or the receiving one). */
export type ContextFor = (connection: string) => Promise<SyncContext>;

/** What differs between syncing an account and a product: everything else is the same three-way merge. */
interface PairedRowSpec<
  Row extends { qbsync_companyfile?: string | null; qbsync_qblistid?: string | null },
  Q extends QbRecord,
> {
  entity: 'account' | 'product';
  read(): Promise<{
    row: Row & { modifiedon?: string; qbsync_syncbase?: string | null; qbsync_qbdeletedon?: string | null };
    etag: string;
  } | null>;
  name(row: Row): string | null | undefined;
  /** The row's synced fields. */
  rowFields(row: Row): SyncFields;
  /** The QuickBooks record's synced fields, as the row would hold them; `base` fills what QuickBooks is silent on. */
  recordFields(
    record: Q,
    connection: string,
    ctx: SyncContext,
    what: string,
    base: SyncFields | null,
    row: SyncFields,
  ): SyncFields;
  /** The record this row becomes, found by name or created. */
  create(row: Row, connection: string, ctx: SyncContext, what: string): Promise<Q>;
  readRecord(connection: string, listId: string): Promise<Q | null>;
  queryById(requestId: string, listId: string): QbxmlRequest;
  /** The Mod that makes `current` agree with the merged row, or null when it already does. */
  modFor(requestId: string, current: Q, merged: Row, ctx: SyncContext, what: string): QbxmlRequest | null;
  columnGroups?: Readonly<Record<string, string>>;
}

/**
 * A Dynamics row into its QuickBooks record: created (and its ListID written back) when it has none, otherwise merged
 * three ways with the record, QuickBooks first (EditSequence), then the row (ETag). A row edited again meanwhile is
 * merged again rather than overwritten.
 */
async function pairedRowToQuickBooks<
  Row extends { qbsync_companyfile?: string | null; qbsync_qblistid?: string | null },
  Q extends QbRecord & { listId: string; editSequence: string; timeModified?: string },
>(rowId: string, spec: PairedRowSpec<Row, Q>, contextFor: ContextFor): Promise<DynamicsSyncResult> {
  const numeric = numericColumns(spec.entity);
  /** A pass that wrote QuickBooks before the row changed under it: the run still changed QuickBooks. */
  let quickbooksChangedBefore = false;
  for (let attempt = 1; attempt <= ROW_MERGE_ATTEMPTS; attempt++) {
    const read = await spec.read();
    if (!read) return { outcome: 'unchanged', note: `the ${spec.entity} no longer exists` };
    const { row } = read;
    // Its QuickBooks record was deleted: the row was deactivated then and has nothing left to sync with.
    if (deletedInQuickBooks(row)) {
      return {
        outcome: 'unchanged',
        note: `the ${spec.entity}'s QuickBooks record was deleted (${row.qbsync_qbdeletedon ?? ''})`,
      };
    }
    const connection = row.qbsync_companyfile ?? (await contextFor('')).receivingConnection;
    if (!connection) {
      return { outcome: 'unchanged', note: `no connection receives ${spec.entity}s created in Dynamics` };
    }
    markRecord({ connection });
    const ctx = await contextFor(connection);
    const what = `Dynamics ${spec.entity} ${spec.name(row) ?? rowId}`;
    const dynamicsFields = spec.rowFields(row);
    /**
     * False when the row changed since it was read: merge again. `quickbooksTook`: QuickBooks already holds `base`
     * (this pass wrote it, or a pairing found the record), so the row is first told so (`planWriteBackOverEdit`);
     * runs recorded before that merged again against the old base, reading their own write as a newer QuickBooks edit.
     */
    const writeBack = async (
      changes: Record<string, unknown>,
      base: SyncFields,
      quickbooksTook: boolean,
      quickbooksForm: QuickBooksForm,
      holder: Q,
    ): Promise<boolean> => {
      const form = Object.keys(quickbooksForm).length > 0 ? { quickbooksForm } : {};
      // The base records the QuickBooks version that holds it, so that a QuickBooks record run carrying an older
      // version reads the record again instead of merging it (`quickbooksVersionSuperseded`).
      const quickbooksVersion = quickbooksVersionOf(holder);
      try {
        await dataverse.writeBackToRow({
          entity: spec.entity,
          rowId,
          etag: read.etag,
          changes,
          base,
          ...form,
          quickbooksVersion,
        });
        return true;
      } catch (err) {
        if (!isStaleRow(err)) throw err;
        if (quickbooksTook && patched('dynamics-row-base-after-stale-write-back')) {
          await writeBackOverEdit(spec, rowId, dynamicsFields, changes, base, quickbooksForm, quickbooksVersion);
        }
        if (attempt < ROW_MERGE_ATTEMPTS) return false;
        throw err;
      }
    };

    // Text QuickBooks holds transliterated keeps its Dynamics form, and the base both forms (so the QuickBooks echo is
    // no edit). Runs recorded before wrote QuickBooks' form onto the row and decided without the base's forms.
    const bothForms = patched('sync-base-quickbooks-form');
    if (!row.qbsync_qblistid) {
      const record = await spec.create(row, connection, ctx, what);
      const pairing = planPairing({
        table: spec.entity,
        connection,
        listId: record.listId,
        quickbooks: spec.recordFields(record, connection, ctx, what, null, dynamicsFields),
        dynamics: dynamicsFields,
        numericColumns: numeric,
        ...(bothForms ? { quickbooksText: transliterateToWindows1252 } : {}),
      });
      if (!(await writeBack(pairing.changes, pairing.base, true, pairing.quickbooksForm, record))) continue;
      markRecord({ targetId: record.listId, outcome: 'created' });
      return { outcome: 'created', connection, targetId: record.listId };
    }

    const listId = row.qbsync_qblistid;
    markRecord({ targetId: listId });
    const record = await spec.readRecord(connection, listId);
    if (!record) {
      throw ApplicationFailure.nonRetryable(
        `${what} is linked to QuickBooks record ${listId}, which no longer exists in company file ${connection}`,
        'ObjectNotFoundError',
      );
    }
    const base = decodeSyncBase(row.qbsync_syncbase);
    // Runs recorded before active status was synced decided without it: both sides then hold what the base says.
    const activeStatusSynced = patched('dynamics-row-active-status');
    const decided = (fields: SyncFields): SyncFields =>
      activeStatusSynced ? fields : { ...fields, [ACTIVE_STATE_COLUMN]: base?.[ACTIVE_STATE_COLUMN] ?? null };
    const plan = mappedOrFail(
      planPairedRowMerge({
        table: spec.entity,
        storedBase: row.qbsync_syncbase,
        quickbooks: decided(spec.recordFields(record, connection, ctx, what, base, dynamicsFields)),
        dynamics: decided(dynamicsFields),
        qbModifiedAt: record.timeModified ?? '',
        dvModifiedAt: row.modifiedon ?? null,
        policy: ownershipPolicy(ctx.settings),
        ...(spec.columnGroups ? { columnGroups: spec.columnGroups } : {}),
        numericColumns: numeric,
        readQuickBooksForm: bothForms,
      }),
      what,
    );
    let quickbooksChanged = false;
    let quickbooksForm = plan.quickbooksForm;
    /** The version QuickBooks holds once this pass is done: the one merged, or the one its Mod left. */
    let holder: Q = record;
    if (plan.quickbooksNeedsChange) {
      // The merge was decided on `record`. Someone who edits the record in QuickBooks before the Mod lands (3200, the
      // Mod is read again) made an edit the merge never weighed: merge again rather than write the merged values
      // over it. Runs recorded before sent the same merged values onto the newer record.
      const remerge = patched('dynamics-row-remerge-after-quickbooks-edit');
      let editedSinceMerge = false;
      /** The last Mod handed to QuickBooks, whose answer may have been lost. */
      let sent: QbxmlRequest | null = null;
      let holdsSent = false;
      const result = await modifyListRecord<Q>({
        connection,
        current: record,
        read: (requestId) => spec.queryById(requestId, listId),
        write: (requestId, current) => {
          const mod = spec.modFor(requestId, current, { ...row, ...plan.merged }, ctx, what);
          if (remerge && current.editSequence !== record.editSequence) {
            // A version that already holds the merge is most often this pass's own Mod, applied while its answer was
            // lost (a QBWC session cut after QuickBooks took it): merged again against the old base, its values would
            // pass for a QuickBooks edit newer than a Dynamics save made since the read, and go back over that save
            // (chaos seed 11, 1,000 faults: east 80000040 ended on the earlier Dynamics phone in both systems). It is
            // what QuickBooks holds, so the row learns it as the base. Runs recorded before merged it again.
            if (mod === null && patched(MOVED_VERSION_HOLDS_MERGE_PATCH)) return null;
            editedSinceMerge = true;
            holdsSent = runHoldsSentMod(sent && modFields(sent), mod && modFields(mod));
            return null;
          }
          if (mod) sent = mod;
          return mod;
        },
      });
      if (editedSinceMerge) {
        // The moved version holds every field this pass's Mod set beside a person's edit of another field: the Mod
        // was applied, its answer lost. Merged again against the old base, its values would pass for a QuickBooks edit
        // newer than a Dynamics save made meanwhile and go over that save in both systems; the row first learns the
        // merge as the base QuickBooks took, then the next pass merges the edit. Runs recorded before merged again.
        if (holdsSent && patched(BASE_AFTER_LOST_MOD_PATCH)) {
          const holds = spec.recordFields(result.record, connection, ctx, what, base, dynamicsFields);
          await writeBackOverEdit(
            spec,
            rowId,
            dynamicsFields,
            plan.rowChanges,
            plan.merged,
            bothForms ? quickbooksFormOf(plan.merged, holds, transliterateToWindows1252) : plan.quickbooksForm,
            quickbooksVersionOf(result.record),
          );
        }
        continue;
      }
      holder = result.record;
      quickbooksChanged = result.changed;
      quickbooksChangedBefore ||= result.changed;
      if (result.changed) await rememberOwnWrite(connection, result.record);
      if (bothForms) {
        const holds = spec.recordFields(result.record, connection, ctx, what, base, dynamicsFields);
        quickbooksForm = quickbooksFormOf(plan.merged, holds, transliterateToWindows1252);
      }
    }
    if (
      plan.rowNeedsWrite &&
      !(await writeBack(plan.rowChanges, plan.merged, quickbooksChanged, quickbooksForm, holder))
    ) {
      continue;
    }
    const outcome = pairedRowOutcome(plan, quickbooksChangedBefore);
    markRecord({ outcome });
    return { outcome, connection, targetId: listId, conflicts: plan.conflicts };
  }
  throw ApplicationFailure.nonRetryable(
    `the ${spec.entity} kept changing in Dynamics while it was synced`,
    'StaleEtag',
  );
}

/** A Dynamics account into its QuickBooks customer. */
export async function accountToQuickBooks(accountId: string, contextFor: ContextFor): Promise<DynamicsSyncResult> {
  let parentListId: string | null = null;
  let parent: AccountForQuickBooks['parent'] = null;
  const addContext = (ctx: SyncContext) => ({ choices: ctx.choices, ...(parentListId ? { parentListId } : {}) });
  /**
   * A row without a company file yet is created in the one the run picked (`connection`), as a job when its parent is
   * paired there; otherwise it would be a top-level customer until its next run's Mod set the parent. Driven by the
   * read's result alone, it needs no patch (docs/versioning.md, a new field of an activity's result): results recorded
   * before carry no `parent`, so a replay of their runs builds the Add, and looks it up, exactly as they did.
   */
  const createContext = (ctx: SyncContext, connection: string) => {
    const jobOf = parentListId ?? (parent?.companyFile === connection ? parent.listId : null);
    return { choices: ctx.choices, ...(jobOf ? { parentListId: jobOf } : {}) };
  };
  return pairedRowToQuickBooks<AccountForQuickBooks['account'], CustomerRet>(
    accountId,
    {
      entity: 'account',
      read: async () => {
        const read = await dataverse.readAccountForQuickBooks({ accountId });
        parentListId = read?.parentListId ?? null;
        parent = read?.parent ?? null;
        return read ? { row: read.account, etag: read.etag } : null;
      },
      name: (row) => row.name,
      rowFields: (row) => accountSyncFields(row),
      recordFields: (customer, connection, ctx, what, base, row) => {
        const desired = mappedOrFail(
          customerToAccount(customer, { companyFile: connection, choices: ctx.choices }),
          what,
        );
        // A customer without a type has no opinion on the category, which Dynamics owns.
        const silent = desired.accountcategorycode === undefined ? ['accountcategorycode'] : [];
        return withQuickBooksSilence(accountSyncFields(desired), silent, base, row);
      },
      create: (row, connection, ctx, what) => {
        const fields = mappedOrFail(accountToCustomerAdd(row, createContext(ctx, connection)), what);
        return ensureListRecord<CustomerRet>({
          connection,
          find: () => existingCustomer(connection, fields),
          add: (requestId) => ({ type: 'CustomerAdd', requestId, fields }),
          what: `customer ${fields.name}`,
          failureType: 'CustomerAddFailed',
        });
      },
      readRecord: (connection, listId) => readCustomer(connection, { listId }),
      queryById: (requestId, listId) => ({ type: 'CustomerQuery', requestId, listIds: [listId] }),
      modFor: (requestId, current, merged, ctx, what) => {
        const fields = mappedOrFail(accountToCustomerMod(merged as AccountRecord, current, addContext(ctx)), what);
        return fields ? { type: 'CustomerMod', requestId, fields } : null;
      },
    },
    contextFor,
  );
}

/**
 * The customer an Add of `fields` would make, when QuickBooks has it already (a lost Add answer, a second run, the
 * same record entered by hand). A job's name is unique only under its parent, so a job is looked up by its full name
 * `Parent:Leaf`: its short name may be an unrelated top-level customer's, which the account would then be paired with,
 * and it never finds the job itself, whose Add after a lost answer would fail with 3100 until the attempts run out.
 */
async function existingCustomer(connection: string, fields: CustomerAddFields): Promise<CustomerRet | null> {
  const parentListId = fields.parentRef?.listId;
  // Before this patch a job was looked up by its short name; runs recorded then replay that one query.
  if (!parentListId || !patched('dynamics-account-job-full-name')) {
    return readCustomer(connection, { fullName: fields.name });
  }
  const parent = await readCustomer(connection, { listId: parentListId });
  if (!parent) {
    throw ApplicationFailure.nonRetryable(
      `the parent customer ${parentListId} of job ${fields.name} no longer exists in company file ${connection}`,
      'ObjectNotFoundError',
    );
  }
  return readCustomer(connection, { fullName: `${parent.fullName ?? parent.name}:${fields.name}` });
}

/** A Dynamics product into its QuickBooks item. */
export async function productToQuickBooks(productId: string, contextFor: ContextFor): Promise<DynamicsSyncResult> {
  return pairedRowToQuickBooks<ProductForQuickBooks['product'], SyncedItem>(
    productId,
    {
      ...pairedProductRow(productId),
      name: (row) => row.name,
      recordFields: (item, connection, _ctx, what) =>
        productSyncFields(mappedOrFail(itemToProduct(item, { companyFile: connection }), what)),
      create: (row, connection, ctx, what) => ensureItem(connection, row, ctx, what),
      readRecord: (connection, listId) => readItem(connection, { listId }),
      queryById: (requestId, listId) => ({ type: 'ItemQuery', requestId, listIds: [listId] }),
      modFor: (requestId, current, merged, _ctx, what) => {
        const mod = mappedOrFail(productToItemMod(merged as ProductRecord, current), what);
        return mod ? ({ type: `${mod.kind}Mod`, requestId, fields: mod.fields } as QbxmlRequest) : null;
      },
      columnGroups: PRODUCT_COLUMN_GROUPS,
    },
    contextFor,
  );
}

/** The item named like the product in this company file, created with the configured accounts when missing. */
export async function ensureItem(
  connection: string,
  product: ProductRecord,
  ctx: SyncContext,
  what: string,
): Promise<SyncedItem> {
  const add = mappedOrFail(
    productToItemAdd(product, {
      defaultAccounts: ctx.settings.items.accounts,
      itemKind: ctx.settings.items.newItemKind,
    }),
    what,
  );
  return ensureListRecord<SyncedItem>({
    connection,
    find: () => readItem(connection, { fullName: add.fields.name }),
    add: (requestId) =>
      ({ type: `${add.kind}Add`, requestId, fields: add.fields }) as QbxmlRequest & { type: 'ItemServiceAdd' },
    what: `item ${add.fields.name}`,
    failureType: 'ItemAddFailed',
  });
}
