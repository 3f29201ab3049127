/**
 * Records the histories of one initial sync of the east office and a reconcile (every record workflow type, the poll
 * cycle and its batch child, the company file and the reconcile) into test/fixtures/histories, for the replay test
 * that proves workflow changes keep running workflows replayable. Run it on the code whose histories must stay
 * replayable, before changing a workflow; name kinds to record only those:
 *
 *   TEMPORAL_CLI=… node --import tsx test/support/recordHistories.ts [label [kind…]]   (kinds: qbfile-east, pollCycle, …)
 *
 * Paths an initial sync does not take (a poll cycle continued as new mid-read, sales-order mode, a superseded
 * QuickBooks version) are recorded by recordPathHistories.ts.
 */
import { writeHistoryFixture } from './historyFixtures';
import { startSyncStack } from './syncStack';
import { startTestTemporal } from './temporal';

async function main(): Promise<void> {
  const label = process.argv[2] ?? 'recorded';
  const only = new Set(process.argv.slice(3));
  const env = await startTestTemporal();
  const stack = await startSyncStack(env);
  try {
    await stack.cycle('east');
    await stack.settle();
    await stack.reconcile('east');
    const wanted = new Map<string, string>();
    for await (const run of env.client.workflow.list()) {
      const kind = run.workflowId.startsWith('poll/')
        ? run.workflowId.includes('/', 'poll/'.length)
          ? 'quickbooksRecordBatch'
          : 'pollCycle'
        : run.workflowId
            .split('/')
            .slice(0, run.workflowId.startsWith('qb/') ? 3 : 2)
            .join('-');
      // The company file runs for ever; every other workflow is recorded once it completed.
      if (!kind.startsWith('qbfile') && run.status.name !== 'COMPLETED') continue;
      if (!wanted.has(kind)) wanted.set(kind, run.workflowId);
    }
    for (const [kind, workflowId] of wanted) {
      if (only.size > 0 && !only.has(kind)) continue;
      const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
      const file = await writeHistoryFixture(`${label}-${kind}`, workflowId, history);
      console.log(`${workflowId} → ${file}`);
    }
  } finally {
    await stack.close();
    await env.teardown();
  }
}

void main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
