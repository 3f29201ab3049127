import { proxyActivities, type RetryPolicy } from '@temporalio/workflow';
import type { DataverseActivities } from '../../activities/dataverse';
import type { ReconcileActivities } from '../../activities/reconcile';
import type { SyncContextActivities } from '../../activities/syncContext';

/**
 * The one retry vocabulary of the sync: transient failures (timeouts, throttling that outlasted the client's own
 * waiting, a dropped connection) are retried here, by Temporal, and nowhere else. Activities turn failures a retry
 * cannot fix into non-retryable ones; the few bounded loops that re-read news instead are in `mapping/rereadLimits.ts`.
 */

/** Dataverse writes: the client already sits out throttling, so a failure here is worth only a few more tries. */
const DATAVERSE_WRITES: RetryPolicy = {
  initialInterval: '2 seconds',
  backoffCoefficient: 2,
  maximumInterval: '1 minute',
  maximumAttempts: 8,
};

/** Reads (configuration, options, pages of rows): cheap and side-effect free, so retried more and sooner. */
const READS: RetryPolicy = { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 10 };

/** Pages of a whole table for reconcile: a slow page may take minutes, so a wider ceiling between tries. */
const PAGED_READS: RetryPolicy = { initialInterval: '1 second', maximumInterval: '1 minute', maximumAttempts: 10 };

/**
 * Dataverse activities heartbeat through their client while a request waits or runs (`activityAttempt.ts`), so a
 * worker that died mid-request is noticed after a minute instead of at the start-to-close timeout.
 */
const DATAVERSE_HEARTBEAT = '1 minute';

export const dataverse = proxyActivities<DataverseActivities>({
  startToCloseTimeout: '5 minutes',
  heartbeatTimeout: DATAVERSE_HEARTBEAT,
  retry: DATAVERSE_WRITES,
});

export const syncContext = proxyActivities<SyncContextActivities>({ startToCloseTimeout: '1 minute', retry: READS });

export const reconcileReads = proxyActivities<ReconcileActivities>({
  startToCloseTimeout: '5 minutes',
  retry: PAGED_READS,
});
