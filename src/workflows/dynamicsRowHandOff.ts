import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { ParentClosePolicy, patched, startChild } from '@temporalio/workflow';
import { dataverseRecordWorkflowId, type DynamicsEntity } from '../mapping/entityRegistry';
import { dataverseRecordSync } from './dataverseRecordSync';
import { syncConnection, syncEntity, syncSourceId } from './searchAttributes';
import { count } from './sync/quickbooksRecordBatch';

/** Where a poll cycle counts the Dynamics rows it handed off (its `PollCycleResult`). */
interface HandedOffRows {
  handedOff: Record<string, number>;
  /** Workflow ids of the Dynamics rows handed off (first 100). */
  dynamicsIds: string[];
}

/** Starts (or finds running) the workflow of one Dynamics row; it runs on across QBWC sessions after the cycle ends. */
export async function handOffDynamics(
  connection: string,
  entity: DynamicsEntity,
  id: string,
  result: HandedOffRows,
): Promise<void> {
  try {
    await startChild(dataverseRecordSync, {
      workflowId: dataverseRecordWorkflowId(entity, id),
      args: [{ connection, entity, id, quietPeriodMs: 0 }],
      parentClosePolicy: ParentClosePolicy.ABANDON,
      // The run carries this connection from its start: a row that fails before its own company file is known (a
      // Dataverse outage, an order with no customer) is still found by this connection's failed-record retry and by
      // `qbsync failed -c`. The run replaces it with the row's company file once it knows it.
      typedSearchAttributes: patched('poll-cycle-dynamics-row-connection')
        ? [
            { key: syncConnection, value: connection },
            { key: syncEntity, value: entity },
            { key: syncSourceId, value: id },
          ]
        : [
            { key: syncEntity, value: entity },
            { key: syncSourceId, value: id },
          ],
    });
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
  count(result.handedOff, `d365:${entity}`);
  if (result.dynamicsIds.length < 100) result.dynamicsIds.push(dataverseRecordWorkflowId(entity, id));
}
