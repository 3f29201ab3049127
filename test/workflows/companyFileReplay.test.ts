import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { createActivities } from '../../src/activities';
import { connectorDataConverter } from '../../src/codec/dataConverter';
import { parsePayloadKeysEnv } from '../../src/codec/keyRing';
import type { QbxmlRequest } from '../../src/qbxml/requests';
import { companyFileStatusQuery, companyFileWorkflowId } from '../../src/workflows/companyFile/messages';
import { qbxmlProbe } from '../fixtures/workflows';
import { EVIDENCE_PAYLOAD_KEYS, historiesDir } from '../support/historyFixtures';
import { customerAddXml, driveSessions, startQuickBooksStack, type QuickBooksStack } from '../support/quickbooksStack';
import { startTestTemporal } from '../support/temporal';

const taskQueue = 'company-file-replay-test';

/**
 * The companyFile workflow must produce the same commands whether a worker processes a task with the workflow in its
 * cache or rebuilds it from history. With no cache at all, every task is processed the way a freshly restarted worker
 * processes it — and then the next task replays it. A history that breaks that (events 318–321 of the bricked
 * qbfile/east: Update accepted, timer started, Update completed) fails a workflow task here at once.
 */
describe('companyFile is replay-safe: sessions cut at many points, worker cache disabled', () => {
  let env: TestWorkflowEnvironment;
  let worker: Worker;
  let running: Promise<void>;
  let stack: QuickBooksStack;

  before(async () => {
    env = await startTestTemporal();
    worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowsPath: require.resolve('../fixtures/workflows'),
      activities: createActivities({ client: env.client, taskQueue, queueLimits: { sessionIdleTimeoutMs: 5000 } }),
      maxCachedWorkflows: 0,
    });
    running = worker.run();
    // Generous: without a cache every task rebuilds the workflow from its history, which is slow on a loaded machine.
    stack = await startQuickBooksStack(env, taskQueue, { callTimeoutMs: 30_000 });
    stack.files.east!.processRequest(customerAddXml(['Replay Customer A', 'Replay Customer B']));
  });
  after(async () => {
    await stack?.gateway.close();
    worker?.shutdown();
    await running;
    await env?.teardown();
  });

  it('runs reads and writes through sessions cut after 0, 1, 2 round trips, expired and closed, then replays', async () => {
    const connector = stack.connector('east');
    const read = (n: number): QbxmlRequest[] => [
      { type: 'CustomerQuery', requestId: `r${n}`, fullNames: ['Replay Customer A'] },
      { type: 'CustomerQuery', requestId: `s${n}`, maxReturned: 1 },
    ];
    const write = (n: number): QbxmlRequest[] => [
      { type: 'CustomerAdd', requestId: `w${n}`, fields: { name: `Replay Added ${n}` } },
    ];
    const companyFile = () => env.client.workflow.getHandle(companyFileWorkflowId('east'));
    let expectQueued = 0;
    const queuedAtLeast = async (more: number): Promise<void> => {
      expectQueued += more;
      for (let i = 0; i < 100; i++) {
        const status = await companyFile()
          .query(companyFileStatusQuery)
          .catch(() => undefined);
        if (status && status.queued >= expectQueued) return;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`the company file never held ${expectQueued} queued requests`);
    };
    const outcomes: string[] = [];
    const faults: string[] = [];
    let n = 0;
    // Each step: requesters enqueue (a signal while no session is open: a task with no commands), then the Web
    // Connector runs — to the end, or cut at a given round trip (QBWC killed: no closeConnection, the session expires).
    for (const cut of [undefined, 0, 1, undefined, 2, 1, undefined]) {
      n += 1;
      // One requester at a time, each enqueue in a workflow task of its own: two tasks in a row with no command,
      // then the Web Connector's Update — the sequence the bricked history had.
      const probes = [];
      for (const [i, requests] of [read(n), write(n)].entries()) {
        probes.push(
          await env.client.workflow.start(qbxmlProbe, {
            workflowId: `replay-probe-${n}-${i}-${Date.now()}`,
            taskQueue,
            args: ['east', requests],
          }),
        );
        await queuedAtLeast(requests.length);
      }
      const done = Promise.all(probes.map((p) => p.result()));
      let settled = false;
      void done.finally(() => (settled = true)).catch(() => undefined);
      for (let session = 0; session < 20 && !settled; session++) {
        const report = await connector.runSession(
          session === 0 && cut !== undefined ? { abortAfterRoundTrips: cut } : {},
        );
        if (report.outcome === 'error') {
          faults.push(`step ${n}: ${report.lastError ?? report.calls.join(',')}`);
          break;
        }
        // A cut session holds the company file until it goes silent for the idle timeout.
        if (report.outcome === 'aborted') await new Promise((r) => setTimeout(r, 5500));
        if (!settled) await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(settled, `step ${n}: the requesters got their answers (QBWC faults: ${faults.join('; ') || 'none'})`);
      for (const result of await done) outcomes.push(...result.map((o) => o.kind));
      expectQueued = 0;
    }
    assert.deepEqual(faults, [], 'no QBWC call answered with a SOAP Fault');
    assert.ok(outcomes.length > 0);

    const history = await companyFile().fetchHistory();
    const failedTasks = (history.events ?? []).filter(
      (e) => e.workflowTaskFailedEventAttributes || e.workflowTaskTimedOutEventAttributes,
    );
    assert.deepEqual(
      failedTasks.map((e) => e.workflowTaskFailedEventAttributes?.failure?.message ?? 'timed out'),
      [],
      'no workflow task of the company file failed',
    );
    await Worker.runReplayHistory(
      { workflowsPath: require.resolve('../../src/workflows') },
      history,
      companyFileWorkflowId('east'),
    );
  });

  it('replays a company file that the Web Connector started (authenticate: update-with-start)', async () => {
    // No requester has started qbfile/west: the Web Connector's first authenticate starts it with its openSession
    // Update, so the run's first workflow task holds the start and the Update together.
    const connector = stack.connector('west');
    const first = await connector.runSession();
    assert.notEqual(first.outcome, 'error', `the first session ran (${first.lastError ?? first.calls.join(',')})`);
    const probe = await env.client.workflow.start(qbxmlProbe, {
      workflowId: `replay-probe-west-${Date.now()}`,
      taskQueue,
      args: ['west', [{ type: 'CustomerQuery', requestId: 'w1', maxReturned: 1 }] satisfies QbxmlRequest[]],
    });
    const outcomes = await driveSessions(connector, probe.result());
    assert.equal(outcomes.length, 1);

    const history = await env.client.workflow.getHandle(companyFileWorkflowId('west')).fetchHistory();
    const failedTasks = (history.events ?? []).filter(
      (e) => e.workflowTaskFailedEventAttributes || e.workflowTaskTimedOutEventAttributes,
    );
    assert.deepEqual(
      failedTasks.map((e) => e.workflowTaskFailedEventAttributes?.failure?.message ?? 'timed out'),
      [],
      'no workflow task of the company file failed',
    );
    await Worker.runReplayHistory(
      { workflowsPath: require.resolve('../../src/workflows') },
      history,
      companyFileWorkflowId('west'),
    );
  });
});

/**
 * The history of the bricked qbfile/east (shared/evidence): a worker restarted at event 317 handed the Update of that
 * task to the old code together with the signal of the task before, which had produced no command; every replay
 * hands them over one task at a time. The old code's commands depended on that grouping (events 319–321: Update
 * accepted, timer started, Update completed, where a replay gives accepted, completed, timer).
 */
describe('the bricked qbfile/east history', () => {
  const evidence = JSON.parse(readFileSync(join(historiesDir, 'bricked', 'qbfile-east-c84e5ff.json'), 'utf8')) as {
    events: { eventId: string }[];
  };
  const converter = connectorDataConverter(parsePayloadKeysEnv(EVIDENCE_PAYLOAD_KEYS));

  it('replays under today’s code up to the task the restarted worker grouped differently', async () => {
    const before = historyFromJSON({ events: evidence.events.filter((e) => Number(e.eventId) <= 315) });
    await Worker.runReplayHistory(
      { workflowsPath: require.resolve('../../src/workflows'), dataConverter: converter },
      before,
      'qbfile/east',
    );
  });

  it('cannot replay past event 318 under any code: the same jobs recorded two command orders', async () => {
    // Events 16–21 hold the same jobs (a signal's empty task, then an openSession Update) in the other order, recorded
    // by a worker that had the workflow cached. No workflow code can tell the two apart; see docs/versioning.md for
    // how such a run is recovered.
    await assert.rejects(
      Worker.runReplayHistory(
        { workflowsPath: require.resolve('../../src/workflows'), dataConverter: converter },
        historyFromJSON(evidence),
        'qbfile/east',
      ),
      /TMPRL1100.*HistoryEvent\(id: 320, TimerStarted\)/,
    );
  });
});
