import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { historyFixtureDataConverter } from '../support/historyFixtures';

/**
 * Histories of every workflow type (company file, record syncs, poll cycle, record batch, reconcile) recorded on the
 * code before a change (test/support/recordHistories.ts) must replay on today's workflows: a workflow still running
 * when a worker is upgraded is replayed from its history, and a command sequence that moved would fail it with a
 * nondeterminism error (docs/versioning.md).
 */
const dir = join(__dirname, '..', 'fixtures', 'histories');
const recorded = readdirSync(dir).filter((f) => f.endsWith('.json'));

describe('workflows replay the histories recorded before each change', () => {
  it('has histories of every workflow type to replay', () => {
    const kinds = recorded.map((f) => f.replace(/^before-[a-z0-9]+-/, '').replace(/\.json$/, ''));
    for (const kind of [
      'd365-salesorder',
      'd365-account',
      'd365-product',
      'qb-east-customer',
      'pollCycle',
      'quickbooksRecordBatch',
      'qbfile-east',
      'reconcile-east',
    ]) {
      assert.ok(kinds.includes(kind), `a ${kind} history is recorded`);
    }
  });

  it('replays each of them with today’s workflow code', async () => {
    const histories = recorded.map((file) => {
      const { workflowId, historyProtobufBase64 } = JSON.parse(readFileSync(join(dir, file), 'utf8')) as {
        workflowId: string;
        historyProtobufBase64: string;
      };
      const history = temporal.api.history.v1.History.decode(Buffer.from(historyProtobufBase64, 'base64'));
      assert.ok((history.events ?? []).length > 0, `${file} holds events`);
      return { file, workflowId, history };
    });
    // One replay worker, one workflow bundle, for all of them.
    const failures: string[] = [];
    let replayed = 0;
    for await (const result of Worker.runReplayHistories(
      { workflowsPath: require.resolve('../fixtures/workflows'), dataConverter: historyFixtureDataConverter },
      histories.map(({ workflowId, history }) => ({ workflowId, history })),
    )) {
      const file = histories[replayed++]!.file;
      if (result.error) failures.push(`${file} (${result.workflowId}): ${result.error.message}`);
    }
    assert.equal(replayed, histories.length);
    assert.deepEqual(failures, []);
  });
});
