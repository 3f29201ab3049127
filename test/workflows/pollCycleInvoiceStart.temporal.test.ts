import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import type { DataverseChanges } from '../../src/activities/dataversePairedRows';
import type { PollCycleStart } from '../../src/activities/syncContext';
import { sandboxSyncSettings, type SyncSettings } from '../../src/config/syncSettings';
import { QUICKBOOKS_OVERLAP_MS, readFrom } from '../../src/mapping/quickbooksChanges';
import { parseQbxmlResponse } from '../../src/qbxml/parse';
import type { QbxmlRequest } from '../../src/qbxml/requests';
import {
  companyFileWorkflowId,
  qbxmlResultsSignal,
  type QbxmlBatch,
  type QbxmlResult,
} from '../../src/workflows/companyFile/messages';
import { pollCycle } from '../../src/workflows/pollCycle';
import { startTestTemporal } from '../support/temporal';

/**
 * Where a connection's first poll starts reading invoices (issue 11 item 5): the poll cycle on a real dev server, its
 * activities faked and its company file answering every query with "no match", the requests it sent kept. A first
 * poll used to send its InvoiceQuery without a date and read every invoice the company file ever held.
 */

const taskQueue = `poll-invoice-start-${randomUUID()}`;
let env: TestWorkflowEnvironment;
let worker: Worker;
let running: Promise<void>;
let sent: QbxmlRequest[] = [];
let cursors: Record<string, string> = {};
let settings: SyncSettings;

function noMatch(request: QbxmlRequest): QbxmlResult {
  const tag = request.type.replace(/Query$/, 'QueryRs');
  const [response] = parseQbxmlResponse(
    `<?xml version="1.0"?><?qbxml version="13.0"?><QBXML><QBXMLMsgsRs><${tag} requestID="${request.requestId}" ` +
      `statusCode="1" statusSeverity="Info" statusMessage="no match"/></QBXMLMsgsRs></QBXML>`,
  );
  return { requestId: request.requestId, kind: 'response', response: response!, final: true };
}

before(async () => {
  env = await startTestTemporal();
  worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowsPath: require.resolve('../fixtures/workflows'),
    activities: {
      async submitQbxmlBatch(input: { connection: string; batch: QbxmlBatch }): Promise<void> {
        sent.push(...input.batch.requests);
        await env.client.workflow
          .getHandle(input.batch.requester)
          .signal(qbxmlResultsSignal, { batchId: input.batch.batchId, results: input.batch.requests.map(noMatch) });
      },
      async beginPollCycle(): Promise<PollCycleStart> {
        return {
          cursors,
          ownWrites: {},
          knownChoiceNames: {},
          context: {
            connection: 'east',
            settings,
            choices: { customerTypes: {}, terms: {}, classes: {} },
            receivingConnection: 'east',
          },
          options: { customerTypes: [], terms: [] },
          failedRecords: [],
        };
      },
      async ownWritesOf(): Promise<Record<string, string>> {
        return {};
      },
      async listDataverseChanges(): Promise<DataverseChanges> {
        return { accountIds: [], productIds: [], salesOrderIds: [], cursors: {}, echoesSkipped: 0 };
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

async function requestsOfOneCycle(): Promise<QbxmlRequest[]> {
  sent = [];
  await env.client.workflow.execute(pollCycle, {
    workflowId: `poll/east/${randomUUID()}`,
    taskQueue,
    args: [{ connection: 'east' }],
  });
  return sent;
}

async function invoiceQueryOfOneCycle(): Promise<QbxmlRequest & { type: 'InvoiceQuery' }> {
  const query = (await requestsOfOneCycle()).find(
    (r): r is QbxmlRequest & { type: 'InvoiceQuery' } => r.type === 'InvoiceQuery',
  );
  assert.ok(query, 'the cycle read invoices');
  return query;
}

describe('poll cycle: where the invoice read starts (real dev server)', () => {
  it('a first poll reads invoices modified in the last 90 days, not every invoice ever', async () => {
    cursors = {};
    settings = sandboxSyncSettings('east');
    const before = Date.now();
    const query = await invoiceQueryOfOneCycle();
    const ninetyDaysBack = (at: number) => new Date(at - 90 * 24 * 60 * 60 * 1000).toISOString().slice(0, 10);
    assert.ok(
      [ninetyDaysBack(before), ninetyDaysBack(Date.now())].includes(query.fromModifiedDate ?? ''),
      `FromModifiedDate ${query.fromModifiedDate ?? '(none)'} is 90 days back`,
    );
  });

  it('a configured date is where a first poll starts', async () => {
    cursors = {};
    settings = { ...sandboxSyncSettings('east') };
    settings.invoices = { ...settings.invoices, cursorStart: { date: '2025-01-01' } };
    assert.equal((await invoiceQueryOfOneCycle()).fromModifiedDate, '2025-01-01');
  });

  it('once there is a cursor the read starts there (less the overlap window), whatever the configured start', async () => {
    cursors = { 'qb:Invoice': '2026-11-30T10:00:00-08:00' };
    settings = sandboxSyncSettings('east');
    assert.equal(
      (await invoiceQueryOfOneCycle()).fromModifiedDate,
      readFrom(cursors, 'qb:Invoice', QUICKBOOKS_OVERLAP_MS),
    );
  });
});

/** Each list query's `MaxReturned`, by query type. */
const pageSizes = (requests: QbxmlRequest[]): Record<string, number | undefined> =>
  Object.fromEntries(requests.map((r) => [r.type, 'maxReturned' in r ? r.maxReturned : undefined]));

describe('poll cycle: the pages it asks QuickBooks for (real dev server)', () => {
  it('every read asks for pages of 250, two of which fill a round trip, first read or not', async () => {
    settings = sandboxSyncSettings('east');
    // An initial load: no list has a cursor, so each read may bring back thousands of records.
    cursors = {};
    const first = pageSizes(await requestsOfOneCycle());
    assert.deepEqual(
      [first.CustomerQuery, first.VendorQuery, first.ItemQuery, first.InvoiceQuery],
      [250, 250, 250, 250],
    );
    // A later read: an overlap window of up to 2,000 records of one second is read again at each poll.
    cursors = { 'qb:Customer': '2026-11-30T10:00:00-08:00', 'qb:Invoice': '2026-11-30T10:00:00-08:00' };
    const later = pageSizes(await requestsOfOneCycle());
    assert.deepEqual(
      [later.CustomerQuery, later.VendorQuery, later.ItemQuery, later.InvoiceQuery],
      [250, 250, 250, 250],
    );
  });
});
