import assert from 'node:assert/strict';
import type { temporal } from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import type { DataverseChanges } from '../../src/activities/dataversePairedRows';
import type { PollCycleStart } from '../../src/activities/syncContext';
import { createActivities } from '../../src/activities';
import { sandboxSyncSettings } from '../../src/config/syncSettings';
import { buildQbxmlMessage } from '../../src/qbxml/build';
import { parseQbxmlResponse } from '../../src/qbxml/parse';
import type { CustomerRet, QbxmlRequest } from '../../src/qbxml/requests';
import {
  companyFileStatusQuery,
  companyFileWorkflowId,
  ownWritesQuery,
  type OwnWrites,
} from '../../src/workflows/companyFile/messages';
import type { QbxmlOutcome } from '../../src/workflows/companyFile/runQbxml';
import { pollCycle, type PollCycleResult } from '../../src/workflows/pollCycle';
import { companyFileProcessor, driveSessions, startQuickBooksStack, type QuickBooksStack } from './quickbooksStack';

/**
 * Issue 11, the poll's own-write check on later pages: a streamed poll cycle takes the connector's own writes once, when
 * QuickBooks answers its first round trip; a connector Mod answered after that, and read by a later page of the same
 * cycle, was handed off as a person's edit. Played on a real dev server with the real company file and poll cycle, the
 * gateway, the Web Connector simulator and the QuickBooks simulator; the poll's record batches only say which records
 * they were handed (test/fixtures/streamedPollWorkflows.ts), so no Dataverse is needed.
 *
 * Three customers read one a page. Once QuickBooks has answered the first page, a requester queues a Mod of the third
 * customer; it goes to QuickBooks with the second page's `Continue`, after the cycle has taken the own writes, and the
 * third page brings back the version the Mod made.
 */

type History = temporal.api.history.v1.IHistory;

export interface LaterPageStack {
  env: TestWorkflowEnvironment;
  quickbooks: QuickBooksStack;
  taskQueue: string;
  /** ListIDs of the records the poll's batches were handed, in order. */
  handedOff: string[];
  close(): Promise<void>;
}

/** The worker (real company file, poll cycle and QuickBooks activities; the Dataverse side stood in) and QuickBooks. */
export async function startLaterPageStack(env: TestWorkflowEnvironment, taskQueue: string): Promise<LaterPageStack> {
  const handedOff: string[] = [];
  const companyFileOf = (connection: string) => env.client.workflow.getHandle(companyFileWorkflowId(connection));
  /** What the sync-context activity asks: the company file's own writes now (none before its workflow exists). */
  const ownWritesOf = async ({ connection }: { connection: string }): Promise<OwnWrites> =>
    companyFileOf(connection)
      .query(ownWritesQuery)
      .catch(() => ({}));
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowsPath: require.resolve('../fixtures/streamedPollWorkflows'),
    activities: {
      ...createActivities({ client: env.client, taskQueue }),
      batchHandedOff(listIds: string[]): Promise<void> {
        handedOff.push(...listIds);
        return Promise.resolve();
      },
      async beginPollCycle(input: { connection: string }): Promise<PollCycleStart> {
        return {
          cursors: {},
          ownWrites: await ownWritesOf(input),
          knownChoiceNames: {},
          context: {
            connection: input.connection,
            settings: sandboxSyncSettings(input.connection),
            choices: { customerTypes: {}, terms: {}, classes: {} },
            receivingConnection: input.connection,
          },
          options: { customerTypes: [], terms: [] },
          failedRecords: [],
        };
      },
      ownWritesOf,
      listDataverseChanges(): Promise<DataverseChanges> {
        return Promise.resolve({ accountIds: [], productIds: [], salesOrderIds: [], cursors: {}, echoesSkipped: 0 });
      },
    },
  });
  const running = worker.run();
  const quickbooks = await startQuickBooksStack(env, taskQueue);
  return {
    env,
    quickbooks,
    taskQueue,
    handedOff,
    async close() {
      await quickbooks.gateway.close();
      worker.shutdown();
      await running;
    },
  };
}

export interface LaterPageCycle {
  result: PollCycleResult;
  customers: CustomerRet[];
  /** The version the connector's Mod made of the third customer, as its answer gave it. */
  modded: CustomerRet;
  /** Where the Mod and the poll's read of the third customer went, in the order QuickBooks took the messages. */
  messages: ('mod' | 'third customer read' | 'other')[];
  /** The company file's own writes once the cycle has ended. */
  ownWritesAfter: OwnWrites;
  pollRunId: string;
  companyFileRunId: string;
}

function inQuickBooks(stack: LaterPageStack, request: QbxmlRequest): CustomerRet {
  const [response] = parseQbxmlResponse(stack.quickbooks.files.east!.processRequest(buildQbxmlMessage([request])));
  assert.equal(response?.statusCode, 0, response?.statusMessage);
  return response!.records[0] as CustomerRet;
}

function completedActivities(history: History): string[] {
  const events = history.events ?? [];
  const scheduled = new Map<string, string>();
  for (const e of events) {
    const type = e.activityTaskScheduledEventAttributes?.activityType?.name;
    if (type) scheduled.set(String(e.eventId), type);
  }
  return events.flatMap((e) => {
    const id = e.activityTaskCompletedEventAttributes?.scheduledEventId;
    return id === undefined || id === null ? [] : [scheduled.get(String(id)) ?? ''];
  });
}

/** Polls `check` until it holds; the scenario's steps wait on workflows of the dev server, never on a clock. */
async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`never happened: ${what}`);
}

/** Runs the scenario above on company file east of `stack` and returns what the cycle did. */
export async function pollAcrossConnectorMod(stack: LaterPageStack): Promise<LaterPageCycle> {
  const { env, taskQueue } = stack;
  const file = stack.quickbooks.files.east!;
  const customers = ['Cedar Wharf', 'Alder Marine', 'Birch Rigging'].map((name) =>
    inQuickBooks(stack, { type: 'CustomerAdd', requestId: 'add', fields: { name } }),
  );
  const third = customers[2]!;
  const poll = await env.client.workflow.start(pollCycle, {
    workflowId: 'poll/east',
    taskQueue,
    args: [{ connection: 'east', pageSize: 1 }],
  });
  const companyFile = env.client.workflow.getHandle(companyFileWorkflowId('east'));

  let mod: Promise<QbxmlOutcome[]> | undefined;
  const messages: LaterPageCycle['messages'] = [];
  const processor = companyFileProcessor(
    file,
    async (xml) => {
      if (mod || !/<CustomerQueryRq[^>]*iterator="Start"/.test(xml)) return;
      // QuickBooks has answered the cycle's first round trip; before the answer reaches the company file, a run of the
      // connector's queues a Mod of the third customer (an account run carrying a Dynamics phone, say).
      mod = env.client.workflow.execute('qbxmlProbe', {
        workflowId: `mod-between-pages-${poll.firstExecutionRunId.slice(0, 8)}`,
        taskQueue,
        args: [
          'east',
          [
            {
              type: 'CustomerMod',
              requestId: 'mod',
              fields: { listId: third.listId, editSequence: third.editSequence, phone: '555-0142' },
            },
          ],
        ],
      });
      await until('the Mod is queued', async () => (await companyFile.query(companyFileStatusQuery)).queued > 0);
    },
    async (xml) => {
      if (!xml.includes('<CustomerModRq')) return;
      // The Mod goes out with the second page's Continue: only once the cycle has taken the own writes, so it cannot
      // know this Mod from them.
      await until('the cycle has asked for the own writes', async () =>
        completedActivities(await poll.fetchHistory()).includes('ownWritesOf'),
      );
    },
  );
  const connector = stack.quickbooks.connector(
    'east',
    Object.assign(
      async (xml: string): Promise<string> => {
        const answer = await processor(xml);
        const readsThird = parseQbxmlResponse(answer).some(
          (r) => r.type === 'CustomerQueryRs' && r.records.some((c) => 'listId' in c && c.listId === third.listId),
        );
        messages.push(xml.includes('<CustomerModRq') ? 'mod' : readsThird ? 'third customer read' : 'other');
        return answer;
      },
      { endSession: processor.endSession },
    ),
  );
  const result = await driveSessions(connector, poll.result());
  assert.ok(mod, 'the poll read no customer');
  const [modAnswer] = await driveSessions(connector, mod);
  assert.equal(modAnswer?.kind, 'response', JSON.stringify(modAnswer));
  const modded = (modAnswer as { response: { records: CustomerRet[] } }).response.records[0]!;
  return {
    result,
    customers,
    modded,
    messages,
    ownWritesAfter: await companyFile.query(ownWritesQuery),
    pollRunId: poll.firstExecutionRunId,
    companyFileRunId: (await companyFile.describe()).runId,
  };
}
