import {
  condition,
  continueAsNew,
  defineSignal,
  log,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { type DataverseChangeSummary } from './dataverseChangeSummary';
import { syncConnection, syncEntity, syncSourceId } from './searchAttributes';

export type { DataverseChangeSummary } from './dataverseChangeSummary';

/** One per webhook delivery (or poll hit) for the record; sent with signal-with-start so the run exists first. */
export const dataverseChangedSignal = defineSignal<[DataverseChangeSummary]>('dataverseChanged');

export interface DataverseRecordSyncInput {
  connection: string;
  entity: string;
  id: string;
  /** How long the record must stay quiet before the run finishes. Bursts of saves in Dynamics collapse into one run. */
  quietPeriodMs?: number;
  /** Changes counted by earlier runs of this chain (carried across continue-as-new). */
  changesSoFar?: number;
}

const defaultQuietPeriodMs = 30_000;

/**
 * Per-record workflow for a Dataverse row (ID from `dataverseRecordWorkflowId`). Until the real sync lands it records
 * what it was told: the record's search attributes, each change signal (visible in history), and how many arrived.
 */
export async function dataverseRecordSync(input: DataverseRecordSyncInput): Promise<{ changes: number }> {
  let pendingSignals = 0;
  let changes = input.changesSoFar ?? 0;

  setHandler(dataverseChangedSignal, (summary) => {
    pendingSignals += 1;
    changes += 1;
    log.info('Dataverse change received', {
      messageName: summary.messageName,
      needsRead: summary.needsRead,
      operationId: summary.operationId,
      changedAttributes: summary.changedAttributes.length,
    });
  });

  upsertSearchAttributes([
    { key: syncConnection, value: input.connection },
    { key: syncEntity, value: input.entity },
    { key: syncSourceId, value: input.id },
  ]);

  const quietPeriodMs = input.quietPeriodMs ?? defaultQuietPeriodMs;
  for (;;) {
    const heardMore = await condition(() => pendingSignals > 0, quietPeriodMs);
    if (!heardMore) break;
    pendingSignals = 0;
    // A record edited in a tight loop must not grow one history without bound.
    if (workflowInfo().continueAsNewSuggested) {
      await continueAsNew<typeof dataverseRecordSync>({ ...input, changesSoFar: changes });
    }
  }
  return { changes };
}
