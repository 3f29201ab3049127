import { proxyActivities } from '@temporalio/workflow';
import type { DataverseActivities } from '../../activities/dataverse';
import type { SyncContextActivities } from '../../activities/syncContext';

/** Dataverse calls: the client already sits out throttling, so a failure here is worth only a few more tries. */
export const dataverse = proxyActivities<DataverseActivities>({
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 8 },
});

export const syncContext = proxyActivities<SyncContextActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 10 },
});
