import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { getExternalWorkflowHandle, ParentClosePolicy, patched, startChild } from '@temporalio/workflow';
import { dataverseRecordWorkflowId, type DynamicsEntity } from '../mapping/entityRegistry';
import { dataverseChangedSignal, dataverseRecordSync, type DataverseChangeSummary } from './dataverseRecordSync';
import { syncConnection, syncEntity, syncSourceId } from './searchAttributes';
import { count } from './sync/quickbooksRecordBatch';

/** Where a poll cycle counts the Dynamics rows it handed off (its `PollCycleResult`). */
interface HandedOffRows {
  handedOff: Record<string, number>;
  /** Workflow ids of the Dynamics rows handed off (first 100). */
  dynamicsIds: string[];
}

/**
 * A change signal for the running run of a row. A run that ended between the start refused and this signal ends with
 * what it read, perhaps before the change: a new run is started then (it reads the row afresh).
 */
async function signalRunningRow(connection: string, entity: DynamicsEntity, id: string): Promise<void> {
  const workflowId = dataverseRecordWorkflowId(entity, id);
  const change: DataverseChangeSummary = {
    messageName: 'Update',
    entity,
    id,
    changedAttributes: [],
    needsRead: true,
    foundByPoll: true,
  };
  try {
    await getExternalWorkflowHandle(workflowId).signal(dataverseChangedSignal, change);
  } catch {
    try {
      await startRow(connection, entity, id);
    } catch (err) {
      // Started again meanwhile (a webhook): that run reads the row after the change.
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    }
  }
}

/** A Dynamics row the cycle hands off. */
interface DynamicsRow {
  entity: DynamicsEntity;
  id: string;
}

/**
 * Rows whose runs a cycle starts at once: their starts go out in one workflow task and come back in a few, about 2
 * events a row in the cycle's history where one start at a time took 5 or 6.
 */
const ROWS_AT_ONCE = 100;

/**
 * Starts (or finds running) the workflows of Dynamics rows, in their order; they run on across QBWC sessions after the
 * cycle ends. `together` (`poll-cycle-dynamics-rows-together`): `ROWS_AT_ONCE` rows at a time, each group started
 * before the next goes; cycles recorded before start one row after another. `ended` settles once the runs this call
 * started of the rows named in `awaited` have ended, however they ended; a run that was already going is not waited
 * for. (An object, not a promise: returned from an async function, a promise would be awaited with the call.)
 */
export async function handOffDynamicsRows(
  connection: string,
  rows: readonly DynamicsRow[],
  result: HandedOffRows,
  together: boolean,
  awaited: ReadonlySet<string> = new Set(),
): Promise<{ ended: Promise<void> }> {
  const ends: Promise<void>[] = [];
  const handOff = async ({ entity, id }: DynamicsRow): Promise<void> => {
    const started = await startOrTellRow(connection, entity, id);
    if (started && awaited.has(id)) ends.push(started.ended);
  };
  if (!together) {
    for (const row of rows) {
      await handOff(row);
      counted(result, row.entity, row.id);
    }
    return { ended: Promise.all(ends).then(() => undefined) };
  }
  for (let at = 0; at < rows.length; at += ROWS_AT_ONCE) {
    const group = rows.slice(at, at + ROWS_AT_ONCE);
    await Promise.all(group.map(handOff));
    // Counted in the rows' order, not as their starts came back: `dynamicsIds` names the first rows handed off.
    for (const { entity, id } of group) counted(result, entity, id);
  }
  return { ended: Promise.all(ends).then(() => undefined) };
}

/** A run this cycle started; `ended` settles when it ends, however it ends (an object: see `handOffDynamicsRows`). */
interface StartedRun {
  ended: Promise<void>;
}

/** Starts the run of one Dynamics row, or tells the run already going of the change (then null). */
async function startOrTellRow(connection: string, entity: DynamicsEntity, id: string): Promise<StartedRun | null> {
  try {
    return await startRow(connection, entity, id);
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    // The running run may have read the row before the change this poll found, and the cursor is about to move past
    // it: tell the run, which syncs again once it is done. Cycles recorded before this let the change go.
    if (patched('poll-cycle-dynamics-row-signal-running')) await signalRunningRow(connection, entity, id);
    return null;
  }
}

function counted(result: HandedOffRows, entity: DynamicsEntity, id: string): void {
  count(result.handedOff, `d365:${entity}`);
  if (result.dynamicsIds.length < 100) result.dynamicsIds.push(dataverseRecordWorkflowId(entity, id));
}

/**
 * The row's run, started by the poll: it reads the row at once (the poll has seen its final state). Its end is awaited
 * failed or not: a failure is the run's own to report (`qbsync failed`), not the cycle's.
 */
async function startRow(connection: string, entity: DynamicsEntity, id: string): Promise<StartedRun> {
  const run = await startChild(dataverseRecordSync, {
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
  return {
    ended: run.result().then(
      () => undefined,
      () => undefined,
    ),
  };
}
