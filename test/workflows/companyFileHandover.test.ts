import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  companyFileStatusQuery,
  companyFileWorkflowId,
  enqueueQbxmlSignal,
  type QbxmlBatch,
} from '../../src/workflows/companyFile/messages';
import { companyFile } from '../../src/workflows/companyFile/workflow';
import { defaultQueueLimits } from '../../src/workflows/companyFile/companyFileState';
import { useQuickBooksStack } from '../support/quickbooksStack';

const taskQueue = 'company-file-handover-test';
/** 21 batches of 100 Adds, each with a 4,000-character note (QuickBooks takes 4,095): about 8.6 MB queued. */
const BATCHES = 21;
const PER_BATCH = 100;
const NOTE = 'Imported from the regional office ledger. '.repeat(100).slice(0, 4000);

describe('the company file hands over within Temporal’s payload limit (real Temporal, gateway, Web Connector simulator)', () => {
  const suite = useQuickBooksStack(taskQueue, { callTimeoutMs: 30_000 });

  it('a burst queued past the 8 MB handover: the run serves on until its queue fits, and QuickBooks gets every Add once', async () => {
    const batch = (b: number): QbxmlBatch => ({
      // The requester need not exist: its results are then dropped; what QuickBooks holds is what this test reads.
      requester: 'burst-requester',
      batchId: `burst-${b}`,
      requests: Array.from({ length: PER_BATCH }, (_, i) => ({
        type: 'CustomerAdd' as const,
        requestId: `add-${b}-${i}`,
        fields: { name: `Burst ${b}-${i}`, notes: NOTE },
      })),
    });
    for (let b = 0; b < BATCHES; b++) {
      await suite.env.client.workflow.signalWithStart(companyFile, {
        workflowId: companyFileWorkflowId('east'),
        taskQueue,
        args: [{ connection: 'east' }],
        signal: enqueueQbxmlSignal,
        signalArgs: [batch(b)],
      });
    }
    const handle = suite.env.client.workflow.getHandle(companyFileWorkflowId('east'));
    // The history passed 8 MB with every request still queued: the handover is due, and the queue alone is over 2 MB.
    const first = await handle.describe();
    // Waiting, it says so: submitQbxmlBatch holds every new batch back until the next run.
    let waiting: boolean | undefined;
    for (let i = 0; i < 20 && waiting !== true; i++) {
      waiting = await handle.query(companyFileStatusQuery).then(
        (s) => s.handingOver,
        () => undefined,
      );
      if (waiting !== true) await new Promise((r) => setTimeout(r, 500));
    }
    assert.equal(waiting, true, 'the run reports that it waits to hand over');

    const connector = suite.stack.connector('east');
    const file = suite.stack.files.east!;
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline && file.count('Customer') < BATCHES * PER_BATCH) {
      await connector.runSession();
      await new Promise((r) => setTimeout(r, 200));
    }
    // Nothing lost: every Add reached QuickBooks (a second one of a name would be refused, not added).
    assert.equal(file.count('Customer'), BATCHES * PER_BATCH);

    // The first run handed over once its queue fitted, and the run after it serves with an input within the limit.
    const firstRun = suite.env.client.workflow.getHandle(companyFileWorkflowId('east'), first.runId);
    assert.equal((await firstRun.describe()).status.name, 'CONTINUED_AS_NEW');
    const current = await handle.describe();
    assert.equal(current.status.name, 'RUNNING');
    assert.notEqual(current.runId, first.runId);
    // Its first event only: the history after it holds the round trips' answers, megabytes of them.
    const page = await suite.env.client.workflowService.getWorkflowExecutionHistory({
      namespace: 'default',
      execution: { workflowId: companyFileWorkflowId('east'), runId: current.runId },
      maximumPageSize: 1,
    });
    const started = page.history?.events?.[0]?.workflowExecutionStartedEventAttributes;
    const inputBytes = started?.input?.payloads?.reduce((n, p) => n + (p.data?.length ?? 0), 0) ?? 0;
    assert.ok(inputBytes > 0, 'the run after the handover started from its input');
    assert.ok(
      inputBytes <= defaultQueueLimits.handoverMaxBytes + 1024,
      `handed over ${inputBytes} bytes, more than ${defaultQueueLimits.handoverMaxBytes} and the codec's envelope`,
    );
    const after = await handle.query(companyFileStatusQuery);
    assert.deepEqual({ queued: after.queued, inFlight: after.inFlight }, { queued: 0, inFlight: 0 });
  });
});
