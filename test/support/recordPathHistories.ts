/**
 * Records histories of workflow paths an initial sync (recordHistories.ts) does not take, each driven on the sandboxes
 * (real Temporal dev server, Dataverse sandbox, QuickBooks simulator behind the gateway and the Web Connector
 * simulator), and checks each run took its path before writing it:
 *
 * - a streamed poll cycle that continued as new while its read was still going (`poll-cycle-streamed-read`), the run
 *   that picked up the remaining pages, and one of the first run's level-by-level record batches;
 * - a Dynamics order sent to QuickBooks as a sales order (`sales-order-to-quickbooks-sales-order`) and the poll cycle
 *   that followed the invoice accounting made from it;
 * - a customer run whose Mod met a newer QuickBooks version (`quickbooks-record-mod-on-merged-version`), one whose Mod
 *   was applied with its answer lost (`quickbooks-record-moved-version-holds-target`), and the same for an account run
 *   (`dynamics-row-moved-version-holds-merge`);
 * - a customer run and an account run whose Mod was applied with its answer lost while Dynamics saved the phone it
 *   carried and a person edited the email in QuickBooks (`*-base-after-lost-mod`);
 * - an item run and a product run whose Mod of the price was applied with its answer lost while Dynamics saved another
 *   price and a person edited the description, in the same group of the Mod (`quickbooks-item-base-after-lost-mod`,
 *   `lost-mod-held-within-groups`);
 * - a poll cycle whose customer read QuickBooks answered unreadably (a note holding `&#11;`), beside a Dynamics account
 *   to send (`poll-cycle-unreadable-list-skipped`);
 * - branches of older patches (`older-patches`): a read restarted after its iterator died with its session, a job's
 *   account found by its full name after its Add's answer was lost, and the company file that answered busy meanwhile;
 * - a record batch that wrote its customers in record groups (`record-groups`, `record-batch-groups`), and its group;
 * - the company file's run that paused a round trip for account runs still arriving (`gather-arrivals`,
 *   `company-file-gather-arrivals`) and costed their look-ups one record a name (`company-file-lookups-by-count`);
 * - the company file's run that found its queue too large to hand over and served on until it fitted
 *   (`handover-within-limit`, `company-file-handover-within-payload-limit`), on small limits;
 * - a poll cycle that started a new account's order once the account's run had made its customer
 *   (`orders-after-new-accounts`, `poll-cycle-orders-after-new-accounts`);
 * - a poll cycle whose read met more customers of one second than its window keeps, gave that second up and continued
 *   as new carrying the window alone (`crowded-instant`, `poll-cycle-crowded-instant-skipped`), on a small count;
 * - the company file's run that asked a customer read again for half its page, the page of large records being too
 *   large for one Update (`halve-page`, `company-file-halve-unreadable-page`); a poll's batch cut by its bytes
 *   (`batch-bytes`, `poll-cycle-batch-bytes`).
 *
 *   TEMPORAL_CLI=… node --import tsx test/support/recordPathHistories.ts [label] [streamed|salesOrder|superseded|unreadable|…]
 *
 * Scenarios named after the label are the only ones run (all when none is named): a change to one path needs only its
 * own histories recorded.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { temporal } from '@temporalio/proto';
import { ENTITY_SETS } from '../../src/dataverse/entities';
import type { ChoiceMaps } from '../../src/mapping/choices';
import { dataverseRecordWorkflowId, quickBooksRecordWorkflowId } from '../../src/mapping/entityRegistry';
import { buildQbxmlMessage } from '../../src/qbxml/build';
import { parseQbxmlResponse } from '../../src/qbxml/parse';
import type { SyncedItem } from '../../src/mapping/itemProduct';
import type { CustomerRet, InvoiceRet, QbxmlRequest, SalesOrderRet } from '../../src/qbxml/requests';
import { demoAccountId } from '../../src/sandbox/dataverse/demoOrganisation';
import { defaultQueueLimits } from '../../src/workflows/companyFile/companyFileState';
import { companyFileWorkflowId, enqueueQbxmlSignal, syncCursorsQuery } from '../../src/workflows/companyFile/messages';
import { companyFile } from '../../src/workflows/companyFile/workflow';
import { dataverseRecordSync } from '../../src/workflows/dataverseRecordSync';
import { quickbooksRecordBatch } from '../../src/workflows/sync/quickbooksRecordBatch';
import { quickbooksRecordSync } from '../../src/workflows/sync/quickbooksRecordSync';
import { patchIdsOf, writeHistoryFixture } from './historyFixtures';
import { startSyncStack, type SyncStack } from './syncStack';
import { companyFileProcessor } from './quickbooksStack';
import { announceOrder, enterOrder } from './syncStackSuite';
import { startTestTemporal } from './temporal';

type History = temporal.api.history.v1.IHistory;

/** A run to write: the fixture's name after the label, and which run of which workflow. */
interface RecordedRun {
  name: string;
  workflowId: string;
  runId: string;
}

/** The poll's own limits in the first scenario: a history this short hands over after the read's first page. */
const SHORT_HISTORY = Number(process.env.SHORT_HISTORY ?? 10);
/** Fifteen customers in the east demo company: two pages of them, the other lists in one. */
const SMALL_PAGE = 10;

function inQuickBooks(stack: SyncStack, request: QbxmlRequest): CustomerRet | InvoiceRet | SalesOrderRet {
  const [response] = parseQbxmlResponse(stack.quickbooks.files.east!.processRequest(buildQbxmlMessage([request])));
  assert.equal(response?.statusCode, 0, response?.statusMessage);
  return response!.records[0] as CustomerRet;
}

function customerNow(stack: SyncStack, listId: string): CustomerRet {
  return inQuickBooks(stack, { type: 'CustomerQuery', requestId: 'look', listIds: [listId] }) as CustomerRet;
}

async function historyOf(stack: SyncStack, workflowId: string, runId?: string): Promise<History> {
  return stack.env.client.workflow.getHandle(workflowId, runId).fetchHistory();
}

function activityTypes(history: History): string[] {
  return (history.events ?? []).flatMap((e) => e.activityTaskScheduledEventAttributes?.activityType?.name ?? []);
}

/**
 * A write's answer lost as the chaos run loses it (`qbwcCutAfterWrite`): a Web Connector of its own runs east's sessions
 * (at most `sessions`) until QuickBooks has applied the first message holding `request`, and then never answers again.
 * The company file learns it once its next session takes over (after `writeSettleMs`), and tells the run the write's
 * outcome is unknown. `meanwhile` runs once QuickBooks has applied it, before the cut (what people do in the window).
 * Whether the request reached QuickBooks.
 */
async function cutSessionAfter(
  stack: SyncStack,
  request: string,
  sessions: number,
  meanwhile?: () => Promise<void>,
): Promise<boolean> {
  const file = stack.quickbooks.files.east!;
  const quickbooks = companyFileProcessor(file);
  let cut: () => void = () => undefined;
  const cutHappened = new Promise<'cut'>((r) => {
    cut = () => r('cut');
  });
  const doomed = stack.quickbooks.connector(
    'east',
    Object.assign(
      async (xml: string): Promise<string> => {
        const answer = await quickbooks(xml);
        if (!xml.includes(request)) return answer;
        await meanwhile?.();
        cut();
        return new Promise<string>(() => undefined);
      },
      { endSession: quickbooks.endSession },
    ),
  );
  for (let i = 0; i < sessions; i++) {
    if ((await Promise.race([doomed.runSession(), cutHappened])) === 'cut') {
      // The Web Connector is gone, so QuickBooks' connection to it closes, and its iterators with it.
      file.endSession();
      return true;
    }
    await new Promise((r) => setTimeout(r, 400));
  }
  return false;
}

/** What a run did, for the message of a check it failed: its activities and patches, in order. */
function runSummary(history: History): string {
  return (history.events ?? [])
    .flatMap((e) => {
      const activity = e.activityTaskScheduledEventAttributes?.activityType?.name;
      if (activity) return [activity];
      if (e.markerRecordedEventAttributes?.markerName === 'core_patch')
        return [`patch ${patchIdsOf({ events: [e] })[0]}`];
      if (e.workflowExecutionSignaledEventAttributes)
        return [`signal ${e.workflowExecutionSignaledEventAttributes.signalName}`];
      return [];
    })
    .join(', ');
}

/** Every run of `workflowId` from the one running or last completed back to its first, first to last. */
async function runChain(stack: SyncStack, workflowId: string): Promise<{ runId: string; history: History }[]> {
  const runs: { runId: string; history: History }[] = [];
  let runId: string | undefined = (await stack.env.client.workflow.getHandle(workflowId).describe()).runId;
  while (runId) {
    const history = await historyOf(stack, workflowId, runId);
    runs.unshift({ runId, history });
    runId = history.events?.[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId || undefined;
  }
  return runs;
}

/**
 * The east initial sync read in pages of ten, with a history limit that makes it hand over after a page or two. Of the
 * runs, the first that handed customers off and continued as new is written, the run after it, and the batch of that
 * run's jobs.
 */
async function streamedReadContinuedAsNew(stack: SyncStack): Promise<RecordedRun[]> {
  const result = await stack.cycle('east', { historyLimit: SHORT_HISTORY, pageSize: SMALL_PAGE });
  const runs = await runChain(stack, 'poll/east');
  assert.ok(runs.length >= 2, `the cycle continued as new (${runs.length} runs)`);
  assert.ok(patchIdsOf(runs[0]!.history).includes('poll-cycle-streamed-read'), 'the first run read streamed');
  const batches = (h: History) =>
    (h.events ?? []).flatMap((e) => {
      const started = e.startChildWorkflowExecutionInitiatedEventAttributes;
      return started?.workflowType?.name === 'quickbooksRecordBatch' ? [started.workflowId ?? ''] : [];
    });
  const customerBatches = (h: History) => batches(h).filter((id) => id.includes('/customer-'));
  const at = runs.findIndex((run) => customerBatches(run.history).length > 0);
  const [first, next] = [runs[at], runs[at + 1]];
  assert.ok(
    first && next,
    `a run handed customers off and continued as new: ${runs.map((r) => `${r.history.events?.length ?? 0} events, batches ${batches(r.history).join(' ')}`).join('; ')}`,
  );
  assert.ok(first.history.events?.at(-1)?.workflowExecutionContinuedAsNewEventAttributes, 'it handed over');
  // The remaining customers came to a later run, which handed them off itself: the read went on across runs.
  assert.ok(
    runs.slice(at + 1).some((run) => customerBatches(run.history).length > 0),
    'a later run handed off the customers of the pages after the hand-over',
  );
  assert.ok((result.handedOff['qb:customer'] ?? 0) > SMALL_PAGE, 'more customers than one page were handed off');
  // Of that run's customers, parents went in one batch and their jobs in the next, once the parents were done.
  const handedOff = customerBatches(first.history);
  assert.ok(handedOff.length >= 2, `parents, then jobs, in batches of their own: ${handedOff.join(', ')}`);
  const jobs = handedOff[1]!;
  return [
    { name: 'pollCycle-continued-mid-read', workflowId: 'poll/east', runId: first.runId },
    { name: 'pollCycle-carried-read', workflowId: 'poll/east', runId: next.runId },
    {
      name: 'quickbooksRecordBatch-jobs',
      workflowId: jobs,
      runId: (await stack.env.client.workflow.getHandle(jobs).describe()).runId,
    },
  ];
}

/**
 * With `invoices.via: salesOrder`, a Dynamics order becomes a QuickBooks sales order; accounting invoices it in
 * QuickBooks and the next poll records the invoice on the order.
 */
async function salesOrderMode(stack: SyncStack): Promise<RecordedRun[]> {
  stack.settings.get('east')!.invoices.via = 'salesOrder';
  const orderId = await enterOrder(stack, demoAccountId('Blue Yonder Airlines'), 'Hangar fit-out', 2);
  const workflowId = await announceOrder(stack, orderId);
  await stack.settle();
  const orderRun = await stack.env.client.workflow.getHandle(workflowId).describe();
  const orderHistory = await historyOf(stack, workflowId, orderRun.runId);
  assert.ok(
    patchIdsOf(orderHistory).includes('sales-order-to-quickbooks-sales-order'),
    'the order went as a sales order',
  );
  const row = await stack.dataverse.retrieve(ENTITY_SETS.salesorder, orderId);
  const txnId = String(row?.qbsync_salesordertxnid ?? '');
  assert.notEqual(txnId, '', 'the order is paired with its QuickBooks sales order');
  const salesOrder = inQuickBooks(stack, {
    type: 'SalesOrderQuery',
    requestId: 'so',
    txnIds: [txnId],
  }) as SalesOrderRet;
  inQuickBooks(stack, {
    type: 'InvoiceAdd',
    requestId: 'accounting',
    fields: { customerRef: { listId: salesOrder.customerRef!.listId! }, linkToTxnIds: [txnId] },
  });
  const followed = await stack.cycle('east');
  assert.equal(followed.salesOrdersInvoiced, 1, 'the poll recorded the invoice made from the sales order');
  const poll = await stack.env.client.workflow.getHandle('poll/east').describe();
  return [
    { name: 'd365-salesorder-sales-order-mode', workflowId, runId: orderRun.runId },
    { name: 'pollCycle-sales-order-invoices', workflowId: 'poll/east', runId: poll.runId },
  ];
}

/** Sessions enough for the company file to give up on a cut session's writes (two minutes of them answered busy). */
const SETTLE_AFTER_CUT = 600;

/**
 * A cut session's writes are given up only once they had `writeSettleMs` to settle; until then every session is
 * answered busy, and `settle` gives up after 90 s with nothing sent. So the window passes first.
 */
async function untilCutWritesSettle(stack: SyncStack): Promise<void> {
  await new Promise((r) => setTimeout(r, defaultQueueLimits.writeSettleMs + 5_000));
  await stack.settle(SETTLE_AFTER_CUT);
}

const noChoices: ChoiceMaps = { customerTypes: {}, terms: {}, classes: {} };

/** A customer run carrying `record` as a poll would hand it over (its own workflow id: runs of one record never overlap). */
function startCustomerRun(stack: SyncStack, record: CustomerRet) {
  return stack.env.client.workflow.start(quickbooksRecordSync, {
    workflowId: `${quickBooksRecordWorkflowId('east', 'customer', record.listId)}/${randomUUID().slice(0, 8)}`,
    taskQueue: 'sync-e2e',
    args: [
      {
        connection: 'east',
        entity: 'customer',
        listId: record.listId,
        record,
        settings: stack.settings.get('east')!,
        choices: noChoices,
      },
    ],
  });
}

/** A customer run driven to its end by QBWC sessions. */
async function customerRun(stack: SyncStack, record: CustomerRet): Promise<{ workflowId: string; runId: string }> {
  const handle = await startCustomerRun(stack, record);
  await stack.settle();
  await handle.result();
  return { workflowId: handle.workflowId, runId: handle.firstExecutionRunId };
}

async function accountOf(stack: SyncStack, listId: string): Promise<Record<string, unknown>> {
  for await (const row of stack.dataverse.queryRows(ENTITY_SETS.account, {
    select: ['accountid', 'telephone1', 'emailaddress1'],
    filter: `qbsync_companyfile eq 'east' and qbsync_qblistid eq '${listId}'`,
  })) {
    return row;
  }
  throw new Error(`no account for customer ${listId}`);
}

/** A new customer synced at `phone`, then its phone changed in Dynamics and its email in QuickBooks (V1). */
async function editedOnBothSides(stack: SyncStack, name: string, phone: string, dynamicsPhone: string) {
  const v0 = inQuickBooks(stack, {
    type: 'CustomerAdd',
    requestId: 'add',
    fields: { name, phone, email: `desk@${name.split(' ')[0]!.toLowerCase()}.example` },
  }) as CustomerRet;
  await customerRun(stack, v0);
  const accountId = String((await accountOf(stack, v0.listId)).accountid);
  await stack.dataverse.update(ENTITY_SETS.account, accountId, { telephone1: dynamicsPhone });
  const v1 = inQuickBooks(stack, {
    type: 'CustomerMod',
    requestId: 'edit',
    fields: {
      listId: v0.listId,
      editSequence: v0.editSequence,
      email: `orders@${name.split(' ')[0]!.toLowerCase()}.example`,
    },
  }) as CustomerRet;
  return { v1, accountId };
}

/**
 * The superseded-version paths: a person edits the customer in QuickBooks just before the run's Mod (refused, 3200:
 * the run merges the new version); a run's Mod is applied and its answer lost (the version read again holds the Mod),
 * once from a customer run and once from an account run.
 */
async function supersededQuickBooksVersion(stack: SyncStack): Promise<RecordedRun[]> {
  const merged = await editedOnBothSides(stack, 'Quay Mercantile', '555-1000', '555-2000');
  let mods = 0;
  stack.hooks.beforeProcess = (connection, xml) => {
    if (connection !== 'east' || !xml.includes('<CustomerModRq') || !xml.includes(merged.v1.listId)) {
      return Promise.resolve();
    }
    mods += 1;
    if (mods > 1) return Promise.resolve();
    const now = customerNow(stack, merged.v1.listId);
    inQuickBooks(stack, {
      type: 'CustomerMod',
      requestId: 'edit-again',
      fields: { listId: now.listId, editSequence: now.editSequence, email: 'billing@quay.example' },
    });
    return Promise.resolve();
  };
  const onMerged = await customerRun(stack, merged.v1);
  stack.hooks.beforeProcess = undefined;
  // The refused Mod and the one after it: QuickBooks keeps the person's email, Dynamics' phone still gets there.
  assert.equal(mods, 2, 'the Mod on the merged version was refused and sent again on the new one');
  assert.equal(customerNow(stack, merged.v1.listId).email, 'billing@quay.example');
  assert.equal(customerNow(stack, merged.v1.listId).phone, '555-2000');
  const onMergedHistory = await historyOf(stack, onMerged.workflowId, onMerged.runId);
  assert.equal(
    activityTypes(onMergedHistory).filter((t) => t === 'syncPartyToDataverse').length,
    2,
    'the run merged the version QuickBooks moved to',
  );

  const lost = await editedOnBothSides(stack, 'Tidewater Chandlery', '555-8958', '555-1308');
  const lostRun = await startCustomerRun(stack, lost.v1);
  assert.equal(await cutSessionAfter(stack, '<CustomerModRq', 30), true, 'the customer run’s Mod reached QuickBooks');
  await stack.settle(SETTLE_AFTER_CUT);
  await lostRun.result();
  const holdsTarget = await historyOf(stack, lostRun.workflowId, lostRun.firstExecutionRunId);
  assert.ok(patchIdsOf(holdsTarget).includes('quickbooks-record-moved-version-holds-target'), runSummary(holdsTarget));

  const lantern = inQuickBooks(stack, {
    type: 'CustomerAdd',
    requestId: 'add',
    fields: { name: 'Lantern Provisions', phone: '555-8958' },
  }) as CustomerRet;
  await customerRun(stack, lantern);
  const accountId = String((await accountOf(stack, lantern.listId)).accountid);
  await stack.dataverse.update(ENTITY_SETS.account, accountId, { telephone1: '555-1308' });
  const accountRun = await stack.env.client.workflow.start(dataverseRecordSync, {
    workflowId: dataverseRecordWorkflowId('account', accountId),
    taskQueue: 'sync-e2e',
    args: [{ connection: 'east', entity: 'account', id: accountId, quietPeriodMs: 0 }],
  });
  assert.equal(await cutSessionAfter(stack, '<CustomerModRq', 30), true, 'the account run’s Mod reached QuickBooks');
  await stack.settle(SETTLE_AFTER_CUT);
  await accountRun.result();
  const holdsMerge = await historyOf(stack, accountRun.workflowId, accountRun.firstExecutionRunId);
  assert.ok(patchIdsOf(holdsMerge).includes('dynamics-row-moved-version-holds-merge'), runSummary(holdsMerge));
  assert.equal(customerNow(stack, lantern.listId).phone, '555-1308');
  return [
    { name: 'qb-east-customer-mod-on-merged-version', ...onMerged },
    {
      name: 'qb-east-customer-moved-version-holds-target',
      workflowId: lostRun.workflowId,
      runId: lostRun.firstExecutionRunId,
    },
    {
      name: 'd365-account-moved-version-holds-merge',
      workflowId: accountRun.workflowId,
      runId: accountRun.firstExecutionRunId,
    },
  ];
}

/**
 * A run's Mod applied in QuickBooks with its answer lost while, in that window, Dynamics saves the phone the Mod carried
 * and a person edits the customer's email in QuickBooks: the run reads a version holding its Mod beside that edit and
 * merges again. Once from a customer run, once from an account run.
 */
async function lostModBesideQuickBooksEdit(stack: SyncStack): Promise<RecordedRun[]> {
  const inWindow = (listId: string, accountId: string, domain: string) => async (): Promise<void> => {
    await stack.dataverse.update(ENTITY_SETS.account, accountId, { telephone1: '555-9356' });
    const now = customerNow(stack, listId);
    inQuickBooks(stack, {
      type: 'CustomerMod',
      requestId: 'edit-again',
      fields: { listId, editSequence: now.editSequence, email: `billing@${domain}.example` },
    });
  };

  const wharf = await editedOnBothSides(stack, 'Wharf Cordage', '555-8958', '555-1308');
  const customerRunInWindow = await startCustomerRun(stack, wharf.v1);
  assert.equal(
    await cutSessionAfter(stack, '<CustomerModRq', 30, inWindow(wharf.v1.listId, wharf.accountId, 'wharf')),
    true,
    'the customer run’s Mod reached QuickBooks',
  );
  await untilCutWritesSettle(stack);
  await customerRunInWindow.result();
  const customerHistory = await historyOf(
    stack,
    customerRunInWindow.workflowId,
    customerRunInWindow.firstExecutionRunId,
  );
  assert.equal(
    activityTypes(customerHistory).filter((t) => t === 'syncPartyToDataverse').length,
    2,
    `the customer run merged the version holding its Mod and the email edit: ${runSummary(customerHistory)}`,
  );

  const jetty = inQuickBooks(stack, {
    type: 'CustomerAdd',
    requestId: 'add',
    fields: { name: 'Jetty Ropeworks', phone: '555-8958', email: 'desk@jetty.example' },
  }) as CustomerRet;
  await customerRun(stack, jetty);
  const accountId = String((await accountOf(stack, jetty.listId)).accountid);
  await stack.dataverse.update(ENTITY_SETS.account, accountId, { telephone1: '555-1308' });
  const accountRunInWindow = await stack.env.client.workflow.start(dataverseRecordSync, {
    workflowId: dataverseRecordWorkflowId('account', accountId),
    taskQueue: 'sync-e2e',
    args: [{ connection: 'east', entity: 'account', id: accountId, quietPeriodMs: 0 }],
  });
  assert.equal(
    await cutSessionAfter(stack, '<CustomerModRq', 30, inWindow(jetty.listId, accountId, 'jetty')),
    true,
    'the account run’s Mod reached QuickBooks',
  );
  await untilCutWritesSettle(stack);
  await accountRunInWindow.result();
  const accountHistory = await historyOf(stack, accountRunInWindow.workflowId, accountRunInWindow.firstExecutionRunId);
  assert.ok(
    activityTypes(accountHistory).filter((t) => t === 'readAccountForQuickBooks').length >= 2,
    `the account run merged the version holding its Mod and the email edit: ${runSummary(accountHistory)}`,
  );
  console.log(`customer run: ${runSummary(customerHistory)}`);
  console.log(`account run: ${runSummary(accountHistory)}`);
  console.log(
    `phones: customer ${customerNow(stack, wharf.v1.listId).phone} / ${String((await accountOf(stack, wharf.v1.listId)).telephone1)}, ` +
      `account ${customerNow(stack, jetty.listId).phone} / ${String((await accountOf(stack, jetty.listId)).telephone1)}`,
  );
  return [
    {
      name: 'qb-east-customer-lost-mod-beside-edit',
      workflowId: customerRunInWindow.workflowId,
      runId: customerRunInWindow.firstExecutionRunId,
    },
    {
      name: 'd365-account-lost-mod-beside-edit',
      workflowId: accountRunInWindow.workflowId,
      runId: accountRunInWindow.firstExecutionRunId,
    },
  ];
}

/** An item run carrying `record` as a poll would hand it over. */
function startItemRun(stack: SyncStack, record: SyncedItem) {
  return stack.env.client.workflow.start(quickbooksRecordSync, {
    workflowId: `${quickBooksRecordWorkflowId('east', 'item', record.listId)}/${randomUUID().slice(0, 8)}`,
    taskQueue: 'sync-e2e',
    args: [
      {
        connection: 'east',
        entity: 'item',
        listId: record.listId,
        record,
        settings: stack.settings.get('east')!,
        choices: noChoices,
      },
    ],
  });
}

function itemNow(stack: SyncStack, listId: string): SyncedItem {
  return inQuickBooks(stack, { type: 'ItemQuery', requestId: 'look', listIds: [listId] }) as unknown as SyncedItem;
}

async function productIdOf(stack: SyncStack, listId: string): Promise<string> {
  for await (const row of stack.dataverse.queryRows(ENTITY_SETS.product, {
    select: ['productid'],
    filter: `qbsync_companyfile eq 'east' and qbsync_qblistid eq '${listId}'`,
  })) {
    return String(row.productid);
  }
  throw new Error(`no product for item ${listId}`);
}

/** A new service item synced at 120.00, then its price changed in Dynamics to 150. */
async function pricedInDynamics(stack: SyncStack, name: string): Promise<{ v0: SyncedItem; productId: string }> {
  const v0 = inQuickBooks(stack, {
    type: 'ItemServiceAdd',
    requestId: 'add',
    fields: { name, salesOrPurchase: { desc: 'Chain check', price: '120.00' } },
  }) as unknown as SyncedItem;
  const handle = await startItemRun(stack, v0);
  await stack.settle();
  await handle.result();
  const productId = await productIdOf(stack, v0.listId);
  await stack.dataverse.update(ENTITY_SETS.product, productId, { price: 150 });
  return { v0, productId };
}

/**
 * The item form of `lostModBesideQuickBooksEdit`: the run's Mod sets the price, QuickBooks applies it with its answer
 * lost, Dynamics saves another price and a person edits the description, which travels in the same group of the Mod
 * (`SalesOrPurchaseMod`). Once from an item run (the description edited in QuickBooks before it too), once from a
 * product run.
 */
async function lostItemModBesideQuickBooksEdit(stack: SyncStack): Promise<RecordedRun[]> {
  const inWindow = (listId: string, productId: string) => async (): Promise<void> => {
    await stack.dataverse.update(ENTITY_SETS.product, productId, { price: 175 });
    const now = itemNow(stack, listId);
    inQuickBooks(stack, {
      type: 'ItemServiceMod',
      requestId: 'edit-again',
      fields: { listId, editSequence: now.editSequence, salesOrPurchase: { desc: 'Complete survey' } },
    });
  };

  const mooring = await pricedInDynamics(stack, 'Mooring Inspection');
  const v1 = inQuickBooks(stack, {
    type: 'ItemServiceMod',
    requestId: 'edit',
    fields: {
      listId: mooring.v0.listId,
      editSequence: mooring.v0.editSequence,
      salesOrPurchase: { desc: 'Chain and buoy check' },
    },
  }) as unknown as SyncedItem;
  const itemRunInWindow = await startItemRun(stack, v1);
  assert.equal(
    await cutSessionAfter(stack, '<ItemServiceModRq', 30, inWindow(v1.listId, mooring.productId)),
    true,
    'the item run’s Mod reached QuickBooks',
  );
  await untilCutWritesSettle(stack);
  await itemRunInWindow.result();
  const itemHistory = await historyOf(stack, itemRunInWindow.workflowId, itemRunInWindow.firstExecutionRunId);
  assert.equal(
    activityTypes(itemHistory).filter((t) => t === 'syncItemToDataverse').length,
    2,
    `the item run merged the version holding its Mod and the description edit: ${runSummary(itemHistory)}`,
  );

  const rigging = await pricedInDynamics(stack, 'Rigging Survey');
  const productRunInWindow = await stack.env.client.workflow.start(dataverseRecordSync, {
    workflowId: dataverseRecordWorkflowId('product', rigging.productId),
    taskQueue: 'sync-e2e',
    args: [{ connection: 'east', entity: 'product', id: rigging.productId, quietPeriodMs: 0 }],
  });
  assert.equal(
    await cutSessionAfter(stack, '<ItemServiceModRq', 30, inWindow(rigging.v0.listId, rigging.productId)),
    true,
    'the product run’s Mod reached QuickBooks',
  );
  await untilCutWritesSettle(stack);
  await productRunInWindow.result();
  const productHistory = await historyOf(stack, productRunInWindow.workflowId, productRunInWindow.firstExecutionRunId);
  assert.ok(
    activityTypes(productHistory).filter((t) => t === 'readProductForQuickBooks').length >= 2,
    `the product run merged the version holding its Mod and the description edit: ${runSummary(productHistory)}`,
  );
  console.log(`item run: ${runSummary(itemHistory)}`);
  console.log(`product run: ${runSummary(productHistory)}`);
  const prices = async (listId: string) => {
    const product = await stack.dataverse.retrieve(ENTITY_SETS.product, await productIdOf(stack, listId));
    const item = itemNow(stack, listId) as SyncedItem & { salesOrPurchase?: { price?: string } };
    return `${item.salesOrPurchase?.price} / ${String(product?.price)}`;
  };
  console.log(`prices: item ${await prices(v1.listId)}, product ${await prices(rigging.v0.listId)}`);
  return [
    {
      name: 'qb-east-item-lost-mod-beside-edit',
      workflowId: itemRunInWindow.workflowId,
      runId: itemRunInWindow.firstExecutionRunId,
    },
    {
      name: 'd365-product-lost-mod-beside-edit',
      workflowId: productRunInWindow.workflowId,
      runId: productRunInWindow.firstExecutionRunId,
    },
  ];
}

/**
 * A customer note holding `&#11;` (a vertical tab pasted from Word) makes QuickBooks' answer to the poll's customer read
 * unreadable, beside a Dynamics account to send to QuickBooks. Before `poll-cycle-unreadable-list-skipped` the cycle
 * failed at once on the rejected read; with it, the other lists and Dynamics synced and the cycle failed at its end.
 */
async function unreadableCustomerList(stack: SyncStack): Promise<RecordedRun[]> {
  const answer = stack.quickbooks.files.east!.processRequest(
    '<?xml version="1.0"?><?qbxml version="13.0"?><QBXML><QBXMLMsgsRq onError="stopOnError"><CustomerAddRq>' +
      '<CustomerAdd><Name>Pasted From Word Ltd</Name><Notes>first line&#11;second line</Notes></CustomerAdd>' +
      '</CustomerAddRq></QBXMLMsgsRq></QBXML>',
  );
  assert.doesNotMatch(answer, /statusSeverity="Error"/, answer);
  await stack.dataverse.create(ENTITY_SETS.account, { name: 'Vertical Tab Traders', customertypecode: 3 });
  const failure = await stack.cycle('east').then(
    () => 'completed',
    (err: unknown) => String((err as { cause?: Error }).cause?.message ?? err),
  );
  assert.match(failure, /the Customer list.*could not be read: .*&#11;/, 'the cycle failed on the customer read');
  const poll = await stack.env.client.workflow.getHandle('poll/east').describe();
  console.log(`poll: ${failure}\n${runSummary(await historyOf(stack, 'poll/east', poll.runId))}`);
  // The company file that asked the customer query again alone and then returned it rejected
  // (`company-file-unreadable-answers`).
  const companyFileRun = (await runChain(stack, 'qbfile/east')).find(({ history }) =>
    patchIdsOf(history).includes('company-file-unreadable-answers'),
  );
  assert.ok(companyFileRun, 'no company file run returned the unreadable answer');
  return [
    { name: 'pollCycle-unreadable-customers', workflowId: 'poll/east', runId: poll.runId },
    { name: 'qbfile-east-unreadable-customers', workflowId: 'qbfile/east', runId: companyFileRun.runId },
  ];
}

/**
 * Branches of patches older than `PATCHED_PATHS`' own recordings, taken on today's code so that a later change to them
 * fails a replay: a read whose iterator died with its session (`qbxml-iterator-restart`); a Dynamics account that is a
 * job of a paired account, whose Add's answer is lost, found by its full name (`dynamics-account-job-full-name`); and
 * the company file's run that answered the next Web Connector busy while that Add might still be executing, then let it
 * take over once the write settled (`company-file-busy-while-writing`, `company-file-writes-settle`).
 */
async function olderPatchedBranches(stack: SyncStack): Promise<RecordedRun[]> {
  const file = stack.quickbooks.files.east!;
  const read = await stack.env.client.workflow.start('quickbooksListRead', {
    workflowId: `read/east/customers/${randomUUID().slice(0, 8)}`,
    taskQueue: 'sync-e2e',
    args: [{ connection: 'east', list: 'Customer', pageSize: 5 }],
  });
  await new Promise((r) => setTimeout(r, 1000));
  // The Web Connector dies after the first page: QuickBooks ends the session and its iterator with it.
  const aborted = await stack.quickbooks
    .connector('east', companyFileProcessor(file))
    .runSession({ abortAfterRoundTrips: 1 });
  assert.equal(aborted.outcome, 'aborted');
  // `settle` waits for record runs only: the read's next sessions are driven here until it has its whole list.
  let readDone = false;
  const readResult = read.result().finally(() => (readDone = true));
  readResult.catch(() => undefined);
  for (let i = 0; i < 60 && !readDone; i++) {
    await stack.quickbooks.connector('east', companyFileProcessor(file)).runSession();
    await new Promise((r) => setTimeout(r, 300));
  }
  await readResult;
  const readHistory = await historyOf(stack, read.workflowId, read.firstExecutionRunId);
  assert.ok(patchIdsOf(readHistory).includes('qbxml-iterator-restart'), runSummary(readHistory));

  const parent = inQuickBooks(stack, {
    type: 'CustomerAdd',
    requestId: 'add',
    fields: { name: 'Keel Holdings', phone: '555-4410' },
  }) as CustomerRet;
  await customerRun(stack, parent);
  const parentAccountId = String((await accountOf(stack, parent.listId)).accountid);
  const jobId = randomUUID();
  await stack.dataverse.create(ENTITY_SETS.account, {
    accountid: jobId,
    name: 'Keel Refit 2027',
    'parentaccountid@odata.bind': `/accounts(${parentAccountId})`,
    // `readAccountForQuickBooks` takes the parent only when both rows name one company file; a new row names none
    // yet, and would become a top-level customer first (a job once the account is next synced).
    qbsync_companyfile: 'east',
  });
  const jobRun = await stack.env.client.workflow.start(dataverseRecordSync, {
    workflowId: dataverseRecordWorkflowId('account', jobId),
    taskQueue: 'sync-e2e',
    args: [{ connection: 'east', entity: 'account', id: jobId, quietPeriodMs: 0 }],
  });
  // The job's Add is applied and its answer lost: the company file answers the next Web Connector busy while that
  // write may still be executing, lets it take over once the write has settled, and the run finds the job it made by
  // its full name.
  assert.equal(await cutSessionAfter(stack, '<CustomerAddRq', 30), true, 'the job’s Add reached QuickBooks');
  await untilCutWritesSettle(stack);
  await jobRun.result();
  const jobHistory = await historyOf(stack, jobRun.workflowId, jobRun.firstExecutionRunId);
  assert.ok(patchIdsOf(jobHistory).includes('dynamics-account-job-full-name'), runSummary(jobHistory));

  const companyFileRuns = (await runChain(stack, 'qbfile/east')).filter(({ history }) => {
    const patches = patchIdsOf(history);
    return patches.includes('company-file-busy-while-writing') && patches.includes('company-file-writes-settle');
  });
  assert.ok(companyFileRuns.length > 0, 'no company file run answered busy, then let a settled session take over');
  return [
    { name: 'quickbooksListRead-iterator-restart', workflowId: read.workflowId, runId: read.firstExecutionRunId },
    { name: 'd365-account-job-full-name', workflowId: jobRun.workflowId, runId: jobRun.firstExecutionRunId },
    { name: 'qbfile-east-busy-then-settled', workflowId: 'qbfile/east', runId: companyFileRuns[0]!.runId },
  ];
}

/**
 * A batch large enough to write its customers in record groups (`record-batch-groups`): eleven customers, one of
 * which cannot be mapped (a customer type with no Dynamics option) and goes to its own run, which fails naming it.
 */
async function recordGroups(stack: SyncStack): Promise<RecordedRun[]> {
  const tag = randomUUID().slice(0, 4).toUpperCase();
  const records: CustomerRet[] = Array.from({ length: 11 }, (_, i) => ({
    kind: 'Customer',
    listId: `8000${tag}${i.toString(16).toUpperCase()}-1790000000`,
    editSequence: '1790000000',
    name: `Grouped Outfitters ${tag} ${i}`,
    fullName: `Grouped Outfitters ${tag} ${i}`,
    lastName: `Buyer ${i}`,
    timeModified: '2026-12-07T09:00:00+00:00',
    ...(i === 7 ? { customerTypeRef: { fullName: 'No Such Type' } } : {}),
  }));
  const batchId = `poll/east/record-groups-${tag}/customer-1`;
  const result = await stack.env.client.workflow.execute(quickbooksRecordBatch, {
    workflowId: batchId,
    taskQueue: 'sync-e2e',
    args: [
      {
        connection: 'east',
        entity: 'customer',
        records,
        withRecord: true,
        settings: { ...stack.settings.get('east')!, recordGroupsFrom: 10 },
        choices: noChoices,
        wave: 10,
      },
    ],
  });
  assert.deepEqual(result.outcomes, { 'customer:created': 10, 'customer:failed': 1 }, JSON.stringify(result));
  const batch = await stack.env.client.workflow.getHandle(batchId).describe();
  const group = await stack.env.client.workflow.getHandle(`${batchId}/group-1`).describe();
  assert.ok(patchIdsOf(await historyOf(stack, batchId, batch.runId)).includes('record-batch-groups'));
  return [
    { name: 'quickbooksRecordBatch-groups', workflowId: batchId, runId: batch.runId },
    { name: 'quickbooksRecordGroup', workflowId: group.workflowId, runId: group.runId },
  ];
}

/**
 * Five accounts created in Dynamics at once, each its own run sending a look-up and then an Add: the company file pauses
 * a round trip while they still arrive (`company-file-gather-arrivals`).
 */
async function gatherArrivals(stack: SyncStack): Promise<RecordedRun[]> {
  const tag = randomUUID().slice(0, 4).toUpperCase();
  const ids = Array.from({ length: 5 }, () => randomUUID());
  await Promise.all(
    ids.map((accountid, i) =>
      stack.dataverse.create(ENTITY_SETS.account, { accountid, name: `Arriving Together ${tag} ${i}` }),
    ),
  );
  const runs = await Promise.all(
    ids.map((id) =>
      stack.env.client.workflow.start(dataverseRecordSync, {
        workflowId: dataverseRecordWorkflowId('account', id),
        taskQueue: 'sync-e2e',
        args: [{ connection: 'east', entity: 'account', id, quietPeriodMs: 0 }],
      }),
    ),
  );
  await stack.settle();
  for (const run of runs) await run.result();
  const companyFileRun = (await runChain(stack, 'qbfile/east')).find(({ history }) =>
    patchIdsOf(history).includes('company-file-gather-arrivals'),
  );
  assert.ok(companyFileRun, 'no company file run paused for requesters still arriving');
  assert.ok(patchIdsOf(companyFileRun.history).includes('company-file-lookups-by-count'));
  return [{ name: 'qbfile-east-gather-arrivals', workflowId: 'qbfile/east', runId: companyFileRun.runId }];
}

/** A new account and its order, seen by one poll cycle: the order starts once the account's run made the customer. */
async function ordersAfterNewAccounts(stack: SyncStack): Promise<RecordedRun[]> {
  const accountId = randomUUID();
  await stack.dataverse.create(ENTITY_SETS.account, { accountid: accountId, name: 'Waited For Traders' });
  await enterOrder(stack, accountId, 'Order of a new account', 2);
  await stack.cycle('east');
  await stack.settle();
  const poll = await stack.env.client.workflow.getHandle('poll/east').describe();
  const history = await historyOf(stack, 'poll/east', poll.runId);
  assert.ok(patchIdsOf(history).includes('poll-cycle-orders-after-new-accounts'), runSummary(history));
  return [{ name: 'pollCycle-orders-after-new-accounts', workflowId: 'poll/east', runId: poll.runId }];
}

/**
 * The east initial sync with a window of 5 ids, in pages of ten and a short history: the demo company's customers were
 * all stamped in the second it was made, so the first page's window would pass the count, and the cycle gives that
 * second up (`poll-cycle-crowded-instant-skipped`). The run that asked, and the run after it (which made the seen
 * lists again from the window carried), are written.
 */
async function crowdedInstant(stack: SyncStack): Promise<RecordedRun[]> {
  const result = await stack.cycle('east', { historyLimit: SHORT_HISTORY, pageSize: SMALL_PAGE, overlapIdsAtMost: 5 });
  const runs = await runChain(stack, 'poll/east');
  const at = runs.findIndex((run) => patchIdsOf(run.history).includes('poll-cycle-crowded-instant-skipped'));
  const [asked, next] = [runs[at], runs[at + 1]];
  assert.ok(
    asked && next,
    `a run asked and continued as new: ${runs.length} runs (${runs.map((r) => r.history.events?.length).join(', ')}), the patch in run ${at}; ${JSON.stringify(result.handedOff)}`,
  );
  assert.ok(asked.history.events?.at(-1)?.workflowExecutionContinuedAsNewEventAttributes, 'it handed over');
  assert.ok((result.handedOff['qb:customer'] ?? 0) > 5, 'more customers than the window keeps were handed off');
  const cursors = await stack.env.client.workflow.getHandle(companyFileWorkflowId('east')).query(syncCursorsQuery);
  assert.ok(cursors['qb:Customer:from'], `the next read starts after the crowded second: ${JSON.stringify(cursors)}`);
  return [
    { name: 'pollCycle-crowded-instant', workflowId: 'poll/east', runId: asked.runId },
    { name: 'pollCycle-crowded-instant-next', workflowId: 'poll/east', runId: next.runId },
  ];
}

/**
 * qbfile/west on small limits (a 24 KB history hands over, at most 6 KB handed over): three batches of Adds with long
 * notes arrive before any session, so the handover is due while the queue alone is over the limit. The run serves on
 * until the Web Connector has taken enough (`company-file-handover-within-payload-limit`).
 */
async function handoverWithinLimit(stack: SyncStack): Promise<RecordedRun[]> {
  const handle = stack.env.client.workflow.getHandle(companyFileWorkflowId('west'));
  const running = await handle.describe().then(
    (d) => d.status.name === 'RUNNING',
    () => false,
  );
  // The small limits take only at a start: record this scenario alone (`handover-within-limit`) or after a restart.
  if (running) await handle.terminate('recording the handover on small limits');
  const note = 'Carried over from the old ledger. '.repeat(12).slice(0, 400);
  for (let b = 0; b < 3; b++) {
    await stack.env.client.workflow.signalWithStart(companyFile, {
      workflowId: companyFileWorkflowId('west'),
      taskQueue: 'sync-e2e',
      args: [{ connection: 'west', limits: { maxHistoryBytes: 24 * 1024, handoverMaxBytes: 6 * 1024 } }],
      signal: enqueueQbxmlSignal,
      signalArgs: [
        {
          requester: 'handover-recording',
          batchId: `handover-${b}`,
          requests: Array.from({ length: 20 }, (_, i) => ({
            type: 'CustomerAdd' as const,
            requestId: `handover-${b}-${i}`,
            fields: { name: `Handed Over ${b}-${i}`, notes: note },
          })),
        },
      ],
    });
  }
  const first = await handle.describe();
  for (let i = 0; i < 30; i++) {
    if ((await stack.env.client.workflow.getHandle(first.workflowId, first.runId).describe()).status.name !== 'RUNNING')
      break;
    await stack.connectors.west!.runSession();
  }
  const history = await historyOf(stack, first.workflowId, first.runId);
  assert.ok(patchIdsOf(history).includes('company-file-handover-within-payload-limit'), runSummary(history));
  return [{ name: 'qbfile-west-handover-within-limit', workflowId: first.workflowId, runId: first.runId }];
}

/**
 * 120 customers of 16 KB (call notes) make a page of 100 too large for one Update: the company file asks the poll's
 * customer read again for half its page, and the cycle reads them all.
 */
async function halvedPage(stack: SyncStack): Promise<RecordedRun[]> {
  const notes = Array.from(
    { length: 4 },
    (_, n) => `<AdditionalNotes><Note>${`${n} `.padEnd(4000, 'call notes ')}</Note></AdditionalNotes>`,
  );
  for (let b = 0; b < 120; b += 20) {
    const adds = Array.from(
      { length: 20 },
      (_, i) =>
        `<CustomerAddRq><CustomerAdd><Name>Long Notes ${b + i}</Name>${notes.join('')}</CustomerAdd></CustomerAddRq>`,
    ).join('');
    const answer = stack.quickbooks.files.east!.processRequest(
      `<?xml version="1.0"?><?qbxml version="13.0"?><QBXML><QBXMLMsgsRq onError="stopOnError">${adds}</QBXMLMsgsRq></QBXML>`,
    );
    assert.doesNotMatch(answer, /statusSeverity="Error"/, answer);
  }
  await stack.cycle('east');
  const companyFileRun = (await runChain(stack, 'qbfile/east')).find(({ history }) =>
    patchIdsOf(history).includes('company-file-halve-unreadable-page'),
  );
  assert.ok(companyFileRun, 'no company file run asked for half a page');
  return [{ name: 'qbfile-east-halved-page', workflowId: 'qbfile/east', runId: companyFileRun.runId }];
}

/**
 * 300 customers of 4 KB of notes, fewer than a batch's 500 and more than its 1 MB: the poll cycle cuts their batch by
 * its bytes (`poll-cycle-batch-bytes`) and every customer reaches Dynamics.
 */
async function batchBytes(stack: SyncStack): Promise<RecordedRun[]> {
  const notes = `<Notes>${'Batch bytes: '.padEnd(4000, 'call notes ')}</Notes>`;
  for (let b = 0; b < 300; b += 50) {
    const adds = Array.from(
      { length: 50 },
      (_, i) => `<CustomerAddRq><CustomerAdd><Name>Noted ${b + i}</Name>${notes}</CustomerAdd></CustomerAddRq>`,
    ).join('');
    const answer = stack.quickbooks.files.east!.processRequest(
      `<?xml version="1.0"?><?qbxml version="13.0"?><QBXML><QBXMLMsgsRq onError="stopOnError">${adds}</QBXMLMsgsRq></QBXML>`,
    );
    assert.doesNotMatch(answer, /statusSeverity="Error"/, answer);
  }
  const result = await stack.cycle('east');
  assert.ok((result.handedOff['qb:customer'] ?? 0) >= 300, JSON.stringify(result.handedOff));
  const cut = (await runChain(stack, 'poll/east')).find(({ history }) =>
    patchIdsOf(history).includes('poll-cycle-batch-bytes'),
  );
  assert.ok(cut, 'no poll cycle run cut a batch by its bytes');
  return [{ name: 'pollCycle-batch-bytes', workflowId: 'poll/east', runId: cut.runId }];
}

/**
 * An order whose invoice the customer pays the moment QuickBooks has it, before the order's run hears its answer: the
 * run records the invoice, reads it again (`sales-order-invoice-balance-after-record`) and records the payment.
 */
async function balanceAfterRecord(stack: SyncStack): Promise<RecordedRun[]> {
  // An invoice, whatever an earlier scenario of the same recording made of the setting (`salesOrder`).
  stack.settings.get('east')!.invoices.via = 'invoice';
  await stack.cycle('east');
  await stack.settle();
  const orderId = await enterOrder(stack, demoAccountId('Blue Yonder Airlines'), 'Paid before it was recorded', 1);
  let paid = false;
  stack.hooks.afterProcess = (office, xml) => {
    const ref = /<InvoiceAddRq[\s\S]*?<RefNumber>([^<]+)<\/RefNumber>/.exec(xml)?.[1];
    if (!paid && office === 'east' && ref) {
      const invoice = inQuickBooks(stack, { type: 'InvoiceQuery', requestId: 'paid', refNumbers: [ref] }) as InvoiceRet;
      stack.quickbooks.files.east!.payInvoice(invoice.txnId, invoice.balanceRemaining ?? '0');
      paid = true;
    }
    return Promise.resolve();
  };
  const workflowId = dataverseRecordWorkflowId('salesorder', orderId);
  try {
    await announceOrder(stack, orderId);
    await stack.settle();
  } finally {
    stack.hooks.afterProcess = undefined;
  }
  assert.ok(paid, 'the invoice was paid before its answer went back');
  const chain = await runChain(stack, workflowId);
  const run = chain.find(({ history }) => activityTypes(history).includes('recordInvoicePayment'));
  assert.ok(run, chain.map(({ history }) => runSummary(history)).join('\n'));
  return [{ name: 'd365-salesorder-balance-after-record', workflowId, runId: run.runId }];
}

/**
 * Three customers deleted in QuickBooks, read by a cycle that continues as new after a page, with a carry budget of one
 * byte: the run that read the deletions hands them off before it continues as new (`poll-cycle-carry-settled`).
 */
async function carrySettled(stack: SyncStack): Promise<RecordedRun[]> {
  const east = stack.quickbooks.files.east!;
  const ask = (body: string): string =>
    east.processRequest(
      `<?xml version="1.0"?><?qbxml version="13.0"?><QBXML><QBXMLMsgsRq onError="stopOnError">${body}</QBXMLMsgsRq></QBXML>`,
    );
  const names = ['Settled One', 'Settled Two', 'Settled Three'];
  assert.doesNotMatch(
    ask(names.map((n) => `<CustomerAddRq><CustomerAdd><Name>${n}</Name></CustomerAdd></CustomerAddRq>`).join('')),
    /statusSeverity="Error"/,
  );
  await stack.cycle('east');
  await stack.settle();
  for (const name of names) {
    const customer = inQuickBooks(stack, { type: 'CustomerQuery', requestId: 'c', fullNames: [name] }) as CustomerRet;
    assert.doesNotMatch(
      ask(`<ListDelRq><ListDelType>Customer</ListDelType><ListID>${customer.listId}</ListID></ListDelRq>`),
      /statusSeverity="Error"/,
    );
  }
  assert.doesNotMatch(
    ask(
      Array.from(
        { length: 25 },
        (_, i) => `<CustomerAddRq><CustomerAdd><Name>Settled filler ${i}</Name></CustomerAdd></CustomerAddRq>`,
      ).join(''),
    ),
    /statusSeverity="Error"/,
  );
  await stack.cycle('east', { historyLimit: 1, pageSize: 10, carriedFactsBytesAtMost: 1 });
  await stack.settle();
  const settled = (await runChain(stack, 'poll/east')).find(({ history }) =>
    patchIdsOf(history).includes('poll-cycle-carry-settled'),
  );
  assert.ok(settled, 'no poll cycle run handed its deletions off before it continued as new');
  return [{ name: 'pollCycle-carry-settled', workflowId: 'poll/east', runId: settled.runId }];
}

async function main(): Promise<void> {
  const label = process.argv[2] ?? 'recorded';
  const env = await startTestTemporal();
  const stack = await startSyncStack(env);
  try {
    const named = process.argv.slice(3);
    const runs: RecordedRun[] = [];
    if (named.length === 0 || named.includes('streamed')) runs.push(...(await streamedReadContinuedAsNew(stack)));
    if (named.length === 0 || named.includes('salesOrder')) {
      await stack.settle(120);
      runs.push(...(await salesOrderMode(stack)));
    }
    if (named.length === 0 || named.includes('superseded')) runs.push(...(await supersededQuickBooksVersion(stack)));
    if (named.length === 0 || named.includes('lost-mod-window'))
      runs.push(...(await lostModBesideQuickBooksEdit(stack)));
    if (named.length === 0 || named.includes('item-lost-mod-window'))
      runs.push(...(await lostItemModBesideQuickBooksEdit(stack)));
    if (named.length === 0 || named.includes('unreadable')) runs.push(...(await unreadableCustomerList(stack)));
    if (named.length === 0 || named.includes('older-patches')) runs.push(...(await olderPatchedBranches(stack)));
    if (named.length === 0 || named.includes('record-groups')) runs.push(...(await recordGroups(stack)));
    if (named.length === 0 || named.includes('gather-arrivals')) runs.push(...(await gatherArrivals(stack)));
    if (named.length === 0 || named.includes('handover-within-limit')) runs.push(...(await handoverWithinLimit(stack)));
    if (named.length === 0 || named.includes('orders-after-new-accounts'))
      runs.push(...(await ordersAfterNewAccounts(stack)));
    if (named.length === 0 || named.includes('crowded-instant')) runs.push(...(await crowdedInstant(stack)));
    if (named.length === 0 || named.includes('halve-page')) runs.push(...(await halvedPage(stack)));
    if (named.length === 0 || named.includes('batch-bytes')) runs.push(...(await batchBytes(stack)));
    if (named.length === 0 || named.includes('balance-after-record')) runs.push(...(await balanceAfterRecord(stack)));
    if (named.length === 0 || named.includes('carry-settled')) runs.push(...(await carrySettled(stack)));
    for (const { name, workflowId, runId } of runs) {
      const history = await historyOf(stack, workflowId, runId);
      const file = await writeHistoryFixture(`${label}-${name}`, workflowId, history);
      console.log(`${workflowId} ${runId} (${history.events?.length ?? 0} events) → ${file}`);
    }
  } finally {
    await stack.close();
    await env.teardown();
  }
}

void main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
