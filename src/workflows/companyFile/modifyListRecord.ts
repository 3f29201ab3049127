import { ApplicationFailure, patched, sleep } from '@temporalio/workflow';
import type { QbRecord, QbxmlRequest } from '../../qbxml/requests';
import { responseOrFail } from './qbxmlFailure';
import { runQbxml, type QbxmlOutcome } from './runQbxml';

const STALE_EDIT_SEQUENCE = 3200;
const MOD_OUTCOME_UNKNOWN_PATCH = 'qbxml-mod-outcome-unknown-reread';
/** Someone holds the record or its list in QuickBooks (open in a window, being edited): the same Mod works later. */
const RECORD_IN_USE: ReadonlySet<number> = new Set([3170, 3175, 3176, 3180]);

export interface RecordInUseWaits {
  /** First pause before the Mod is sent again; doubles each time up to `maxWaitMs`. */
  firstWaitMs: number;
  maxWaitMs: number;
  /** Waits before the record's run fails with the lock error (retryable, so a later run tries again). */
  maxWaits: number;
}

const defaultRecordInUseWaits: RecordInUseWaits = { firstWaitMs: 30_000, maxWaitMs: 15 * 60_000, maxWaits: 20 };

export interface ModifyListRecordInput<R extends QbRecord> {
  connection: string;
  /** The query that reads the record's current version (by ListID / TxnID). */
  read: (requestId: string) => QbxmlRequest;
  /** The Mod for `current` (carrying its EditSequence), or null when nothing differs: diff before write. */
  write: (requestId: string, current: R) => QbxmlRequest | null;
  /** A version already in hand; it may be stale, in which case QuickBooks answers 3200 and we re-read. */
  current?: R;
  maxAttempts?: number;
  recordInUse?: Partial<RecordInUseWaits>;
}

export interface ModifyListRecordResult<R extends QbRecord> {
  record: R;
  changed: boolean;
  attempts: number;
}

/**
 * QuickBooks' optimistic concurrency: every Mod carries the EditSequence it was computed from; a stale one (3200)
 * means someone changed the record since, so re-read, recompute the change and send it again.
 */
export async function modifyListRecord<R extends QbRecord>(
  input: ModifyListRecordInput<R>,
): Promise<ModifyListRecordResult<R>> {
  const maxAttempts = input.maxAttempts ?? 3;
  const waits = { ...defaultRecordInUseWaits, ...input.recordInUse };
  let current = input.current;
  /** A Mod went out whose outcome is unknown: an empty diff afterwards most likely means it was applied. */
  let sentUnknown = false;
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    if (!current) {
      const [outcome] = await runQbxml(input.connection, (batchId) => [input.read(`${batchId}-r`)]);
      const response = responseOrFail(outcome, 'reading the record to modify');
      const found = response.records[0] as R | undefined;
      if (!found) throw ApplicationFailure.nonRetryable('the record to modify no longer exists', 'ObjectNotFoundError');
      current = found;
    }
    const base = current;
    let mod: QbxmlRequest | null = null;
    const send = () =>
      runQbxml(input.connection, (batchId) => {
        mod = input.write(`${batchId}-w`, base);
        return mod ? [mod] : [];
      });
    let [outcome] = await send();
    if (!mod) return { record: base, changed: sentUnknown, attempts: attempt };
    for (let wait = 1; wait <= waits.maxWaits && isRecordInUse(outcome); wait++) {
      if (!patched('qbxml-record-in-use-wait')) break;
      // A person has the record open; it stays locked until they close it, so wait durably, then send again.
      await sleep(Math.min(waits.maxWaitMs, waits.firstWaitMs * 2 ** (wait - 1)));
      [outcome] = await send();
    }
    if (outcome?.kind === 'response' && outcome.response.statusCode === STALE_EDIT_SEQUENCE) {
      current = undefined;
      continue;
    }
    // The session died with the Mod handed out. Reading the record again tells: if the Mod was applied, its
    // EditSequence moved and the diff is now empty; if not, the same Mod goes out with the EditSequence read, which
    // QuickBooks refuses (3200) should anyone have changed the record in between. Runs recorded before failed here.
    if (outcome?.kind === 'outcomeUnknown' && attempt < maxAttempts && patched(MOD_OUTCOME_UNKNOWN_PATCH)) {
      sentUnknown = true;
      current = undefined;
      continue;
    }
    const response = responseOrFail(outcome, 'modifying the record');
    return { record: (response.records[0] as R | undefined) ?? base, changed: true, attempts: attempt };
  }
  throw ApplicationFailure.retryable(
    `the record kept changing in QuickBooks (EditSequence stale ${maxAttempts} times)`,
    'StaleEditSequenceError',
  );
}

function isRecordInUse(outcome: QbxmlOutcome | undefined): boolean {
  return outcome?.kind === 'response' && RECORD_IN_USE.has(outcome.response.statusCode);
}
