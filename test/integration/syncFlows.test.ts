import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { ENTITY_SETS } from '../../src/dataverse/entities';
import { startSyncStack, type SyncStack } from '../support/syncStack';
import { startTestTemporal } from '../support/temporal';

describe('sync flows end to end (real Temporal, both sandboxes, Web Connector simulator)', () => {
  let env: TestWorkflowEnvironment;
  let stack: SyncStack;

  before(async () => {
    env = await startTestTemporal();
    stack = await startSyncStack(env);
  });
  after(async () => {
    await stack?.close();
    await env?.teardown();
  });

  it('initial sync: QuickBooks customers, vendors and items reach Dataverse; Dynamics orders become invoices', async () => {
    const east = await stack.cycle('east');
    console.log(JSON.stringify(east));
    const west = await stack.cycle('west');
    console.log(JSON.stringify(west));
    await stack.settle();
    const accounts = [];
    for await (const row of stack.dataverse.queryRows(ENTITY_SETS.account, {
      select: ['name', 'qbsync_companyfile', 'qbsync_qblistid', 'customertypecode'],
    })) {
      accounts.push(row);
    }
    console.log(accounts.length, JSON.stringify(accounts.slice(0, 3)));
    const failed = await stack.recordRuns("ExecutionStatus = 'Failed'");
    for (const f of failed) {
      const h = env.client.workflow.getHandle(f.workflowId, f.runId);
      try {
        await h.result();
      } catch (e) {
        console.log(f.workflowId, (e as Error).cause ? String((e as { cause: unknown }).cause) : String(e));
      }
    }
    assert.equal(failed.length, 0);
  });
});
