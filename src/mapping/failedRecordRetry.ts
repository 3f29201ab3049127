/**
 * Which records whose latest run failed the poll cycle runs again, and when. A failure a retry may cure (an outage
 * that outlasted the activities' own retries, a lost QuickBooks answer) is retried with a backoff that grows with the
 * record's consecutive failed runs, up to a cap well inside the namespace's retention, so the record stays in
 * Temporal's visibility until it succeeds. A failure a person must fix (bad data, a rejected Add) is not retried: the
 * fix itself (an edit in Dynamics or QuickBooks) makes the poll hand the record off again, and `qbsync replay` runs it
 * after a fix made elsewhere. Records are taken in the order they fell due, so a cycle's limit delays the latest
 * ones by a cycle and never starves the older ones.
 */

/** One record whose latest run failed, as the visibility store and the run's close event describe it. */
export interface FailedRecordRun {
  workflowId: string;
  /** When its latest run failed (ISO 8601). */
  failedAt: string;
  /** Its failed runs since its last completed one, the latest included: 1 after a first failure. */
  attempts: number;
  /** The failure's type, as the workflow or the activity named it. */
  failureType?: string;
  /** The failure's own `nonRetryable` flag. */
  nonRetryable?: boolean;
}

export interface RetryBackoff {
  /** Wait after the first failure before the record is due again. */
  firstMs: number;
  /** Longest wait between two runs; it must stay well below the namespace's retention (30 days). */
  capMs: number;
}

const MINUTE = 60_000;

/** 15 min, 30 min, 1 h, 2 h, 4 h, 8 h, then every 12 h: a short outage costs one cycle, a long one 2 runs a day. */
const RETRY_BACKOFF: RetryBackoff = { firstMs: 15 * MINUTE, capMs: 12 * 60 * MINUTE };

/** Records run again per cycle at most: each is a workflow the cycle starts. */
const RETRIES_PER_CYCLE = 200;

/**
 * Failure types a retry may cure whatever their flag says: the record was locked or edited meanwhile, Dataverse
 * throttled or was still indexing a key, the activity timed out, the Web Connector stayed away longer than a
 * requester waits or the company file's run changed under it (once QuickBooks answers again, the record goes
 * through). Runs that failed before record syncs kept the flag of their cause (every failure was non-retryable then)
 * are recognised by these.
 */
const TRANSIENT_TYPES: ReadonlySet<string> = new Set([
  'ActivityFailure',
  'CompanyFileRunChanged',
  'DataverseAuthError',
  'DataverseConcurrencyError',
  'DataverseKeyNotActiveError',
  'DataverseThrottledError',
  'QbxmlOutcomeUnknown',
  'QuickBooksWaitExceeded',
  'StaleEditSequenceError',
  'StaleEtag',
]);

/** True when only a person can make the record's next run succeed: retrying it unchanged would fail the same way. */
export function needsFix(run: Pick<FailedRecordRun, 'failureType' | 'nonRetryable'>): boolean {
  if (run.failureType !== undefined && TRANSIENT_TYPES.has(run.failureType)) return false;
  return run.nonRetryable !== false;
}

/** The wait after a record's `attempts`-th consecutive failure before it is run again. */
export function retryDelayMs(attempts: number, backoff: RetryBackoff = RETRY_BACKOFF): number {
  const doublings = Math.max(0, Math.floor(attempts) - 1);
  // 2^doublings overflows to Infinity for absurd counts; the cap holds either way.
  return Math.min(backoff.firstMs * 2 ** Math.min(doublings, 40), backoff.capMs);
}

/** When a failed record is due to run again, or null when it waits for a fix. */
function retryDueAt(run: FailedRecordRun, backoff: RetryBackoff = RETRY_BACKOFF): Date | null {
  if (needsFix(run)) return null;
  return new Date(Date.parse(run.failedAt) + retryDelayMs(run.attempts, backoff));
}

export interface FailedRecordPlan {
  /** Workflow ids to run again this cycle, the longest overdue first. */
  retry: string[];
  /** Due, but over this cycle's limit: first in line next cycle. */
  deferred: number;
  /** Backing off: due at a later cycle. */
  waiting: number;
  /** Waiting for a person to fix their cause (or replay them). */
  needsFix: number;
}

export function planFailedRecordRetry(
  runs: readonly FailedRecordRun[],
  options: { now: Date; limit?: number; backoff?: RetryBackoff },
): FailedRecordPlan {
  const limit = options.limit ?? RETRIES_PER_CYCLE;
  const due: { workflowId: string; at: number }[] = [];
  let waiting = 0;
  let fix = 0;
  for (const run of runs) {
    const at = retryDueAt(run, options.backoff);
    if (at === null) fix += 1;
    else if (at.getTime() <= options.now.getTime()) due.push({ workflowId: run.workflowId, at: at.getTime() });
    else waiting += 1;
  }
  due.sort((a, b) => a.at - b.at || (a.workflowId < b.workflowId ? -1 : a.workflowId > b.workflowId ? 1 : 0));
  return {
    retry: due.slice(0, limit).map((d) => d.workflowId),
    deferred: Math.max(0, due.length - limit),
    waiting,
    needsFix: fix,
  };
}
