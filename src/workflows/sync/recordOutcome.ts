import { ActivityFailure, ApplicationFailure, upsertSearchAttributes } from '@temporalio/workflow';
import type { MappingError, MappingResult } from '../../mapping/result';
import { syncConnection, syncOutcome, syncTargetId } from '../searchAttributes';

export type RecordOutcome =
  | 'created'
  | 'updated'
  | 'unchanged'
  | 'conflict'
  /** A sales order edited after its invoice was made from it: the invoice does not show the edit. */
  | 'changedAfterInvoice'
  /** The QuickBooks record was deleted: its row deactivated and marked (never deleted). */
  | 'deleted'
  | 'failed';

/** The audit columns of a record's run: what the Temporal UI and `temporal workflow list --query` filter on. */
export function markRecord(fields: { connection?: string; targetId?: string; outcome?: RecordOutcome }): void {
  const updates = [];
  if (fields.connection) updates.push({ key: syncConnection, value: fields.connection });
  if (fields.targetId) updates.push({ key: syncTargetId, value: fields.targetId });
  if (fields.outcome) updates.push({ key: syncOutcome, value: fields.outcome });
  if (updates.length > 0) upsertSearchAttributes(updates);
}

/** Every broken rule of a mapping in one line: "field: message; field: message". */
export function mappingReasons(errors: readonly MappingError[]): string {
  return errors.map((e) => `${e.field}: ${e.message}`).join('; ');
}

/** A record that cannot be mapped: every broken rule in one message, so one look tells the operator what to fix. */
function mappingFailure(what: string, errors: readonly MappingError[]): ApplicationFailure {
  return ApplicationFailure.nonRetryable(`${what} cannot be synced: ${mappingReasons(errors)}`, 'MappingError', errors);
}

/** The mapped value, or the record's failure naming every broken rule. */
export function mappedOrFail<T>(result: MappingResult<T>, what: string): T {
  if (!result.ok) throw mappingFailure(what, result.errors);
  return result.value;
}

/**
 * Runs a record's sync and ends it as a plain-worded failure when anything goes wrong, with outcome `failed` set first
 * so the audit query finds it. Non-Temporal errors would otherwise fail the workflow task and retry forever.
 *
 * The failure's `nonRetryable` flag says whether a later run may succeed unchanged (the poll cycle's failed-record
 * retry reads it, `mapping/failedRecordRetry.ts`): an activity that ran out of retries on an outage or a timeout
 * leaves a retryable failure, bad data and a refused write a non-retryable one. Record workflows have no retry policy
 * of their own, so either way the run ends failed.
 */
export async function asRecordSync<T>(body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (err) {
    markRecord({ outcome: 'failed' });
    if (err instanceof ApplicationFailure) throw err;
    if (err instanceof ActivityFailure) {
      if (err.cause instanceof ApplicationFailure) {
        throw ApplicationFailure.create({
          message: err.cause.message,
          type: err.cause.type ?? 'ActivityFailed',
          nonRetryable: err.cause.nonRetryable === true,
        });
      }
      // A timeout or a cancellation: the activity never said the record itself is at fault.
      throw ApplicationFailure.retryable(err.cause?.message ?? err.message, 'ActivityFailure');
    }
    const message = err instanceof Error ? err.message : String(err);
    throw ApplicationFailure.nonRetryable(message, err instanceof Error ? err.name : 'Error');
  }
}
