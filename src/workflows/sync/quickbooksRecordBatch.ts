import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { ParentClosePolicy, log, startChild } from '@temporalio/workflow';
import type { SyncSettings } from '../../config/syncSettings';
import type { ChoiceMaps } from '../../mapping/choices';
import type { CustomerRet, QbRecord, VendorRet } from '../../qbxml/requests';
import { quickBooksRecordWorkflowId, type QuickBooksEntity } from '../../mapping/entityRegistry';
import { syncConnection, syncEntity, syncSourceId } from '../searchAttributes';
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
}

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
  const { connection, entity } = input;
  const result: QuickBooksRecordBatchResult = { handedOff: {}, outcomes: {}, failed: [] };
  for (let i = 0; i < input.records.length; i += input.wave) {
    const started = [];
    for (const record of input.records.slice(i, i + input.wave)) {
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
