import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { historyFixtureDataConverter, patchIdsOf } from '../support/historyFixtures';

/**
 * Histories of every workflow type (company file, record syncs, poll cycle, record batch, reconcile) recorded on the
 * code before a change (test/support/recordHistories.ts) must replay on today's workflows: a workflow still running
 * when a worker is upgraded is replayed from its history, and a command sequence that moved would fail it with a
 * nondeterminism error (docs/versioning.md).
 */
const dir = join(__dirname, '..', 'fixtures', 'histories');
const recorded = readdirSync(dir).filter((f) => f.endsWith('.json'));

/** What a recorded run shows in clear (event types, activity and workflow types, patch markers, run ids). */
interface RecordedRun {
  file: string;
  workflowId: string;
  type: string;
  /** This run's own id, and the run it continued from ('' for a chain's first run). */
  runId: string;
  continuedFrom: string;
  /** The run of the workflow that started this one as a child ('' for none). */
  parentRunId: string;
  continuedAsNew: boolean;
  completed: boolean;
  patches: string[];
  activities: string[];
  /** Workflow ids of the children it started, in order. */
  children: string[];
  /** Names of the signals it received, and of those it sent, in order. */
  signals: string[];
  signalsSent: string[];
}

function recordedRun(file: string): RecordedRun {
  const { workflowId, historyProtobufBase64 } = JSON.parse(readFileSync(join(dir, file), 'utf8')) as {
    workflowId: string;
    historyProtobufBase64: string;
  };
  const history = temporal.api.history.v1.History.decode(Buffer.from(historyProtobufBase64, 'base64'));
  const events = history.events ?? [];
  const started = events[0]?.workflowExecutionStartedEventAttributes;
  return {
    file,
    workflowId,
    type: started?.workflowType?.name ?? '',
    runId: started?.originalExecutionRunId ?? '',
    continuedFrom: started?.continuedExecutionRunId ?? '',
    parentRunId: started?.parentWorkflowExecution?.runId ?? '',
    continuedAsNew: Boolean(events.at(-1)?.workflowExecutionContinuedAsNewEventAttributes),
    completed: Boolean(events.at(-1)?.workflowExecutionCompletedEventAttributes),
    patches: patchIdsOf(history),
    activities: events.flatMap((e) => e.activityTaskScheduledEventAttributes?.activityType?.name ?? []),
    children: events.flatMap((e) => e.startChildWorkflowExecutionInitiatedEventAttributes?.workflowId ?? []),
    signals: events.flatMap((e) => e.workflowExecutionSignaledEventAttributes?.signalName ?? []),
    signalsSent: events.flatMap((e) => e.signalExternalWorkflowExecutionInitiatedEventAttributes?.signalName ?? []),
  };
}

/**
 * Patched branches a running workflow may be on, each of which some committed history must have taken: without one, a
 * change that moved that branch's commands would pass every test and fail those workflows on deploy. The patch id is
 * recorded only when the code reaches the `patched()` call, which for these is on the branch itself (or its guard).
 */
const PATCHED_PATHS: { patch: string; type: string; took?: (run: RecordedRun) => boolean }[] = [
  { patch: 'poll-cycle-streamed-read', type: 'pollCycle', took: (run) => run.continuedAsNew },
  { patch: 'sales-order-to-quickbooks-sales-order', type: 'dataverseRecordSync' },
  // Older patches, recorded on the code of session 13 (`older-patches`): a read restarted after its iterator died with
  // its session; a job's account looked up by its full name after its Add's answer was lost; the company file that
  // answered the next Web Connector busy while that Add might still be executing, then let it take over.
  { patch: 'qbxml-iterator-restart', type: 'quickbooksListRead' },
  { patch: 'dynamics-account-job-full-name', type: 'dataverseRecordSync' },
  { patch: 'company-file-busy-while-writing', type: 'companyFile' },
  { patch: 'company-file-writes-settle', type: 'companyFile' },
  // The company file that asked an unreadable customer query again alone, then returned it rejected (`unreadable`).
  { patch: 'company-file-unreadable-answers', type: 'companyFile' },
  {
    patch: 'quickbooks-record-mod-on-merged-version',
    type: 'quickbooksRecordSync',
    // Every customer run asks; one that took the branch merged the version QuickBooks moved to after its refused Mod.
    took: (run) => run.activities.filter((a) => a === 'syncPartyToDataverse').length > 1,
  },
  { patch: 'quickbooks-record-moved-version-holds-target', type: 'quickbooksRecordSync' },
  { patch: 'dynamics-row-moved-version-holds-merge', type: 'dataverseRecordSync' },
  // Asked only when a version read after a lost Mod holds it beside another QuickBooks edit: the row learnt the base.
  { patch: 'quickbooks-record-base-after-lost-mod', type: 'quickbooksRecordSync' },
  { patch: 'dynamics-row-base-after-lost-mod', type: 'dataverseRecordSync' },
  // The same for an item run; and, from both flows, a lost Mod held beside an edit inside the Mod's own group.
  { patch: 'quickbooks-item-base-after-lost-mod', type: 'quickbooksRecordSync' },
  { patch: 'lost-mod-held-within-groups', type: 'quickbooksRecordSync' },
  { patch: 'lost-mod-held-within-groups', type: 'dataverseRecordSync' },
  // A batch of at least `recordGroupsFrom` records: written in record groups, one record left to its own run.
  { patch: 'record-batch-groups', type: 'quickbooksRecordBatch' },
  // A round trip paused for account runs still arriving, then sent with them.
  { patch: 'company-file-gather-arrivals', type: 'companyFile' },
  // Asked at every round trip: the same run put its five look-ups by name in one message.
  { patch: 'company-file-lookups-by-count', type: 'companyFile' },
  // A run whose queue alone was over the handover limit when the handover came due: it served on, then handed over.
  { patch: 'company-file-handover-within-payload-limit', type: 'companyFile', took: (run) => run.continuedAsNew },
  // A cycle that handed off a new account and its order: the order started once the account's run had ended.
  { patch: 'poll-cycle-orders-after-new-accounts', type: 'pollCycle' },
  // A read that met more customers of one second than its window keeps (5 here) gave that second up, and continued as
  // new carrying the window without the seen lists; the run after it made them again.
  { patch: 'poll-cycle-crowded-instant-skipped', type: 'pollCycle', took: (run) => run.continuedAsNew },
  // A page of 100 customers of 16 KB was too large for one Update: the read was asked again for half its page.
  { patch: 'company-file-halve-unreadable-page', type: 'companyFile' },
  // 300 customers of 4 KB of notes: fewer than a batch's count, more than its bytes; the batch was cut by its bytes.
  { patch: 'poll-cycle-batch-bytes', type: 'pollCycle' },
  // An order paid before its invoice row existed: the run read the invoice again and recorded the payment.
  {
    patch: 'sales-order-invoice-balance-after-record',
    type: 'dataverseRecordSync',
    took: (run) => run.activities.includes('recordInvoicePayment'),
  },
  // A read of three deletions continued as new with a carry budget of one byte: it handed them off before it went.
  { patch: 'poll-cycle-carry-settled', type: 'pollCycle', took: (run) => run.continuedAsNew },
  // A cycle asks only at a page carrying own writes: one that asked skipped a later page's connector Mod as an echo.
  { patch: 'poll-cycle-own-writes-per-page', type: 'pollCycle' },
  // A cycle that started batches and continued as new with the line of batches not yet reported; and a run that heard
  // batches report, some started by the run before it, and released a held one.
  { patch: 'poll-cycle-batches-report', type: 'pollCycle', took: (run) => run.continuedAsNew },
  {
    patch: 'poll-cycle-batches-report',
    type: 'pollCycle',
    took: (run) => run.signals.includes('recordBatchReport') && run.signalsSent.includes('recordBatchRelease'),
  },
  // Every cycle that reaches its Dynamics rows asks: one that took the branch started rows' runs a group at a time.
  {
    patch: 'poll-cycle-dynamics-rows-together',
    type: 'pollCycle',
    took: (run) => run.children.some((id) => id.startsWith('d365/')),
  },
  // Asked only when a read came back unreadable: a cycle that took it read Dynamics and advanced the other cursors.
  {
    patch: 'poll-cycle-unreadable-list-skipped',
    type: 'pollCycle',
    took: (run) => run.activities.includes('listDataverseChanges') && run.signalsSent.includes('advanceCursors'),
  },
];

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

  it('has histories that took each patched branch a running workflow may be on', () => {
    const runs = recorded.map(recordedRun);
    for (const { patch, type, took } of PATCHED_PATHS) {
      assert.ok(
        runs.some((run) => run.type === type && run.patches.includes(patch) && (took?.(run) ?? true)),
        `a ${type} history took the branch of patch ${patch}`,
      );
    }
  });

  it('has a poll cycle continued as new mid-read, the run that read on, and a level-by-level batch of the first', () => {
    const runs = recorded.map(recordedRun);
    const handedOver = runs.filter(
      (run) => run.type === 'pollCycle' && run.patches.includes('poll-cycle-streamed-read') && run.continuedAsNew,
    );
    const chains = handedOver.flatMap((first) =>
      runs
        .filter((next) => next.type === 'pollCycle' && next.continuedFrom === first.runId && next.completed)
        .map((next) => ({ first, next })),
    );
    assert.ok(chains.length > 0, 'the run a streamed read continued into, picking up its remaining pages');
    const batches = chains.flatMap(({ first }) => {
      const customerBatches = first.children.filter((id) => id.includes('/customer-'));
      // A level goes once the level above it is done: a later customer batch of one hand-off holds the jobs.
      return runs.filter(
        (run) =>
          run.type === 'quickbooksRecordBatch' &&
          run.parentRunId === first.runId &&
          customerBatches.indexOf(run.workflowId) > 0,
      );
    });
    assert.ok(
      batches.length > 0,
      'a record batch of the jobs, after their parents’ batch, in the run that handed over',
    );
  });

  it('has a record batch that was started held, released by its cycle, and reported to it', () => {
    assert.ok(
      recorded
        .map(recordedRun)
        .some(
          (run) =>
            run.type === 'quickbooksRecordBatch' &&
            run.signals.includes('recordBatchRelease') &&
            run.signalsSent.includes('recordBatchReport'),
        ),
    );
  });

  it('has a poll cycle that started its Dynamics rows’ runs one after another, before they went a group at a time', () => {
    assert.ok(
      recorded
        .map(recordedRun)
        .some(
          (run) =>
            run.type === 'pollCycle' &&
            !run.patches.includes('poll-cycle-dynamics-rows-together') &&
            run.children.some((id) => id.startsWith('d365/')),
        ),
    );
  });

  it('has a poll cycle that followed the invoices made from a QuickBooks sales order', () => {
    assert.ok(
      recorded
        .map(recordedRun)
        .some((run) => run.type === 'pollCycle' && run.activities.includes('recordSalesOrderInvoicing')),
      'a pollCycle history recorded invoices made from a QuickBooks sales order on its order',
    );
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
