import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { parseQbxmlResponse } from '../../src/qbxml/parse';
import type { CustomerRet } from '../../src/qbxml/requests';
import {
  companyFileStatusQuery,
  companyFileWorkflowId,
  enqueueQbxmlSignal,
  ownWritesQuery,
  takeRequestsUpdate,
  type QbxmlBatch,
} from '../../src/workflows/companyFile/messages';
import { companyFile } from '../../src/workflows/companyFile/workflow';
import type { WebConnectorSimulator } from '../../src/sandbox/webConnector/webConnectorSimulator';
import { qbxmlProbe, renameCustomer } from '../fixtures/workflows';
import { customerAddXml, driveSessions, useQuickBooksStack } from '../support/quickbooksStack';

const taskQueue = 'company-file-queue-test';
/** qbfile/west's writeSettleMs in the tests of a dying session: long enough for a loaded machine to ask within it. */
const SETTLE_MS = 4_000;

/**
 * Runs sessions until `reached` (a request got to QuickBooks): the first may come before the requester's enqueue did.
 * The session that reaches it never ends, as a Web Connector that died there.
 */
async function runUntil(connector: WebConnectorSimulator, reached: Promise<void>): Promise<void> {
  let hit = false;
  void reached.then(() => (hit = true));
  for (let i = 0; i < 200 && !hit; i++) {
    await connector.runSession().catch(() => undefined);
    if (!hit) await new Promise((r) => setTimeout(r, 150));
  }
}

describe('the company file’s queue (real Temporal, gateway, Web Connector simulator)', () => {
  const suite = useQuickBooksStack(taskQueue, { callTimeoutMs: 15_000 });

  const customersNamed = (name: string): number =>
    parseQbxmlResponse(
      suite.stack.files.west!.processRequest(
        `<?xml version="1.0"?><?qbxml version="13.0"?><QBXML><QBXMLMsgsRq onError="stopOnError"><CustomerQueryRq><FullName>${name}</FullName></CustomerQueryRq></QBXMLMsgsRq></QBXML>`,
      ),
    )[0]!.records.length;
  /** What submitQbxmlBatch does, and what its retry does again after the worker died past the signal. */
  const submit = (batch: QbxmlBatch) =>
    suite.env.client.workflow.signalWithStart(companyFile, {
      workflowId: companyFileWorkflowId('west'),
      taskQueue,
      args: [{ connection: 'west' }],
      signal: enqueueQbxmlSignal,
      signalArgs: [batch],
    });
  const addBatch = (stage: string): QbxmlBatch => ({
    // The requester need not exist: its results are then dropped, which is all this test needs.
    requester: 'retrying-requester',
    batchId: `batch-${stage}`,
    requests: [{ type: 'CustomerAdd', requestId: `add-${stage}`, fields: { name: `Once ${stage}` } }],
  });
  const status = () => suite.env.client.workflow.getHandle(companyFileWorkflowId('west')).query(companyFileStatusQuery);

  it('accepts a retried enqueue once — queued, in flight or answered: QuickBooks receives one Add', async () => {
    const connector = suite.stack.connector('west');

    // Queued: the retry lands before any session.
    await submit(addBatch('queued'));
    await submit(addBatch('queued'));
    const first = await connector.runSession();
    assert.equal(first.outcome, 'completed', first.lastError);
    // In flight: the retry lands while QuickBooks is applying the Add.
    await submit(addBatch('inflight'));
    const duringAdd = suite.stack.connector('west', async (xml) => {
      const answer = suite.stack.files.west!.processRequest(xml);
      if (xml.includes('add-inflight')) await submit(addBatch('inflight'));
      return answer;
    });
    const second = await duringAdd.runSession();
    assert.notEqual(second.outcome, 'error');
    // Answered: the retry lands after the answer went back.
    await submit(addBatch('queued'));
    await submit(addBatch('inflight'));
    const after = await connector.runSession();

    assert.equal(after.outcome, 'noWork', `nothing was queued again: ${JSON.stringify(after)}`);
    assert.equal(customersNamed('Once queued'), 1);
    assert.equal(customersNamed('Once inflight'), 1);
    const { queued, inFlight } = await status();
    assert.deepEqual({ queued, inFlight }, { queued: 0, inFlight: 0 });
  });

  it('waits for requesters still arriving, then sends them in one message: a burst travels together', async () => {
    // Requester runs of a burst (a poll's new accounts, each a workflow) reach the queue a few at a time.
    const arrive = (from: number, to: number) =>
      Promise.all(
        Array.from({ length: to - from }, (_, k) =>
          submit({
            requester: `burst-requester-${from + k}`,
            batchId: 'add',
            requests: [{ type: 'CustomerAdd', requestId: `burst-${from + k}`, fields: { name: `Burst ${from + k}` } }],
          }),
        ),
      );
    const addsPerMessage: number[] = [];
    const recording = async (xml: string): Promise<string> => {
      const adds = xml.match(/<CustomerAddRq/g)?.length ?? 0;
      if (adds > 0) addsPerMessage.push(adds);
      return suite.stack.files.west!.processRequest(xml);
    };
    await arrive(0, 2);
    // Four more arrive during the first pause the company file asks for (QBWC pauses after a NoOp, then asks again).
    let late: Promise<unknown> | undefined;
    const connector = suite.stack.connector('west', recording, {
      noOpWaitMs: 1_500,
      log: (event) => {
        if (event.type === 'noOpWait') late ??= arrive(2, 6);
      },
    });
    const report = await connector.runSession();
    await late;

    assert.equal(report.outcome, 'completed', JSON.stringify(report));
    assert.deepEqual(addsPerMessage, [6], 'the six Adds went to QuickBooks in one message');
    for (let i = 0; i < 6; i++) assert.equal(customersNamed(`Burst ${i}`), 1);
  });

  it('answers a second Web Connector busy while the live session’s Add is still with QuickBooks', async () => {
    const name = 'Held Add';
    let reached: () => void = () => undefined;
    const atAdd = new Promise<void>((resolve) => (reached = resolve));
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    // The first Web Connector's QuickBooks takes its time over the Add (a large company file, a slow disk).
    const slow = suite.stack.connector('west', async (xml) => {
      if (xml.includes('CustomerAddRq')) {
        reached();
        await released;
      }
      return suite.stack.files.west!.processRequest(xml);
    });
    const probe = await suite.env.client.workflow.start(qbxmlProbe, {
      workflowId: 'busy-while-writing-probe',
      taskQueue,
      args: ['west', [{ type: 'CustomerAdd', requestId: 'x', fields: { name } }]],
    });
    const outcome = driveSessions(slow, probe.result());
    await atAdd;
    // A second Web Connector on the same company file (another PC, or the same one restarted) runs meanwhile.
    const second = await suite.stack.connector('west').runSession();
    release();
    const [answer] = await outcome;

    assert.equal(second.outcome, 'busy', JSON.stringify(second));
    assert.equal(answer?.kind, 'response', `the Add's own answer reached its requester: ${JSON.stringify(answer)}`);
    assert.equal(customersNamed(name), 1);
  });

  it('does not send the writes of a requester that is gone (terminated before the Web Connector came)', async () => {
    const name = 'Orphaned Add';
    const probe = await suite.env.client.workflow.start(qbxmlProbe, {
      workflowId: 'gone-requester-probe',
      taskQueue,
      args: ['west', [{ type: 'CustomerAdd', requestId: 'x', fields: { name } }]],
    });
    // The probe's enqueue starts the company file's workflow: until then there is nothing to ask.
    const queuedNow = () =>
      status().then(
        (s) => s.queued,
        () => 0,
      );
    for (let i = 0; i < 200 && (await queuedNow()) === 0; i++) await new Promise((r) => setTimeout(r, 100));
    assert.equal(await queuedNow(), 1);
    await probe.terminate('an operator ended the run');

    const report = await suite.stack.connector('west').runSession();

    assert.equal(customersNamed(name), 0, `no one would record the Add: ${JSON.stringify(report)}`);
    const { queued, inFlight } = await status();
    assert.deepEqual({ queued, inFlight }, { queued: 0, inFlight: 0 });
  });

  it('refuses an Update carrying a ticket that is not the live session’s, leaving no event', async () => {
    const handle = suite.env.client.workflow.getHandle(companyFileWorkflowId('west'));
    const before = (await handle.fetchHistory()).events?.length ?? 0;
    await assert.rejects(
      handle.executeUpdate(takeRequestsUpdate, { args: [{ ticketHash: 'c'.repeat(64) }] }),
      WorkflowUpdateFailedError,
    );
    const afterEvents = (await handle.fetchHistory()).events?.length ?? 0;
    assert.equal(afterEvents, before);
  });
  it('takes the file over once a silent session’s write has settled, and the Add reaches its requester as unknown', async () => {
    // A short settle time for this run of qbfile/west, so the test need not wait the default two minutes.
    const handle = suite.env.client.workflow.getHandle(companyFileWorkflowId('west'));
    await handle.terminate('restarted with a short writeSettleMs').catch(() => undefined);
    await suite.env.client.workflow.start(companyFile, {
      workflowId: companyFileWorkflowId('west'),
      taskQueue,
      args: [{ connection: 'west', limits: { writeSettleMs: SETTLE_MS } }],
    });
    const name = 'Settled Add';
    let reached: () => void = () => undefined;
    const atAdd = new Promise<void>((resolve) => (reached = resolve));
    let unblock: () => void = () => undefined;
    const never = new Promise<void>((resolve) => (unblock = resolve));
    // QuickBooks applies the Add, then this Web Connector dies: its answer never comes back.
    const dying = suite.stack.connector('west', async (xml) => {
      const answer = suite.stack.files.west!.processRequest(xml);
      if (xml.includes('CustomerAddRq')) {
        reached();
        await never;
      }
      return answer;
    });
    const probe = await suite.env.client.workflow.start(qbxmlProbe, {
      workflowId: 'write-settles-probe',
      taskQueue,
      args: ['west', [{ type: 'CustomerAdd', requestId: 'x', fields: { name } }]],
    });
    const abandoned = runUntil(dying, atAdd);
    await atAdd;

    const tooSoon = await suite.stack.connector('west').runSession();
    await new Promise((r) => setTimeout(r, SETTLE_MS + 200));
    const [answer] = await driveSessions(suite.stack.connector('west'), probe.result());
    unblock();
    await abandoned;

    assert.equal(tooSoon.outcome, 'busy', `still within writeSettleMs: ${JSON.stringify(tooSoon)}`);
    assert.equal(answer?.kind, 'outcomeUnknown', `the Add went back as unknown: ${JSON.stringify(answer)}`);
    assert.equal(customersNamed(name), 1);
    const { queued, inFlight } = await status();
    assert.deepEqual({ queued, inFlight }, { queued: 0, inFlight: 0 });
  });
  /**
   * A customer renamed by a `renameCustomer` run whose Mod QuickBooks applies, after which the Web Connector dies: the
   * answer never comes back. Returns once the company file settles writes again (SETTLE_MS), the run waiting.
   */
  const modAppliedAnswerLost = async (name: string, newCompanyName: string) => {
    // Runs after the test of a dying session above, so qbfile/west settles writes after SETTLE_MS.
    const file = suite.stack.files.west!;
    const [added] = parseQbxmlResponse(file.processRequest(customerAddXml([name])));
    const customer = added?.records[0] as CustomerRet;
    assert.ok(customer);
    let reached: () => void = () => undefined;
    const atMod = new Promise<void>((resolve) => (reached = resolve));
    let unblock: () => void = () => undefined;
    const never = new Promise<void>((resolve) => (unblock = resolve));
    const mods: string[] = [];
    const dying = suite.stack.connector('west', async (xml) => {
      const answer = file.processRequest(xml);
      if (xml.includes('CustomerModRq')) {
        mods.push(xml);
        reached();
        await never;
      }
      return answer;
    });
    const rename = await suite.env.client.workflow.start(renameCustomer, {
      workflowId: `mod-in-doubt-${Date.now()}`,
      taskQueue,
      args: ['west', customer, newCompanyName],
    });
    const abandoned = runUntil(dying, atMod);
    await atMod;
    await new Promise((r) => setTimeout(r, SETTLE_MS + 200));
    return { file, customer, mods, rename, dyingSessionEnded: () => (unblock(), abandoned) };
  };

  it('reads a record again after its Mod’s session died, and does not send the Mod twice', async () => {
    const { file, mods, rename, dyingSessionEnded } = await modAppliedAnswerLost('Mod In Doubt', 'Renamed Once');
    const counting = suite.stack.connector('west', (xml) => {
      if (xml.includes('CustomerModRq')) mods.push(xml);
      return Promise.resolve(file.processRequest(xml));
    });
    const result = await driveSessions(counting, rename.result());
    await dyingSessionEnded();

    assert.equal(result.companyName, 'Renamed Once');
    assert.equal(result.attempts, 2, 'the second attempt read the record and found the Mod applied');
    assert.equal(mods.length, 1, 'QuickBooks received the Mod once');
  });

  // Issue 11, the window 89847cd left: a poll reading the version a Mod made, whose answer was lost, before the Mod's
  // own run has read it back, took the connector's write for a person's edit. The company file knows it from the read.
  const readBeforeItsWriter = async (listId: string) => {
    const read = await suite.env.client.workflow.start(qbxmlProbe, {
      workflowId: `poll-read-${Date.now()}`,
      taskQueue,
      args: ['west', [{ type: 'CustomerQuery', requestId: 'x', listIds: [listId] }]],
    });
    // The read is queued before the next session; the writer learns its Mod's answer is lost only in that session, so
    // its own read comes after.
    for (let i = 0; i < 200 && (await status()).queued === 0; i++) await new Promise((r) => setTimeout(r, 100));
    const [answer] = await driveSessions(suite.stack.connector('west'), read.result());
    assert.equal(answer?.kind, 'response');
    const version = (answer as { response: { records: CustomerRet[] } }).response.records[0]!;
    const ownWrites = await suite.env.client.workflow.getHandle(companyFileWorkflowId('west')).query(ownWritesQuery);
    return { version, ownWrites };
  };

  it("knows the version a Mod whose answer was lost made as the connector's own once a read brings it back", async () => {
    const { customer, rename, dyingSessionEnded } = await modAppliedAnswerLost(
      'Read Before Its Writer',
      'Renamed Lost',
    );

    const { version, ownWrites } = await readBeforeItsWriter(customer.listId);
    await driveSessions(suite.stack.connector('west'), rename.result());
    await dyingSessionEnded();

    assert.equal(version.companyName, 'Renamed Lost', 'the read did not see the Mod QuickBooks applied');
    assert.notEqual(version.editSequence, customer.editSequence);
    assert.equal(ownWrites[customer.listId], version.editSequence, "the Mod's version passed for a person's edit");
  });

  it('does not take a person’s change of the field the lost Mod set for the connector’s write', async () => {
    const { file, customer, rename, dyingSessionEnded } = await modAppliedAnswerLost('Edited After', 'Renamed Over');
    // A person renames the customer in QuickBooks after the Mod, before anyone read it.
    const [applied] = parseQbxmlResponse(
      file.processRequest(
        `<?xml version="1.0"?><?qbxml version="13.0"?><QBXML><QBXMLMsgsRq onError="stopOnError"><CustomerQueryRq><ListID>${customer.listId}</ListID></CustomerQueryRq></QBXMLMsgsRq></QBXML>`,
      ),
    );
    const modded = applied!.records[0] as CustomerRet;
    assert.equal(modded.companyName, 'Renamed Over');
    file.processRequest(
      `<?xml version="1.0"?><?qbxml version="13.0"?><QBXML><QBXMLMsgsRq onError="stopOnError"><CustomerModRq><CustomerMod><ListID>${customer.listId}</ListID><EditSequence>${modded.editSequence}</EditSequence><CompanyName>Renamed By Hand</CompanyName></CustomerMod></CustomerModRq></QBXMLMsgsRq></QBXML>`,
    );

    const { version, ownWrites } = await readBeforeItsWriter(customer.listId);
    await driveSessions(suite.stack.connector('west'), rename.result()).catch(() => undefined);
    await dyingSessionEnded();

    assert.equal(version.companyName, 'Renamed By Hand');
    // (The writer, reading the person's name, may have sent its Mod again since: that answered version is its own.)
    assert.notEqual(ownWrites[customer.listId], version.editSequence, "a person's edit passed for the connector's own");
  });
});
