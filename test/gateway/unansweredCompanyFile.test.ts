import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { metricsRegistry } from '../../src/observability/metrics';
import { startQuickBooksStack, type QuickBooksStack } from '../support/quickbooksStack';
import { startTestTemporal } from '../support/temporal';

/**
 * Issue 11 item 0: a company file that cannot make progress is loud. Here no worker serves the task queue, so the
 * company file's workflow answers no Update, as when every workflow task fails.
 */
describe('a company file that does not answer the gateway', () => {
  let env: TestWorkflowEnvironment;
  let stack: QuickBooksStack;
  before(async () => {
    env = await startTestTemporal();
    stack = await startQuickBooksStack(env, 'queue-nobody-serves', { callTimeoutMs: 2000 });
  });
  after(async () => {
    await stack?.gateway.close();
    await env?.teardown();
  });

  it('is named to the Web Connector through getLastError, not a SOAP Fault, and counted in the metrics', async () => {
    const report = await stack.connector('east').runSession();
    assert.match(
      report.lastError ?? '',
      /company file "east" \(workflow qbfile\/east\) did not answer within 2 s and is not making progress\. Run `qbsync check`/,
      JSON.stringify(report),
    );
    assert.ok(!report.calls.includes('receiveResponseXML'), JSON.stringify(report.calls));
    const metrics = await metricsRegistry.metrics();
    assert.match(metrics, /qbsync_company_file_consecutive_unanswered_calls\{connection="east"\} [1-9]/);
    assert.match(metrics, /qbsync_company_file_unanswered_calls_total\{connection="east",call="authenticate"\} 1/);
  });
});
