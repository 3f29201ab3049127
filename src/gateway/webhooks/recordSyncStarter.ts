import { type Client } from '@temporalio/client';
import { type DataverseChangeSummary } from '../../workflows/dataverseChangeSummary';
import { dataverseChangedSignal, dataverseRecordSync } from '../../workflows/dataverseRecordSync';
import { dataverseRecordWorkflowId } from '../../mapping/entityRegistry';
import { syncConnection, syncEntity, syncSourceId } from '../../workflows/searchAttributes';

export interface RecordSyncStarterOptions {
  /** Passed to the workflow; tests shorten it so runs finish. */
  quietPeriodMs?: number;
}

/**
 * `startRecordSync` backed by Temporal. Signal-with-start on the record's deterministic ID: the first delivery starts
 * the run, every later one (a retry, a second save, the poll finding the same row) only adds a signal to it.
 */
export function temporalRecordSyncStarter(
  client: Client,
  taskQueue: string,
  options: RecordSyncStarterOptions = {},
): (change: DataverseChangeSummary, connection: string) => Promise<{ workflowId: string }> {
  return async (change, connection) => {
    const workflowId = dataverseRecordWorkflowId(change.entity, change.id);
    const input = { connection, entity: change.entity, id: change.id.toLowerCase() };
    await client.workflow.signalWithStart(dataverseRecordSync, {
      workflowId,
      taskQueue,
      args: [options.quietPeriodMs === undefined ? input : { ...input, quietPeriodMs: options.quietPeriodMs }],
      signal: dataverseChangedSignal,
      signalArgs: [change],
      typedSearchAttributes: [
        { key: syncConnection, value: connection },
        { key: syncEntity, value: change.entity },
        { key: syncSourceId, value: input.id },
      ],
    });
    return { workflowId };
  };
}
