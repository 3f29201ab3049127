import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import {
  ParentClosePolicy,
  condition,
  defineSignal,
  executeChild,
  getExternalWorkflowHandle,
  log,
  patched,
  setHandler,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import type { SyncSettings } from '../../config/syncSettings';
import type { ChoiceMaps } from '../../mapping/choices';
import type { CustomerRet, QbRecord, VendorRet } from '../../qbxml/requests';
import { quickBooksRecordWorkflowId, type QuickBooksEntity } from '../../mapping/entityRegistry';
import type { SyncedItem } from '../../mapping/itemProduct';
import { syncConnection, syncEntity, syncSourceId, syncSourceIds } from '../searchAttributes';
import { recordGroups } from '../../mapping/recordGroups';
import { quickbooksRecordGroup, type QuickBooksRecordGroupResult } from './quickbooksRecordGroup';
import { quickbooksRecordSync, type QuickBooksRecordSyncResult } from './quickbooksRecordSync';

export interface QuickBooksRecordBatchInput {
  connection: string;
  entity: QuickBooksEntity;
  records: QbRecord[];
  /** False for records to read afresh (a failed record run again): only their ListID is given. */
  withRecord: boolean;
  settings: SyncSettings;
  choices: ChoiceMaps;
  /** Record workflows running at once. */
  wave: number;
  /**
   * The poll cycle's workflow id, told by `recordBatchReportSignal` when the batch is done: the cycle does not await the
   * batch, and may have continued as new since it started it. Absent in batches a cycle awaits as its children.
   */
  reportTo?: string;
  /** Started held: the batch waits for `recordBatchReleaseSignal` before its first record (see `RecordBatchLine`). */
  held?: boolean;
}

/** What a batch tells its poll cycle when it is done. */
export interface RecordBatchReport {
  batchId: string;
  result?: QuickBooksRecordBatchResult;
  /** The batch failed as a whole (not one of its records: those fail alone, in `result`). */
  error?: string;
}

/** From the poll cycle to a batch it started held: its turn to run has come. */
export const recordBatchReleaseSignal = defineSignal('recordBatchRelease');
/** From a batch to the poll cycle that started it (to its workflow id: the run may have changed), once it is done. */
export const recordBatchReportSignal = defineSignal<[RecordBatchReport]>('recordBatchReport');

/**
 * A held batch runs without its release after this long: a cycle gone (terminated, reset) never releases it, and its
 * records are better synced late and out of order (a job whose parent is missing fails alone, and is retried) than never.
 */
const HELD_AT_MOST = '12 hours';

export interface QuickBooksRecordBatchResult {
  handedOff: Record<string, number>;
  outcomes: Record<string, number>;
  failed: string[];
}

/** One more of `key` in a tally of handed-off records or outcomes. */
export function count(map: Record<string, number>, key: string): void {
  map[key] = (map[key] ?? 0) + 1;
}

/**
 * A batch of QuickBooks records from one poll cycle, each into its own record workflow, a wave at a time. The batch
 * waits for its records (they only wait on Dataverse) so the cycle knows which failed; the cycle's own history grows
 * by a batch, not by a record.
 */
export async function quickbooksRecordBatch(input: QuickBooksRecordBatchInput): Promise<QuickBooksRecordBatchResult> {
  await awaitBatchTurn(input);
  let result: QuickBooksRecordBatchResult;
  try {
    result = await syncRecords(input);
  } catch (err) {
    await reportBatch(input, { error: err instanceof Error ? err.message : String(err) });
    throw err;
  }
  await reportBatch(input, { result });
  return result;
}

/** A batch started held waits for its cycle's release, at most `HELD_AT_MOST`. */
export async function awaitBatchTurn(input: Pick<QuickBooksRecordBatchInput, 'held'>): Promise<void> {
  if (!input.held) return;
  let released = false;
  setHandler(recordBatchReleaseSignal, () => {
    released = true;
  });
  if (!(await condition(() => released, HELD_AT_MOST))) {
    log.warn(`record batch not released by its poll cycle in ${HELD_AT_MOST}: running without it`);
  }
}

/** Tells the poll cycle the batch is done; a cycle gone since cannot be told, and the batch's records are synced anyway. */
export async function reportBatch(
  input: Pick<QuickBooksRecordBatchInput, 'reportTo'>,
  report: Omit<RecordBatchReport, 'batchId'>,
): Promise<void> {
  if (!input.reportTo) return;
  try {
    await getExternalWorkflowHandle(input.reportTo).signal(recordBatchReportSignal, {
      batchId: workflowInfo().workflowId,
      ...report,
    });
  } catch (err) {
    log.warn('record batch could not report to its poll cycle', {
      cycle: input.reportTo,
      error: err instanceof Error ? err.message : String(err),
    });
  }
}

/**
 * A batch of at least this many records is written in record groups when its settings do not say (runs whose settings
 * predate `recordGroupsFrom`).
 */
const RECORD_GROUPS_FROM = 100;

/**
 * Batches large enough write their records in groups (`quickbooksRecordGroup`), then run only the records a group
 * left in their own workflows. Batches recorded before ran every record in its own workflow.
 */
const RECORD_GROUPS_PATCH = 'record-batch-groups';

/**
 * Record groups of one batch running at once. A poll runs a few batches together (`batchesAtOnce`), so this bounds the
 * records a worker holds in flight to a few hundred. With all of a batch's groups at once (about 2,000 records in
 * flight at scale 1), the benchmark's company file took up to 17 s for a workflow task, past its timeout, while they
 * ran: 12 Web Connector sessions were cut and the customer list was read again from its start.
 */
const GROUPS_AT_ONCE = 2;

/** A QuickBooks version a record group can write (a deletion goes to its own run). */
type GroupableRecord = CustomerRet | VendorRet | SyncedItem;

function groupable(record: QbRecord): record is GroupableRecord {
  return record.kind !== 'ListDeleted';
}

/**
 * The batch's records in record groups, `GROUPS_AT_ONCE` at a time; answers the records left to their own runs. A group
 * that failed as a whole (its activity out of retries) leaves all its records to their own runs: a record run starts
 * again from the record and finds whatever the group wrote.
 */
async function syncGroups(
  input: QuickBooksRecordBatchInput,
  records: GroupableRecord[],
  result: QuickBooksRecordBatchResult,
): Promise<GroupableRecord[]> {
  const { connection, entity } = input;
  const groups = recordGroups(records);
  const runGroup = (group: GroupableRecord[], n: number): Promise<QuickBooksRecordGroupResult> =>
    executeChild(quickbooksRecordGroup, {
      workflowId: `${workflowInfo().workflowId}/group-${n + 1}`,
      args: [{ connection, entity, records: group, settings: input.settings, choices: input.choices }],
      typedSearchAttributes: [
        { key: syncConnection, value: connection },
        { key: syncEntity, value: entity },
        { key: syncSourceIds, value: group.map((r) => r.listId) },
      ],
    }).then(
      (answer) => answer,
      (err: unknown): QuickBooksRecordGroupResult => {
        const cause = (err as { cause?: unknown }).cause ?? err;
        log.warn('record group failed: its records go to their own runs', {
          group: n + 1,
          error: cause instanceof Error ? cause.message : String(cause),
        });
        return { synced: [], toRecordRuns: group.map((r) => ({ listId: r.listId, why: 'its group failed' })) };
      },
    );
  const answers: QuickBooksRecordGroupResult[] = [];
  for (let first = 0; first < groups.length; first += GROUPS_AT_ONCE) {
    const wave = groups.slice(first, first + GROUPS_AT_ONCE);
    answers.push(...(await Promise.all(wave.map((group, i) => runGroup(group, first + i)))));
  }
  const left = new Set<string>();
  for (const answer of answers) {
    for (const done of answer.synced) {
      count(result.handedOff, `qb:${entity}`);
      count(result.outcomes, `${entity}:${done.outcome}`);
    }
    for (const { listId } of answer.toRecordRuns) left.add(listId);
  }
  if (left.size > 0) log.info(`record groups left ${left.size} of ${records.length} records to their own runs`);
  return records.filter((r) => left.has(r.listId));
}

/**
 * Each record into its own workflow, a wave at a time, waiting for each wave's outcomes; a batch large enough writes
 * its records in groups first (`RECORD_GROUPS_PATCH`).
 */
async function syncRecords(input: QuickBooksRecordBatchInput): Promise<QuickBooksRecordBatchResult> {
  const { connection, entity } = input;
  const result: QuickBooksRecordBatchResult = { handedOff: {}, outcomes: {}, failed: [] };
  let records = input.records;
  const groupsFrom = input.settings.recordGroupsFrom ?? RECORD_GROUPS_FROM;
  if (input.withRecord && groupsFrom > 0 && records.length >= groupsFrom && patched(RECORD_GROUPS_PATCH)) {
    const left = await syncGroups(input, records.filter(groupable), result);
    records = [...records.filter((r) => !groupable(r)), ...left];
  }
  for (let i = 0; i < records.length; i += input.wave) {
    const started = [];
    for (const record of records.slice(i, i + input.wave)) {
      const listId = 'listId' in record ? record.listId : '';
      const workflowId = quickBooksRecordWorkflowId(connection, entity, listId);
      try {
        const handle = await startChild(quickbooksRecordSync, {
          workflowId,
          args: [
            {
              connection,
              entity,
              listId,
              ...(input.withRecord ? { record: record as CustomerRet | VendorRet } : {}),
              settings: input.settings,
              choices: input.choices,
            },
          ],
          parentClosePolicy: ParentClosePolicy.ABANDON,
          typedSearchAttributes: [
            { key: syncConnection, value: connection },
            { key: syncEntity, value: entity },
            { key: syncSourceId, value: listId },
          ],
        });
        count(result.handedOff, `qb:${entity}`);
        // Settled at once into a value: a child failing before its turn to be awaited is no unhandled rejection.
        started.push({
          workflowId,
          done: handle.result().then(
            (value): { ok: true; value: QuickBooksRecordSyncResult } => ({ ok: true, value }),
            (error: unknown): { ok: false; error: unknown } => ({ ok: false, error }),
          ),
        });
      } catch (err) {
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
        // A run for this record is still going (a replay, an earlier cycle); it reads the record itself if retried.
        count(result.handedOff, `qb:${entity}`);
      }
    }
    for (const { workflowId, done } of started) {
      const settled = await done;
      if (settled.ok) {
        count(result.outcomes, `${entity}:${settled.value.outcome}`);
      } else {
        count(result.outcomes, `${entity}:failed`);
        result.failed.push(workflowId);
        const cause = (settled.error as { cause?: unknown }).cause ?? settled.error;
        log.warn('record sync failed', { workflowId, error: cause instanceof Error ? cause.message : String(cause) });
      }
    }
  }
  return result;
}
