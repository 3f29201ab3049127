import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { CustomerRet } from '../../src/qbxml/requests';
import { parseQbxmlResponse } from '../../src/qbxml/parse';
import { CompanyFileSimulator } from '../../src/sandbox/quickbooks/companyFile';
import type { WebConnectorRunReport } from '../../src/sandbox/webConnector/webConnectorSimulator';
import { quickbooksListRead } from '../fixtures/workflows';
import { companyFileProcessor, customerAddXml, driveSessions, useQuickBooksStack } from '../support/quickbooksStack';

const taskQueue = 'iterator-restart-test';
let seq = 0;
const id = (prefix: string) => `${prefix}-${++seq}-${Date.now()}`;
const names = Array.from({ length: 120 }, (_, i) => `Paged Customer ${String(i).padStart(3, '0')}`);

function seeded(file: CompanyFileSimulator): CompanyFileSimulator {
  const rs = parseQbxmlResponse(file.processRequest(customerAddXml(names)));
  assert.ok(rs.every((r) => r.statusCode === 0));
  return file;
}

/** Every customer once: a restarted read must neither lose nor repeat a record. */
function assertWholeList(records: unknown[]): void {
  const listed = (records as CustomerRet[]).map((r) => r.name).sort();
  assert.deepEqual(listed, [...names].sort());
}

describe('a read whose QuickBooks iterator is gone restarts from where it stood (issue 11 item 8)', () => {
  const suite = useQuickBooksStack(taskQueue, { callTimeoutMs: 4000 });

  it('finishes the read in the next session after the session holding its iterator died', async () => {
    const file = seeded(new CompanyFileSimulator({ name: 'east' }));
    const processor = companyFileProcessor(file);
    const read = await suite.env.client.workflow.start(quickbooksListRead, {
      workflowId: id('read-across-sessions'),
      taskQueue,
      args: [{ connection: 'east', list: 'Customer', pageSize: 25 }],
    });
    await new Promise((r) => setTimeout(r, 1000));
    // QBWC dies after the first page: QuickBooks closes the session and forgets the iterator.
    const aborted = await suite.stack.connector('east', processor).runSession({ abortAfterRoundTrips: 1 });
    assert.equal(aborted.outcome, 'aborted');
    assert.equal(aborted.roundTrips, 1);
    const reports: WebConnectorRunReport[] = [];
    const result = await driveSessions(suite.stack.connector('east', processor), read.result(), reports);
    assertWholeList(result.records);
  });

  it('restarts an iterator that idled out between two pages of one session', async () => {
    let nowMs = Date.parse('2024-03-01T17:00:00Z');
    const file = seeded(new CompanyFileSimulator({ name: 'east', now: () => new Date(nowMs), iteratorIdleMs: 1000 }));
    let requests = 0;
    const slowOnce = companyFileProcessor(file);
    const processor = Object.assign(
      async (xml: string) => {
        requests += 1;
        // QuickBooks was busy for 5 s before the second page was asked for: the iterator has expired.
        if (requests === 2) nowMs += 5000;
        return slowOnce(xml);
      },
      { endSession: slowOnce.endSession },
    );
    const read = await suite.env.client.workflow.start(quickbooksListRead, {
      workflowId: id('read-idle'),
      taskQueue,
      args: [{ connection: 'east', list: 'Customer', pageSize: 25 }],
    });
    const result = await driveSessions(suite.stack.connector('east', processor), read.result());
    assertWholeList(result.records);
    assert.ok(requests >= 7, `the read started over after the 3391 (${requests} messages)`);
  });
});
