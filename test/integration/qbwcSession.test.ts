import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { WorkflowFailedError } from '@temporalio/client';
import type { CustomerRet } from '../../src/qbxml/requests';
import { parseQbxmlResponse } from '../../src/qbxml/parse';
import type { WebConnectorRunReport } from '../../src/sandbox/webConnector/webConnectorSimulator';
import {
  addCustomerOnce,
  qbxmlMustSucceed,
  qbxmlProbe,
  quickbooksListRead,
  renameCustomer,
} from '../fixtures/workflows';
import { companyFile } from '../../src/workflows/companyFile/workflow';
import { companyFileWorkflowId, enqueueQbxmlSignal } from '../../src/workflows/companyFile/messages';
import { startTestTemporal } from '../support/temporal';
import {
  customerAddXml,
  driveSessions,
  startFixtureWorker,
  startQuickBooksStack,
  type QuickBooksStack,
} from '../support/quickbooksStack';

const taskQueue = 'qbwc-session-test';
let seq = 0;
const id = (prefix: string) => `${prefix}-${++seq}-${Date.now()}`;

describe('QBWC sessions through the companyFile workflow (real Temporal, gateway, Web Connector simulator)', () => {
  let env: TestWorkflowEnvironment;
  let worker: Worker;
  let running: Promise<void>;
  let stack: QuickBooksStack;

  before(async () => {
    env = await startTestTemporal();
    worker = await startFixtureWorker(env, taskQueue);
    running = worker.run();
    stack = await startQuickBooksStack(env, taskQueue, { callTimeoutMs: 4000 });
    const east = Array.from({ length: 250 }, (_, i) => `East Customer ${String(i).padStart(3, '0')}`);
    const west = Array.from({ length: 40 }, (_, i) => `West Customer ${String(i).padStart(3, '0')}`);
    for (const [file, names] of [
      ['east', east],
      ['west', west],
    ] as const) {
      const rs = parseQbxmlResponse(stack.files[file]!.processRequest(customerAddXml(names)));
      assert.ok(rs.every((r) => r.statusCode === 0));
    }
  });
  after(async () => {
    await stack.gateway.close();
    worker.shutdown();
    await running;
    await env.teardown();
  });

  it('fetches every customer over several iterator pages and hands them parsed to the waiting workflow', async () => {
    const handle = await env.client.workflow.start(quickbooksListRead, {
      workflowId: id('read-east'),
      taskQueue,
      args: [{ connection: 'east', list: 'Customer', pageSize: 80 }],
    });
    const reports: WebConnectorRunReport[] = [];
    const result = await driveSessions(stack.connector('east'), handle.result(), reports);
    assert.equal(result.records.length, 250);
    assert.ok(result.pages >= 3, `pages: ${result.pages}`);
    assert.equal(new Set(result.records.map((r) => (r as CustomerRet).listId)).size, 250);
    assert.ok(reports.some((r) => r.outcome === 'completed' && r.roundTrips >= 3));
  });

  it('keeps two connections’ sessions apart when they run at the same time', async () => {
    const eastRead = await env.client.workflow.start(quickbooksListRead, {
      workflowId: id('read-east'),
      taskQueue,
      args: [{ connection: 'east', list: 'Customer', pageSize: 100 }],
    });
    const westRead = await env.client.workflow.start(quickbooksListRead, {
      workflowId: id('read-west'),
      taskQueue,
      args: [{ connection: 'west', list: 'Customer', pageSize: 100 }],
    });
    const [east, west] = await Promise.all([
      driveSessions(stack.connector('east'), eastRead.result()),
      driveSessions(stack.connector('west'), westRead.result()),
    ]);
    assert.equal(east.records.length, 250);
    assert.equal(west.records.length, 40);
    assert.ok(east.records.every((r) => (r as CustomerRet).name.startsWith('East ')));
    assert.ok(west.records.every((r) => (r as CustomerRet).name.startsWith('West ')));
  });

  it('loses no queued request and applies no write twice when the session dies mid-way (QBWC or gateway gone)', async () => {
    const name = `Crash Test ${Date.now()}`;
    const add = await env.client.workflow.start(addCustomerOnce, {
      workflowId: id('add'),
      taskQueue,
      args: ['east', name],
    });
    const read = await env.client.workflow.start(quickbooksListRead, {
      workflowId: id('read-during-crash'),
      taskQueue,
      args: [{ connection: 'east', list: 'Customer', pageSize: 100 }],
    });
    await new Promise((r) => setTimeout(r, 1500));
    // The session stops abruptly after QuickBooks processed one message: no closeConnection, responses lost.
    const aborted = await stack.connector('east').runSession({ abortAfterRoundTrips: 1 });
    assert.equal(aborted.outcome, 'aborted');
    const [added, readResult] = await driveSessions(
      stack.connector('east'),
      Promise.all([add.result(), read.result()]),
    );
    assert.ok(readResult.records.length >= 250, 'every query answered after the crash');
    const [check] = await qbxmlCount(name);
    assert.equal(check, 1, `exactly one "${name}" (attempts ${added.attempts}, unknown ${added.unknown})`);
  });

  it('survives the worker stopping mid-session: the next run answers every query', async () => {
    const read = await env.client.workflow.start(quickbooksListRead, {
      workflowId: id('read-worker-crash'),
      taskQueue,
      args: [{ connection: 'west', list: 'Customer', pageSize: 10 }],
    });
    await new Promise((r) => setTimeout(r, 1000));
    let calls = 0;
    const westFile = stack.files.west!;
    // The worker stops while QuickBooks works on the first message; the gateway's calls then time out.
    const crashing = stack.connector('west', async (xml) => {
      calls += 1;
      if (calls === 1) {
        worker.shutdown();
        await running;
      }
      return westFile.processRequest(xml);
    });
    const report = await crashing.runSession();
    assert.notEqual(report.outcome, 'completed');
    worker = await startFixtureWorker(env, taskQueue);
    running = worker.run();
    const result = await driveSessions(stack.connector('west'), read.result());
    assert.equal(result.records.length, 40);
  });

  it('re-reads and retries a Mod refused for a stale EditSequence (3200)', async () => {
    const probe = await env.client.workflow.start(qbxmlProbe, {
      workflowId: id('probe'),
      taskQueue,
      args: ['east', [{ type: 'CustomerQuery', requestId: 'x', fullNames: ['East Customer 007'] }]],
    });
    const [outcome] = await driveSessions(stack.connector('east'), probe.result());
    assert.equal(outcome?.kind, 'response');
    const stale = (outcome!.kind === 'response' ? outcome.response.records[0] : undefined) as CustomerRet;
    // Someone edits the customer in QuickBooks meanwhile.
    const edited = parseQbxmlResponse(
      stack.files.east!.processRequest(
        `<?xml version="1.0"?><?qbxml version="13.0"?><QBXML><QBXMLMsgsRq onError="stopOnError"><CustomerModRq requestID="m"><CustomerMod><ListID>${stale.listId}</ListID><EditSequence>${stale.editSequence}</EditSequence><Phone>555-0100</Phone></CustomerMod></CustomerModRq></QBXMLMsgsRq></QBXML>`,
      ),
    );
    assert.equal(edited[0]?.statusCode, 0);
    const rename = await env.client.workflow.start(renameCustomer, {
      workflowId: id('rename'),
      taskQueue,
      args: ['east', stale, 'Seven & Co'],
    });
    const result = await driveSessions(stack.connector('east'), rename.result());
    assert.equal(result.attempts, 2, 'first Mod got 3200, second succeeded');
    assert.equal(result.companyName, 'Seven & Co');
  });

  it('surfaces 3100 (name in use) and 3140 (invalid reference) as typed workflow failures', async () => {
    const cases = [
      {
        request: { type: 'CustomerAdd' as const, requestId: 'x', fields: { name: 'East Customer 001' } },
        type: 'NameInUseError',
      },
      {
        request: {
          type: 'InvoiceAdd' as const,
          requestId: 'x',
          fields: {
            customerRef: { fullName: 'East Customer 001' },
            lines: [{ itemRef: { fullName: 'No Such Item' }, quantity: '1', rate: '10.00' }],
          },
        },
        type: 'InvalidReferenceError',
      },
    ];
    for (const c of cases) {
      const handle = await env.client.workflow.start(qbxmlMustSucceed, {
        workflowId: id('typed'),
        taskQueue,
        args: ['east', c.request],
      });
      const error = await driveSessions(stack.connector('east'), handle.result()).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(error instanceof WorkflowFailedError, String(error));
      const cause = error.cause as { type?: string; message?: string } | undefined;
      assert.equal(cause?.type, c.type, cause?.message);
    }
  });

  it('ends a run whose awaited follow-up never came as a success in the Web Connector’s terms', async () => {
    // A read whose requester said it would send more: after its answer the session waits through NoOp pauses, and no
    // follow-up comes. QBWC shows getLastError's text as the run's error after an empty sendRequestXML, so the run
    // must end through receiveResponseXML answering 100 instead.
    await env.client.workflow.signalWithStart(companyFile, {
      workflowId: companyFileWorkflowId('west'),
      taskQueue,
      args: [{ connection: 'west' }],
      signal: enqueueQbxmlSignal,
      signalArgs: [
        {
          requester: id('follow-up-that-never-comes'),
          batchId: id('lingering-read'),
          requests: [{ type: 'CustomerQuery', requestId: id('lingering'), maxReturned: 100, iterator: 'Start' }],
          followUp: true,
        },
      ],
    });
    const report = await stack.connector('west').runSession();
    assert.equal(report.outcome, 'completed', report.lastError);
    assert.equal(report.lastError, undefined);
    assert.equal(report.roundTrips, 2, 'the read, then the closing HostQuery');
    const noOp = ['sendRequestXML', 'getLastError'];
    assert.deepEqual(report.calls.slice(3), [
      'sendRequestXML',
      'receiveResponseXML',
      ...noOp,
      ...noOp,
      ...noOp,
      'sendRequestXML',
      'receiveResponseXML',
      'closeConnection',
    ]);
  });

  async function qbxmlCount(name: string): Promise<[number]> {
    const rs = parseQbxmlResponse(
      stack.files.east!.processRequest(
        `<?xml version="1.0"?><?qbxml version="13.0"?><QBXML><QBXMLMsgsRq onError="stopOnError"><CustomerQueryRq requestID="c"><FullName>${name}</FullName></CustomerQueryRq></QBXMLMsgsRq></QBXML>`,
      ),
    );
    return [rs[0]?.records.length ?? 0];
  }
});
