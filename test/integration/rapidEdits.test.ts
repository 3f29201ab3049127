import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { ENTITY_SETS, qbListKey } from '../../src/dataverse/entities';
import { temporalRecordSyncStarter } from '../../src/gateway/webhooks/recordSyncStarter';
import { dataverseRecordWorkflowId } from '../../src/mapping/entityRegistry';
import { decodeSyncBase } from '../../src/mapping/syncBase';
import { parseQbxmlResponse } from '../../src/qbxml/parse';
import type { CustomerRet } from '../../src/qbxml/requests';
import type { DataverseChangeSummary } from '../../src/workflows/dataverseChangeSummary';
import { dataverseChangedSignal } from '../../src/workflows/dataverseRecordSync';
import {
  companyFileStatusQuery,
  companyFileWorkflowId,
  forgetOwnWritesSignal,
  ownWritesQuery,
  rememberOwnWritesSignal,
} from '../../src/workflows/companyFile/messages';
import { collectedChangesQuery } from '../fixtures/changeCollector';
import { syncStackSuite } from '../support/syncStackSuite';

/**
 * Issue 11, the chaos run's lost edits: several quick edits of one Dynamics account's phone ended in QuickBooks (and
 * back in Dynamics) on an earlier value. The account's run reads the row, then waits for the Web Connector; the person
 * saves again meanwhile, and the webhooks of the saves arrive twice and out of order. Each test holds the run at that
 * point (no QBWC session is run until the edits are made), then lets QuickBooks answer: both systems must end on the
 * last value. Real Temporal dev server, the Dataverse sandbox and the QuickBooks simulators behind the real gateway.
 */
describe('rapid edits of one Dynamics account end on the last value in both systems', () => {
  const customer = (listId: string): CustomerRet => {
    const xml = `<?xml version="1.0" encoding="utf-8"?><?qbxml version="13.0"?><QBXML><QBXMLMsgsRq onError="stopOnError"><CustomerQueryRq><ListID>${listId}</ListID></CustomerQueryRq></QBXMLMsgsRq></QBXML>`;
    const [response] = parseQbxmlResponse(suite.stack.quickbooks.files.east!.processRequest(xml));
    const found = response?.records[0] as CustomerRet | undefined;
    assert.ok(found, `customer ${listId} exists`);
    return found;
  };
  const customerNamed = (name: string): CustomerRet => {
    const xml = `<?xml version="1.0" encoding="utf-8"?><?qbxml version="13.0"?><QBXML><QBXMLMsgsRq onError="stopOnError"><CustomerQueryRq><FullName>${name}</FullName></CustomerQueryRq></QBXMLMsgsRq></QBXML>`;
    const [response] = parseQbxmlResponse(suite.stack.quickbooks.files.east!.processRequest(xml));
    const found = response?.records[0] as CustomerRet | undefined;
    assert.ok(found, `customer ${name} exists`);
    return found;
  };
  /** The account paired with an east customer, by the customer's name. */
  const pairedAccount = async (name: string): Promise<{ accountId: string; listId: string }> => {
    const { listId } = customerNamed(name);
    const row = await suite.stack.dataverse.retrieve(ENTITY_SETS.account, qbListKey('east', listId));
    assert.ok(row, `the account of ${name} is paired`);
    return { accountId: String(row.accountid), listId };
  };
  const account = async (accountId: string): Promise<Record<string, unknown>> => {
    const row = await suite.stack.dataverse.retrieve(ENTITY_SETS.account, accountId);
    assert.ok(row, `account ${accountId} exists`);
    return row;
  };
  /** A person saving the account's phone in Dynamics (no connector tag), and the webhook that save sends. */
  const save = async (accountId: string, phone: string): Promise<DataverseChangeSummary> => {
    await suite.stack.dataverse.update(ENTITY_SETS.account, accountId, { telephone1: phone });
    const row = await account(accountId);
    return {
      messageName: 'Update',
      entity: 'account',
      id: accountId,
      modifiedOn: String(row.modifiedon),
      operationId: randomUUID(),
      changedAttributes: ['telephone1', 'modifiedon'],
      needsRead: false,
    };
  };
  /** Webhook deliveries, in the order given, to the gateway's starter (signal-with-start on the row's workflow id). */
  const deliver = async (...changes: DataverseChangeSummary[]): Promise<void> => {
    const start = temporalRecordSyncStarter(suite.env.client, 'sync-e2e', { quietPeriodMs: 0 });
    for (const change of changes) await start(change, 'east');
  };
  /** Waits until the row's run has read the row `times` times (it then waits for QuickBooks). */
  const rowRead = async (accountId: string, times = 1): Promise<void> => {
    const handle = suite.env.client.workflow.getHandle(dataverseRecordWorkflowId('account', accountId));
    for (let i = 0; i < 200; i++) {
      const events = (await handle.fetchHistory()).events ?? [];
      const reads = new Set(
        events
          .filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'readAccountForQuickBooks')
          .map((e) => String(e.eventId)),
      );
      const done = events.filter((e) =>
        reads.has(String(e.activityTaskCompletedEventAttributes?.scheduledEventId ?? '')),
      ).length;
      if (done >= times) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.fail(`the run of account ${accountId} never read the row`);
  };
  const assertBothOn = async (accountId: string, listId: string, phone: string): Promise<void> => {
    assert.equal(customer(listId).phone, phone, 'QuickBooks ends on the last value');
    const row = await account(accountId);
    assert.equal(row.telephone1, phone, 'Dynamics is not written back with an older value');
    assert.equal(decodeSyncBase(String(row.qbsync_syncbase))?.telephone1, phone, 'the sync base is the last value');
  };

  const suite = syncStackSuite(async ({ stack }) => {
    await stack.cycle('east');
    await stack.settle();
  });

  it('two saves: the run read the first, the second comes while it waits for QuickBooks, webhooks late and reversed', async () => {
    const { accountId, listId } = await pairedAccount('Harbor Lights Cafe');
    const first = await save(accountId, '617-555-1001');
    await deliver(first);
    await rowRead(accountId);
    const second = await save(accountId, '617-555-1002');
    await deliver(second, first); // the first save's webhook delivered again, after the second's
    await suite.stack.settle();
    await assertBothOn(accountId, listId, '617-555-1002');
  });

  it('three saves: the run read the first, the webhooks of all three arrive late and out of order', async () => {
    const { accountId, listId } = await pairedAccount('Keystone Builders');
    const first = await save(accountId, '215-555-2001');
    await deliver(first);
    await rowRead(accountId);
    const second = await save(accountId, '215-555-2002');
    const third = await save(accountId, '215-555-2003');
    await deliver(third, first, second);
    await suite.stack.settle();
    await assertBothOn(accountId, listId, '215-555-2003');
  });

  it('a new account saved again before its pairing was written: the customer ends on the second save', async () => {
    const created = await suite.stack.dataverse.create(ENTITY_SETS.account, {
      name: 'Rapid Edit Traders',
      customertypecode: 3,
      telephone1: '603-555-5001',
      qbsync_companyfile: 'east',
    });
    const accountId = String(created.id);
    await deliver({
      messageName: 'Create',
      entity: 'account',
      id: accountId,
      operationId: randomUUID(),
      changedAttributes: ['name', 'telephone1'],
      needsRead: false,
    });
    await rowRead(accountId);
    const edit = await save(accountId, '603-555-5002');
    await deliver(edit);
    await suite.stack.settle();
    const row = await account(accountId);
    const { listId } = customerNamed('Rapid Edit Traders');
    assert.equal(row.qbsync_qblistid, listId, 'the account is paired with the customer made from it');
    await assertBothOn(accountId, listId, '603-555-5002');
  });

  it('a save announced while the run syncs a row it found in agreement reaches QuickBooks without waiting for a poll', async () => {
    const { accountId, listId } = await pairedAccount('Green Mountain Books');
    const before = customer(listId).phone;
    // A delivery of an old change: the run reads the row, finds both systems in agreement, asks QuickBooks to be sure.
    await deliver({
      messageName: 'Update',
      entity: 'account',
      id: accountId,
      operationId: randomUUID(),
      changedAttributes: ['description'],
      needsRead: false,
    });
    await rowRead(accountId);
    const edit = await save(accountId, '802-555-3001');
    await deliver(edit);
    await suite.stack.settle();
    assert.notEqual(before, '802-555-3001');
    await assertBothOn(accountId, listId, '802-555-3001');
  });

  it('a poll notice does not hold a quiet period open: the poll finds the row again every cycle until it is synced', async () => {
    const { accountId } = await pairedAccount('Pine State Outfitters');
    const workflowId = dataverseRecordWorkflowId('account', accountId);
    const change: DataverseChangeSummary = {
      messageName: 'Update',
      entity: 'account',
      id: accountId,
      operationId: randomUUID(),
      changedAttributes: ['telephone1'],
      needsRead: false,
    };
    // A quiet period far longer than the signals below take to arrive, so each lands inside it.
    await temporalRecordSyncStarter(suite.env.client, 'sync-e2e', { quietPeriodMs: 15_000 })(change, 'east');
    const run = suite.env.client.workflow.getHandle(workflowId);
    await run.signal(dataverseChangedSignal, { ...change, foundByPoll: true, needsRead: true });
    await run.signal(dataverseChangedSignal, { ...change, foundByPoll: true, needsRead: true });
    await rowRead(accountId);
    // Only the quiet period's timers (15 s): by now the run may already wait on QuickBooks, under a timer of its own.
    const quietWaits = ((await run.fetchHistory()).events ?? []).filter(
      (e) => Number(e.timerStartedEventAttributes?.startToFireTimeout?.seconds ?? -1) === 15,
    ).length;
    assert.equal(quietWaits, 1, 'the poll notices started the quiet period over');
    await suite.stack.settle();
  });

  it('a write QuickBooks answered after a poll began and before its read is an echo to that poll, not a change', async () => {
    const target = customerNamed('Capitol Dental Group');
    const companyFile = suite.env.client.workflow.getHandle(companyFileWorkflowId('east'));
    // A connector flow's Mod, queued before the poll's read (the fixture stands for any flow writing QuickBooks).
    const rename = await suite.env.client.workflow.start('renameCustomer', {
      workflowId: `fixture/rename/${randomUUID()}`,
      taskQueue: 'sync-e2e',
      args: ['east', target, 'Capitol Dental Group PC'],
    });
    for (let i = 0; i < 100 && (await companyFile.query(companyFileStatusQuery)).queued === 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    const cycle = await suite.stack.cycle('east');
    await rename.result();
    const written = customer(target.listId);
    assert.equal(written.companyName, 'Capitol Dental Group PC');
    assert.equal(cycle.handedOff['qb:customer'] ?? 0, 0, 'the poll read the connector’s own write back as a change');
    // The poll read that version, so the company file forgets it.
    assert.equal((await companyFile.query(ownWritesQuery))[target.listId], undefined);
  });

  it('a poll forgets only the version of an own write it read: one remembered after its read stays', async () => {
    const companyFile = suite.env.client.workflow.getHandle(companyFileWorkflowId('east'));
    await companyFile.signal(rememberOwnWritesSignal, { '80000999-0000000001': '1796000002' });
    await companyFile.signal(forgetOwnWritesSignal, { '80000999-0000000001': '1796000001' });
    assert.equal((await companyFile.query(ownWritesQuery))['80000999-0000000001'], '1796000002');
    await companyFile.signal(forgetOwnWritesSignal, { '80000999-0000000001': '1796000002' });
    assert.equal((await companyFile.query(ownWritesQuery))['80000999-0000000001'], undefined);
  });

  it('a poll that finds a row whose run is still busy tells that run, before its cursor moves past the change', async () => {
    const { accountId } = await pairedAccount('Empire Office Supply');
    const workflowId = dataverseRecordWorkflowId('account', accountId);
    const busy = await suite.env.client.workflow.start('dataverseChangeCollector', {
      workflowId,
      taskQueue: 'sync-e2e',
    });
    try {
      await save(accountId, '518-555-4001');
      const cycle = await suite.stack.cycle('east');
      assert.ok(cycle.dynamicsIds.includes(workflowId), 'the poll found the row');
      const told = await busy.query(collectedChangesQuery);
      assert.deepEqual(
        told.map((c) => [c.entity, c.id, c.needsRead, c.foundByPoll]),
        [['account', accountId, true, true]],
      );
    } finally {
      await busy.terminate('test over');
    }
  });

  it('a row saved again before each of its write-backs is synced afresh once quiet, not failed', async () => {
    const { accountId, listId } = await pairedAccount('Brandywine Florist');
    let savesDuringSync = 0;
    // A person saves the account each time QuickBooks has applied the run's Mod, before the run writes back: every
    // write-back of the run (ROW_MERGE_ATTEMPTS of them) finds a newer row.
    suite.stack.hooks.afterProcess = async (connection, xml) => {
      if (connection !== 'east' || !xml.includes('<CustomerModRq') || !xml.includes(listId)) return;
      if (savesDuringSync >= 3) return;
      savesDuringSync += 1;
      await save(accountId, `202-555-600${savesDuringSync}`);
    };
    try {
      await deliver(await save(accountId, '202-555-6000'));
      await rowRead(accountId); // the run is under way (the list settle() asks may not show it yet)
      await suite.stack.settle(80);
    } finally {
      delete suite.stack.hooks.afterProcess;
    }
    assert.equal(savesDuringSync, 3, 'each write-back of the first run met a newer save');
    const runs = await suite.stack.recordRuns(`WorkflowId = '${dataverseRecordWorkflowId('account', accountId)}'`);
    assert.deepEqual(
      runs.filter((r) => r.status.name === 'FAILED').map((r) => r.runId),
      [],
      'no run of the row failed',
    );
    await assertBothOn(accountId, listId, '202-555-6003');
  });

  it('a QuickBooks edit made after the run read the customer is merged, not overwritten by the run’s Mod', async () => {
    const { accountId, listId } = await pairedAccount('Hudson Valley Farms');
    let editedInQuickBooks = false;
    // The run has read the customer; a second later someone edits its phone in QuickBooks, before the run's Mod.
    suite.stack.hooks.afterProcess = async (connection, xml) => {
      if (connection !== 'east' || editedInQuickBooks || !xml.includes('<CustomerQueryRq') || !xml.includes(listId))
        return;
      editedInQuickBooks = true;
      await new Promise((r) => setTimeout(r, 1_100)); // a later second than the Dynamics save: latest wins
      const current = customer(listId);
      const [answer] = parseQbxmlResponse(
        suite.stack.quickbooks.files.east!.processRequest(
          `<?xml version="1.0" encoding="utf-8"?><?qbxml version="13.0"?><QBXML><QBXMLMsgsRq onError="stopOnError"><CustomerModRq><CustomerMod><ListID>${listId}</ListID><EditSequence>${current.editSequence}</EditSequence><Phone>914-555-7002</Phone></CustomerMod></CustomerModRq></QBXMLMsgsRq></QBXML>`,
        ),
      );
      assert.equal(answer?.statusCode, 0, 'the QuickBooks edit was saved');
    };
    try {
      await deliver(await save(accountId, '914-555-7001'));
      await rowRead(accountId);
      await suite.stack.settle(80);
    } finally {
      delete suite.stack.hooks.afterProcess;
    }
    assert.ok(editedInQuickBooks, 'QuickBooks was edited between the read and the Mod');
    await assertBothOn(accountId, listId, '914-555-7002');
  });
  // Issue 11, finding (b): chaos seed 1 (300 faults) lost a QuickBooks edit (west 8000002C: Dynamics 555-6954, Dynamics
  // 555-3263, QuickBooks 555-2920; both systems ended on 555-3263). The run of the first save has QuickBooks take it;
  // the person saves again, someone edits the phone in QuickBooks after that save, and only then does the run write
  // the sync base over the second save (its write-back found the row changed). That write moved the row's modifiedon
  // past the QuickBooks edit, so "later change wins" weighed the write, not the save, and the older value won.
  it('a QuickBooks edit made after a second Dynamics save, before the run wrote over that save, wins', async () => {
    const { accountId, listId } = await pairedAccount('Cape Cod Marine');
    let edited = false;
    suite.stack.hooks.afterProcess = async (connection, xml) => {
      if (connection !== 'east' || edited || !xml.includes('<CustomerModRq') || !xml.includes(listId)) return;
      edited = true;
      // QuickBooks applied the run's Mod (the first save); its answer is not back yet.
      await save(accountId, '508-555-3263');
      await new Promise((r) => setTimeout(r, 1_100)); // the QuickBooks edit is a later second than the save
      const current = customer(listId);
      const [answer] = parseQbxmlResponse(
        suite.stack.quickbooks.files.east!.processRequest(
          `<?xml version="1.0" encoding="utf-8"?><?qbxml version="13.0"?><QBXML><QBXMLMsgsRq onError="stopOnError"><CustomerModRq><CustomerMod><ListID>${listId}</ListID><EditSequence>${current.editSequence}</EditSequence><Phone>508-555-2920</Phone></CustomerMod></CustomerModRq></QBXMLMsgsRq></QBXML>`,
        ),
      );
      assert.equal(answer?.statusCode, 0, 'the QuickBooks edit was saved');
      await new Promise((r) => setTimeout(r, 1_100)); // the run's write over the save is a later second still
    };
    try {
      await deliver(await save(accountId, '508-555-6954'));
      await rowRead(accountId);
      await suite.stack.settle(80);
    } finally {
      delete suite.stack.hooks.afterProcess;
    }
    assert.ok(edited, 'the second save and the QuickBooks edit came between the run’s Mod and its write-back');
    await assertBothOn(accountId, listId, '508-555-2920');
  });
});
