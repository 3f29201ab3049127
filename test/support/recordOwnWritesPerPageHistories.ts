/**
 * Records the histories of a streamed poll cycle whose later page holds a connector Mod made after the cycle took its
 * own writes, and of the company file that answered it (the scenario of laterPageOwnWrite.ts), on a real dev server.
 * Recorded on the code before `poll-cycle-own-writes-per-page`, they replay after it (recordSyncReplay.test.ts).
 *
 *   TEMPORAL_CLI=… node --import tsx test/support/recordOwnWritesPerPageHistories.ts [label]
 */
import { randomUUID } from 'node:crypto';
import { companyFileWorkflowId } from '../../src/workflows/companyFile/messages';
import { writeHistoryFixture } from './historyFixtures';
import { pollAcrossConnectorMod, startLaterPageStack } from './laterPageOwnWrite';
import { startTestTemporal } from './temporal';

async function main(): Promise<void> {
  const label = process.argv[2] ?? 'recorded';
  const env = await startTestTemporal();
  const stack = await startLaterPageStack(env, `record-own-writes-per-page-${randomUUID()}`);
  try {
    const cycle = await pollAcrossConnectorMod(stack);
    for (const [name, workflowId, runId] of [
      ['pollCycle-later-page-own-write', 'poll/east', cycle.pollRunId],
      ['qbfile-east-later-page-own-write', companyFileWorkflowId('east'), cycle.companyFileRunId],
    ] as const) {
      const history = await env.client.workflow.getHandle(workflowId, runId).fetchHistory();
      const file = await writeHistoryFixture(`${label}-${name}`, workflowId, history);
      console.log(`${workflowId} ${runId} (${history.events?.length ?? 0} events) → ${file}`);
    }
    console.log(`handed off: ${stack.handedOff.join(', ')}`);
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
