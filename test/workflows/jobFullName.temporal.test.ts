import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import type { AccountForQuickBooks } from '../../src/activities/dataversePairedRows';
import type { SyncContext } from '../../src/activities/syncContext';
import { sandboxSyncSettings } from '../../src/config/syncSettings';
import { dataverseRecordWorkflowId } from '../../src/mapping/entityRegistry';
import { buildQbxmlMessage } from '../../src/qbxml/build';
import { parseQbxmlResponse } from '../../src/qbxml/parse';
import type { CustomerRet, QbxmlRequest } from '../../src/qbxml/requests';
import { CompanyFileSimulator } from '../../src/sandbox/quickbooks/companyFile';
import {
  companyFileWorkflowId,
  qbxmlResultsSignal,
  type QbxmlBatch,
  type QbxmlResult,
} from '../../src/workflows/companyFile/messages';
import { dataverseRecordSync, type DataverseRecordSyncResult } from '../../src/workflows/dataverseRecordSync';
import { startTestTemporal } from '../support/temporal';

/**
 * Issue 11 item 7: a Dynamics account whose parent account is a QuickBooks customer becomes a job, and a job's name is
 * unique only under its parent. The account sync runs on a real dev server against the QuickBooks simulator (every
 * request built and answered as qbXML), its Dataverse side faked: the job must be found by `Parent:Leaf`, never by
 * its short name.
 */

const ACCOUNT_ID = '3d1f6c1e-8a47-4c0e-9b53-2f7d51c0a9e4';
const taskQueue = `job-full-name-${randomUUID()}`;

let file: CompanyFileSimulator;
/** Adds QuickBooks applies whose answer the Web Connector then loses. */
let loseAddAnswers: number;
let sent: QbxmlRequest[];
let pairings: Array<Record<string, unknown>>;
let parentListId: string;

function customer(name: string, parent?: string): CustomerRet {
  const request: QbxmlRequest = {
    type: 'CustomerAdd',
    requestId: 'seed',
    fields: { name, ...(parent ? { parentRef: { listId: parent } } : {}) },
  };
  const [response] = parseQbxmlResponse(file.processRequest(buildQbxmlMessage([request])));
  assert.equal(response?.statusCode, 0, response?.statusMessage);
  return response!.records[0] as CustomerRet;
}

function customersNamed(name: string): CustomerRet[] {
  const query: QbxmlRequest = { type: 'CustomerQuery', requestId: 'look', activeStatus: 'All' };
  const [response] = parseQbxmlResponse(file.processRequest(buildQbxmlMessage([query])));
  return (response!.records as CustomerRet[]).filter((c) => c.name === name);
}

/** QuickBooks answering one request as the gateway would hand it over. */
function answer(request: QbxmlRequest): QbxmlResult {
  sent.push(request);
  const { requestId } = request;
  const [response] = parseQbxmlResponse(file.processRequest(buildQbxmlMessage([request])));
  if (request.type === 'CustomerAdd' && loseAddAnswers > 0) {
    loseAddAnswers -= 1;
    return { requestId, kind: 'outcomeUnknown', reason: 'the Web Connector session ended before the answer came back' };
  }
  return { requestId, kind: 'response', response: response!, final: true };
}

let env: TestWorkflowEnvironment;
let worker: Worker;
let running: Promise<void>;

before(async () => {
  env = await startTestTemporal();
  const context: SyncContext = {
    connection: 'east',
    settings: sandboxSyncSettings('east'),
    choices: { customerTypes: {}, terms: {}, classes: {} },
    receivingConnection: 'east',
  };
  worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowsPath: require.resolve('../fixtures/workflows'),
    activities: {
      async submitQbxmlBatch(input: { connection: string; batch: QbxmlBatch }): Promise<void> {
        const results = input.batch.requests.map(answer);
        await env.client.workflow
          .getHandle(input.batch.requester)
          .signal(qbxmlResultsSignal, { batchId: input.batch.batchId, results });
      },
      async loadSyncContext(): Promise<SyncContext> {
        return context;
      },
      // A Dynamics account "Leaf Ridge" under the account paired with QuickBooks customer "Parent Co", not yet paired.
      async readAccountForQuickBooks(): Promise<AccountForQuickBooks> {
        return {
          account: {
            accountid: ACCOUNT_ID,
            name: 'Leaf Ridge',
            customertypecode: 3,
            qbsync_companyfile: 'east',
            qbsync_qblistid: null,
            statecode: 0,
          },
          etag: 'W/"100"',
          parentListId,
        };
      },
      async writeBackToRow(input: { changes: Record<string, unknown> }): Promise<{ written: string[] }> {
        pairings.push(input.changes);
        return { written: Object.keys(input.changes) };
      },
    },
  });
  running = worker.run();
  await env.client.workflow.start('signalSink', { workflowId: companyFileWorkflowId('east'), taskQueue });
});

after(async () => {
  worker?.shutdown();
  await running;
  await env?.teardown();
});

beforeEach(() => {
  file = new CompanyFileSimulator({ name: 'east' });
  loseAddAnswers = 0;
  sent = [];
  pairings = [];
  parentListId = customer('Parent Co').listId;
});

async function syncAccount(): Promise<DataverseRecordSyncResult> {
  return env.client.workflow.execute(dataverseRecordSync, {
    workflowId: `${dataverseRecordWorkflowId('account', ACCOUNT_ID)}/${randomUUID()}`,
    taskQueue,
    args: [{ connection: 'east', entity: 'account', id: ACCOUNT_ID, quietPeriodMs: 0 }],
  });
}

describe('a Dynamics account under a paired parent becomes a job found by its full name (real dev server)', () => {
  it('an unrelated top-level customer of the same name is left alone: the job is created under its parent', async () => {
    const stranger = customer('Leaf Ridge');
    const result = await syncAccount();
    assert.equal(result.outcome, 'created');
    const jobs = customersNamed('Leaf Ridge').filter((c) => c.parentRef?.listId === parentListId);
    assert.equal(jobs.length, 1, 'no job was created under the parent');
    assert.equal(jobs[0]!.fullName, 'Parent Co:Leaf Ridge');
    assert.notEqual(result.targetId, stranger.listId, 'the account was paired with the unrelated top-level customer');
    assert.equal(result.targetId, jobs[0]!.listId);
    assert.deepEqual(
      pairings.map((p) => p.qbsync_qblistid),
      [jobs[0]!.listId],
    );
  });

  it('a job Add whose answer was lost is found by its full name, not added again until 3100', async () => {
    loseAddAnswers = 1;
    const result = await syncAccount();
    const jobs = customersNamed('Leaf Ridge');
    assert.equal(jobs.length, 1);
    assert.equal(jobs[0]!.fullName, 'Parent Co:Leaf Ridge');
    assert.equal(result.targetId, jobs[0]!.listId);
    assert.equal(sent.filter((r) => r.type === 'CustomerAdd').length, 1, 'the job was added again after its answer');
    assert.deepEqual(
      pairings.map((p) => p.qbsync_qblistid),
      [jobs[0]!.listId],
    );
  });
});
