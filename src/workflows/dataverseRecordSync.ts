import {
  ApplicationFailure,
  condition,
  continueAsNew,
  defineSignal,
  log,
  patched,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { SyncContext } from '../activities/syncContext';
import { type DataverseChangeSummary } from './dataverseChangeSummary';
import { syncEntity, syncSourceId } from './searchAttributes';
import { syncContext } from './sync/activities';
import { accountToQuickBooks, productToQuickBooks, type DynamicsSyncResult } from './sync/dynamicsRowToQuickBooks';
import { salesOrderToQuickBooks } from './sync/salesOrderToInvoice';
import { wonOpportunityToQuickBooks } from './sync/wonOpportunityToEstimate';
import { asRecordSync } from './sync/recordOutcome';

export type { DataverseChangeSummary } from './dataverseChangeSummary';

/** One per webhook delivery (or poll hit) for the record; sent with signal-with-start so the run exists first. */
export const dataverseChangedSignal = defineSignal<[DataverseChangeSummary]>('dataverseChanged');

export interface DataverseRecordSyncInput {
  /** The connection that noticed the change (webhook route or poll); the row's own company file decides the target. */
  connection: string;
  entity: string;
  id: string;
  /**
   * How long the record must stay quiet before it is synced. Bursts of saves in Dynamics (an order and its lines)
   * collapse into one sync of the final state. A poll passes 0: it has already seen the final state.
   */
  quietPeriodMs?: number;
  /** Changes counted by earlier runs of this chain (carried across continue-as-new). */
  changesSoFar?: number;
  /** Runs of this chain that ended because the row kept changing while it was synced (see below). */
  restartsForChangingRow?: number;
}

export interface DataverseRecordSyncResult extends DynamicsSyncResult {
  changes: number;
}

const defaultQuietPeriodMs = 30_000;

/** Fresh runs a row that keeps changing under its sync gets before its run fails (then the failed-record retry). */
const MAX_RESTARTS_FOR_CHANGING_ROW = 3;

function isRowKeptChanging(err: unknown): boolean {
  return err instanceof ApplicationFailure && err.type === 'StaleEtag';
}

/**
 * Per-record workflow for a Dataverse row (`d365/<entity>/<id>`): waits out the quiet period, then syncs the row's
 * current state to QuickBooks. Its history is the row's audit trail: each change signal, the row as read, the
 * QuickBooks requests and their answers, and what was written back.
 */
export async function dataverseRecordSync(input: DataverseRecordSyncInput): Promise<DataverseRecordSyncResult> {
  let pendingSignals = 0;
  let changes = input.changesSoFar ?? 0;
  let syncing = false;

  setHandler(dataverseChangedSignal, (summary) => {
    changes += 1;
    // A poll repeats its notice every cycle until the row is synced; during the quiet period the row is read later
    // anyway, and counting it there would keep the quiet period from ever ending.
    if (syncing || !summary.foundByPoll) pendingSignals += 1;
    log.info('Dataverse change received', {
      messageName: summary.messageName,
      needsRead: summary.needsRead,
      foundByPoll: summary.foundByPoll === true,
      operationId: summary.operationId,
      changedAttributes: summary.changedAttributes.length,
    });
  });

  // Both starters (the webhook's signal-with-start, the poll's child start) give the run its entity and row id as
  // search attributes at start, free in Temporal Cloud, and continue-as-new keeps them: upserting them again cost an
  // action a run (issue 15). Runs recorded before upserted them here.
  if (!patched('dataverse-record-sync-attributes-at-start')) {
    upsertSearchAttributes([
      { key: syncEntity, value: input.entity },
      { key: syncSourceId, value: input.id },
    ]);
  }

  const quietPeriodMs = input.quietPeriodMs ?? defaultQuietPeriodMs;
  if (quietPeriodMs > 0) {
    for (;;) {
      const heardMore = await condition(() => pendingSignals > 0, quietPeriodMs);
      if (!heardMore) break;
      pendingSignals = 0;
      // A record edited in a tight loop must not grow one history without bound.
      if (workflowInfo().continueAsNewSuggested) {
        await continueAsNew<typeof dataverseRecordSync>({ ...input, changesSoFar: changes });
      }
    }
  }

  // From here on a change signal announces an edit the sync below may have read before it was made.
  syncing = true;
  pendingSignals = 0;

  const contexts = new Map<string, Promise<SyncContext>>();
  const contextFor = (connection: string): Promise<SyncContext> => {
    const name = connection === '' ? input.connection : connection;
    let found = contexts.get(name);
    if (!found) {
      found = syncContext.loadSyncContext({ connection: name });
      contexts.set(name, found);
    }
    return found;
  };

  const syncRow = () =>
    asRecordSync(async () => {
      switch (input.entity) {
        case 'account':
          return accountToQuickBooks(input.id, contextFor);
        case 'product':
          return productToQuickBooks(input.id, contextFor);
        case 'salesorder':
          return salesOrderToQuickBooks(input.id, contextFor);
        case 'opportunity':
          // Runs recorded before opportunities were synced failed here as an unsupported table.
          if (patched('won-opportunity-to-estimate')) return wonOpportunityToQuickBooks(input.id, contextFor);
          throw ApplicationFailure.nonRetryable(`Dataverse table ${input.entity} is not synced`, 'UnsupportedEntity');
        default:
          throw ApplicationFailure.nonRetryable(`Dataverse table ${input.entity} is not synced`, 'UnsupportedEntity');
      }
    });
  let result: DynamicsSyncResult;
  try {
    result = await syncRow();
  } catch (err) {
    // Someone saved the row before each of this run's write-backs (its ETag went stale every time). The row is not at
    // fault, and failing it would leave the saves to the failed-record retry, 15 minutes or more later, while the
    // signals of those saves landed on this run and end with it. Wait for the row to be quiet, then sync it afresh;
    // a row some process rewrites for ever still fails, after a few such runs. Runs recorded before failed here.
    const restarts = input.restartsForChangingRow ?? 0;
    if (
      isRowKeptChanging(err) &&
      restarts < MAX_RESTARTS_FOR_CHANGING_ROW &&
      patched('dataverse-record-sync-restarts-changing-row')
    ) {
      log.info('the row kept changing while it was synced; syncing it again once it is quiet', { restarts });
      await continueAsNew<typeof dataverseRecordSync>({
        ...input,
        changesSoFar: changes,
        quietPeriodMs: Math.max(input.quietPeriodMs ?? defaultQuietPeriodMs, defaultQuietPeriodMs),
        restartsForChangingRow: restarts + 1,
      });
    }
    throw err;
  }
  // A change announced while the row was being synced (a second save seconds after the first, a webhook delivered
  // late, the poll finding the row) may be newer than what was read, and its signal started no run of its own: it
  // landed on this one. Sync again in a fresh run rather than end on the older value. Runs recorded before ended here.
  if (pendingSignals > 0 && patched('dataverse-record-sync-changes-during-sync')) {
    log.info('Dataverse changes arrived during the sync; syncing the row again', { changesDuringSync: pendingSignals });
    await continueAsNew<typeof dataverseRecordSync>({ ...input, changesSoFar: changes });
  }
  return { ...result, changes };
}
