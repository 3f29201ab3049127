import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Client } from '@temporalio/client';
import { createSyncContextActivities } from '../../src/activities/syncContext';
import type { DataverseClient } from '../../src/dataverse/client';

/** A Temporal client that knows only failed runs under these ids. */
function clientWithFailed(ids: string[]): Client {
  return {
    workflow: {
      list: () =>
        (async function* () {
          for (const workflowId of ids) yield { workflowId };
        })(),
      getHandle: () => ({ describe: async () => ({ status: { name: 'FAILED' } }) }),
    },
  } as unknown as Client;
}

describe('records whose last run failed, for the poll cycle to run again', () => {
  it('are the record workflows of tables and lists the sync handles, nothing else', async () => {
    const { failedRecordWorkflows } = createSyncContextActivities({
      client: clientWithFailed([
        'qb/east/customer/8000-1',
        'd365/salesorder/9a1c5e2f-6b7d-4e8f-a0b1-c2d3e4f5a6b7',
        // A contact's run (once started by its webhook) would fail again at every cycle: contacts are not synced back.
        'd365/contact/6d81597f-0f9f-e711-8122-000d3aa2331c',
        'qb/east/invoice/1-2',
        'reconcile/east/1700000000000',
      ]),
      dataverse: {} as DataverseClient,
      settings: new Map(),
    });
    assert.deepEqual(await failedRecordWorkflows({ connection: 'east' }), [
      'qb/east/customer/8000-1',
      'd365/salesorder/9a1c5e2f-6b7d-4e8f-a0b1-c2d3e4f5a6b7',
    ]);
  });
});
