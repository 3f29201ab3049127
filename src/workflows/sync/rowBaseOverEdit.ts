import { ApplicationFailure, patched } from '@temporalio/workflow';
import { holdsSentMod, planWriteBackOverEdit } from '../../mapping/dynamicsToQuickBooks';
import { ETAG_REREADS } from '../../mapping/rereadLimits';
import type { AccountForQuickBooks, ProductForQuickBooks } from '../../activities/dataversePairedRows';
import {
  accountSyncFields,
  productSyncFields,
  type QuickBooksForm,
  type QuickBooksVersion,
  type SyncFields,
} from '../../mapping/syncBase';
import { dataverse } from './activities';

/** A paired row as a run reads it again to write its base: the row (its modifiedon, for a save kept) and its ETag. */
export interface PairedRowReader<Row> {
  entity: 'account' | 'product';
  read(): Promise<{ row: Row & { modifiedon?: string }; etag: string } | null>;
  /** The row's synced fields. */
  rowFields(row: Row): SyncFields;
}

/** An account as the runs that write its base read it, again for each write (its ETag). */
export function pairedAccountRow(accountId: string): PairedRowReader<AccountForQuickBooks['account']> {
  return {
    entity: 'account',
    read: async () => {
      const read = await dataverse.readAccountForQuickBooks({ accountId });
      return read ? { row: read.account, etag: read.etag } : null;
    },
    rowFields: (row) => accountSyncFields(row),
  };
}

/** A product as the runs that write its base read it, again for each write. */
export function pairedProductRow(productId: string): PairedRowReader<ProductForQuickBooks['product']> {
  return {
    entity: 'product',
    read: async () => {
      const read = await dataverse.readProductForQuickBooks({ productId });
      return read ? { row: read.product, etag: read.etag } : null;
    },
    rowFields: (row) => productSyncFields(row),
  };
}

/**
 * QuickBooks holds `base`, the row changed since `readFields` were read: the sync base and the columns the person left
 * alone are written on the row as it is now (each refusal re-reads it), so that no later merge, in this run or in any
 * other, takes the connector's own QuickBooks write for a newer QuickBooks edit.
 */
export async function writeBackOverEdit<Row>(
  reader: PairedRowReader<Row>,
  rowId: string,
  readFields: SyncFields,
  changes: Record<string, unknown>,
  base: SyncFields,
  quickbooksForm: QuickBooksForm,
  quickbooksVersion: QuickBooksVersion,
): Promise<void> {
  for (let reread = 1; ; reread++) {
    const now = await reader.read();
    if (!now) return;
    const plan = planWriteBackOverEdit({
      read: readFields,
      current: reader.rowFields(now.row),
      currentModifiedOn: now.row.modifiedon ?? null,
      changes,
      base,
    });
    try {
      await dataverse.writeBackToRow({
        entity: reader.entity,
        rowId,
        etag: now.etag,
        changes: plan.changes,
        base: plan.base,
        quickbooksVersion,
        ...(plan.dynamicsEdits ? { dynamicsEdits: plan.dynamicsEdits } : {}),
        ...(Object.keys(quickbooksForm).length > 0 ? { quickbooksForm } : {}),
      });
      return;
    } catch (err) {
      if (!isStaleRow(err) || reread >= ETAG_REREADS) throw err;
    }
  }
}

/** A write-back refused because the row changed since it was read (its ETag is stale). */
export function isStaleRow(err: unknown): boolean {
  const cause = (err as { cause?: unknown }).cause;
  return cause instanceof ApplicationFailure && cause.type === 'StaleEtag';
}

/**
 * Whether the version a run read after its Mod went out holds that Mod (`sent`, null when none went out) beside a
 * person's edit: mapping's `holdsSentMod`, given the Mod the merge computes over that version. Runs recorded before
 * groups were looked into compared whole groups, so an edit inside the Mod's group (an item's description beside the
 * Mod's price, another line of the Mod's address) merged again against the old base, and the Mod's value went over a
 * Dynamics save made meanwhile.
 */
export function runHoldsSentMod(sent: object | null, stillToSet: object | null): boolean {
  if (sent === null || !holdsSentMod(sent, stillToSet)) return false;
  return holdsSentMod(sent, stillToSet, { withinGroups: false }) || patched('lost-mod-held-within-groups');
}
