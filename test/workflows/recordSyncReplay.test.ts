import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { historyFixtureDataConverter } from '../support/historyFixtures';

/**
 * Histories of the sync workflows (record syncs, poll cycle, record batch) recorded on the code before a change
 * (test/support/recordHistories.ts) must replay on today's workflows: a workflow still running when a worker is
 * upgraded is replayed from its history, and a command sequence that moved would fail it with a nondeterminism error.
 */
const dir = join(__dirname, '..', 'fixtures', 'histories');
const recorded = readdirSync(dir).filter((f) => /^before-issue10-.*\.json$/.test(f));

describe('sync workflows replay histories recorded before the reshape', () => {
  it('has histories of every sync workflow type to replay', () => {
    const kinds = recorded.map((f) => f.replace(/^before-issue10-/, '').replace(/\.json$/, ''));
    for (const kind of ['d365-salesorder', 'd365-account', 'd365-product', 'qb-east-customer', 'pollCycle']) {
      assert.ok(kinds.includes(kind), `a ${kind} history is recorded`);
    }
  });

  for (const file of recorded) {
    it(file, async () => {
      const { workflowId, historyProtobufBase64 } = JSON.parse(readFileSync(join(dir, file), 'utf8')) as {
        workflowId: string;
        historyProtobufBase64: string;
      };
      const history = temporal.api.history.v1.History.decode(Buffer.from(historyProtobufBase64, 'base64'));
      assert.ok((history.events ?? []).length > 0);
      await Worker.runReplayHistory(
        {
          workflowsPath: require.resolve('../fixtures/workflows'),
          dataConverter: historyFixtureDataConverter,
          replayName: file,
        },
        history,
        workflowId,
      );
    });
  }
});
