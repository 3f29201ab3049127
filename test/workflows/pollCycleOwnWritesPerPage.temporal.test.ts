import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { patchIdsOf } from '../support/historyFixtures';
import { pollAcrossConnectorMod, startLaterPageStack, type LaterPageStack } from '../support/laterPageOwnWrite';
import { startTestTemporal } from '../support/temporal';

/**
 * Issue 11, "nothing lost, nothing doubled": the poll cycle skips the versions of the connector's own writes (echoes).
 * It took those writes once, at its first page; a connector Mod answered later in the same cycle, and read back by a
 * later page, went to a record run as a person's edit (a needless run at best, a lost Dynamics save at worst). The
 * company file now hands each page the own writes of its records, known from the answers of that same message on.
 */

let env: TestWorkflowEnvironment;
let stack: LaterPageStack;

before(async () => {
  env = await startTestTemporal();
  stack = await startLaterPageStack(env, `poll-own-writes-per-page-${randomUUID()}`);
});

after(async () => {
  await stack?.close();
  await env?.teardown();
});

describe('a later page of a poll cycle holding a connector Mod made after the cycle took its own writes (real dev server)', () => {
  it('skips that version as an echo and forgets it, while the other customers are handed off', async () => {
    const cycle = await pollAcrossConnectorMod(stack);
    const [cedar, alder, birch] = cycle.customers as [(typeof cycle.customers)[0], ...typeof cycle.customers];

    // The scenario took place: QuickBooks applied the Mod before the poll's read of that customer.
    const modAt = cycle.messages.indexOf('mod');
    assert.ok(modAt >= 0, `the Mod went to QuickBooks: ${cycle.messages.join(', ')}`);
    assert.ok(
      cycle.messages.indexOf('third customer read', modAt) > modAt,
      `a later page read the customer after the Mod: ${cycle.messages.join(', ')}`,
    );
    assert.notEqual(cycle.modded.editSequence, birch!.editSequence);

    assert.deepEqual(
      stack.handedOff,
      [cedar!.listId, alder!.listId],
      "the connector's own Mod went as a person's edit",
    );
    assert.equal(cycle.result.handedOff['qb:customer'], 2);
    // Read by this cycle, the Mod's version is forgotten: the memory of own writes does not grow with such pages.
    assert.equal(cycle.ownWritesAfter[birch!.listId], undefined);

    // The cycle's history replays, as a worker restarted mid-cycle would replay it.
    const history = await env.client.workflow.getHandle('poll/east', cycle.pollRunId).fetchHistory();
    assert.ok(patchIdsOf(history).includes('poll-cycle-own-writes-per-page'), 'the cycle took the patched branch');
    await Worker.runReplayHistory(
      { workflowsPath: require.resolve('../fixtures/streamedPollWorkflows') },
      history,
      'poll/east',
    );
  });
});
