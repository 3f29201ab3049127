import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { createActivities } from '../../src/activities';
import { companyFileStatusQuery, companyFileWorkflowId } from '../../src/workflows/companyFile/messages';
import { qbxmlProbe } from '../fixtures/workflows';
import { startQuickBooksStack, type QuickBooksStack } from '../support/quickbooksStack';
import { startTestTemporal } from '../support/temporal';

const taskQueue = 'bounded-wait-test';
/** The configured wait (`batching.quickbooksWaitHours` in production), short for the test. */
const WAIT_MS = 3000;

describe('a wait for QuickBooks is bounded (real Temporal, gateway, Web Connector simulator)', () => {
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
      activities: createActivities({ client: env.client, taskQueue, quickbooksWaitMs: WAIT_MS }),
    });
    running = worker.run();
    stack = await startQuickBooksStack(env, taskQueue);
  });
  after(async () => {
    await stack?.gateway.close();
    worker?.shutdown();
    await running;
    await env?.teardown();
  });

  const probe = (connection: string, name: string) =>
    env.client.workflow.start(qbxmlProbe, {
      workflowId: `bounded-${name}`,
      taskQueue,
      args: [connection, [{ type: 'CustomerQuery', requestId: 'q', maxReturned: 1 }]],
    });
  /** The requester's failure; on code that waits for ever, a test failure after a minute instead of a hang. */
  async function failureOf(handle: WorkflowHandle): Promise<{ type?: string; message: string }> {
    const outcome = await Promise.race([
      handle.result().then(
        () => 'completed',
        (error: unknown) => error,
      ),
      new Promise((resolve) => setTimeout(() => resolve('still waiting after 60 s'), 60_000)),
    ]);
    assert.ok(outcome instanceof WorkflowFailedError, String(outcome));
    const cause = outcome.cause as { type?: string; message: string } | undefined;
    return { type: cause?.type, message: cause?.message ?? '' };
  }

  it('fails a requester whose Web Connector never came, saying so', async () => {
    const failure = await failureOf(await probe('east', 'never'));
    assert.equal(failure.type, 'QuickBooksWaitExceeded');
    assert.match(
      failure.message,
      /QuickBooks has not answered in 3 s: the Web Connector of east has not connected since the company file started/,
    );
  });

  it('names when the Web Connector last connected', async () => {
    const report = await stack.connector('west').runSession();
    assert.equal(report.outcome, 'noWork');
    const { lastConnectedAt } = await env.client.workflow
      .getHandle(companyFileWorkflowId('west'))
      .query(companyFileStatusQuery);
    assert.ok(lastConnectedAt);
    const failure = await failureOf(await probe('west', 'since'));
    assert.equal(failure.type, 'QuickBooksWaitExceeded');
    assert.ok(failure.message.endsWith(`has not connected since ${lastConnectedAt}`), failure.message);
  });

  it('tells a requester its company file’s run changed (terminated, then started anew) and lost its request', async () => {
    const first = await probe('east', 'lost');
    const companyFile = env.client.workflow.getHandle(companyFileWorkflowId('east'));
    for (let i = 0; i < 100 && (await companyFile.query(companyFileStatusQuery)).queued < 2; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await companyFile.terminate('an operator ended the run');
    // Another requester starts the company file again; the new run never heard of the first one's batch.
    const second = await probe('east', 'after-terminate');
    const failure = await failureOf(first);
    assert.equal(failure.type, 'CompanyFileRunChanged');
    assert.match(failure.message, /qbfile\/east was terminated or reset since, and its new run never received/);
    assert.equal((await failureOf(second)).type, 'QuickBooksWaitExceeded');
  });
  it('a requester learns its company file’s run changed at its next check, long before its wait ends', async () => {
    // Requesters of a worker that waits 10 minutes and checks the company file's run every half second.
    const checkingQueue = 'bounded-wait-checks';
    const checking = await Worker.create({
      connection: env.nativeConnection,
      taskQueue: checkingQueue,
      workflowsPath: require.resolve('../fixtures/workflows'),
      activities: createActivities({
        client: env.client,
        taskQueue: checkingQueue,
        quickbooksWaitMs: 600_000,
        quickbooksRunCheckMs: 500,
      }),
    });
    const checkingRun = checking.run();
    try {
      const requester = (name: string) =>
        env.client.workflow.start(qbxmlProbe, {
          workflowId: `bounded-checks-${name}`,
          taskQueue: checkingQueue,
          args: ['west', [{ type: 'CustomerQuery', requestId: 'q', maxReturned: 1 }]],
        });
      const first = await requester('lost');
      const companyFile = env.client.workflow.getHandle(companyFileWorkflowId('west'));
      // The company file may not be started yet when the first query goes out.
      const queued = () =>
        companyFile.query(companyFileStatusQuery).then(
          (s) => s.queued,
          () => 0,
        );
      for (let i = 0; i < 100 && (await queued()) < 1; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      // Checks while the run knows the request keep the requester waiting.
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      const { status } = await first.describe();
      assert.equal(status.name, 'RUNNING', 'a check failed a requester whose company file still knows its request');
      await companyFile.terminate('an operator ended the run');
      const second = await requester('after-terminate');
      const failure = await failureOf(first); // within 60 s; the wait itself is 10 minutes
      assert.equal(failure.type, 'CompanyFileRunChanged');
      assert.match(failure.message, /qbfile\/west (was terminated or reset since|is not running)/);
      await second.terminate('test over');
    } finally {
      checking.shutdown();
      await checkingRun;
    }
  });
});
