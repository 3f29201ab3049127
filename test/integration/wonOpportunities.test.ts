import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { temporalRecordSyncStarter } from '../../src/gateway/webhooks/recordSyncStarter';
import { estimateNumber } from '../../src/mapping/wonOpportunityToEstimate';
import { buildQbxmlMessage } from '../../src/qbxml/build';
import { parseQbxmlResponse } from '../../src/qbxml/parse';
import type { CustomerRet, EstimateRet, QbxmlRequest } from '../../src/qbxml/requests';
import { DEMO_UNIT_ID, demoProductId } from '../../src/sandbox/dataverse/demoOrganisation';
import { dataverseChangedSignal, type DataverseRecordSyncResult } from '../../src/workflows/dataverseRecordSync';
import { syncStackSuite } from '../support/syncStackSuite';

/**
 * Issue 16 item 2 end to end on the sandboxes: a won opportunity's account becomes a QuickBooks customer at once and,
 * where the connection makes estimates (the sandbox's east office), its products become one QuickBooks estimate whose
 * TxnID and number go back onto the opportunity.
 */
describe('won opportunities reach QuickBooks (real Temporal, both sandboxes)', () => {
  /** What the gateway does with each webhook delivery: signal-with-start of the row's run (no quiet period here). */
  let deliver: (opportunityId: string) => Promise<string>;

  const suite = syncStackSuite(async ({ env, stack }) => {
    await stack.cycle('east');
    // The first sync of the seeded offices takes many sessions on a loaded machine.
    await stack.settle(120);
    const starter = temporalRecordSyncStarter(env.client, 'sync-e2e', { quietPeriodMs: 0 });
    deliver = async (opportunityId) => {
      const { workflowId } = await starter(
        {
          messageName: 'Win',
          entity: 'opportunity',
          id: opportunityId,
          correlationId: randomUUID(),
          changedAttributes: ['statecode', 'statuscode'],
          needsRead: true,
        },
        'east',
      );
      return workflowId;
    };
  });

  const quickbooks = (office: 'east' | 'west', request: QbxmlRequest) =>
    parseQbxmlResponse(suite.stack.quickbooks.files[office]!.processRequest(buildQbxmlMessage([request])))[0]!;
  const estimatesNumbered = (office: 'east' | 'west', refNumber: string): EstimateRet[] =>
    quickbooks(office, { type: 'EstimateQuery', requestId: 'e', refNumbers: [refNumber], includeLineItems: true })
      .records as EstimateRet[];
  const customerNamed = (office: 'east' | 'west', name: string): CustomerRet | undefined =>
    quickbooks(office, { type: 'CustomerQuery', requestId: 'c', fullNames: [name] }).records[0] as
      CustomerRet | undefined;

  /** A new account (no QuickBooks customer yet) and an open opportunity for it with two products. */
  const opportunityForNewAccount = async (accountName: string): Promise<{ accountId: string; id: string }> => {
    const account = await suite.stack.dataverse.create('accounts', { name: accountName, telephone1: '555-0142' });
    const accountId = String(account.id);
    const id = randomUUID();
    await suite.stack.dataverse.create('opportunities', {
      opportunityid: id,
      name: `${accountName} showroom`,
      'parentaccountid@odata.bind': `/accounts(${accountId})`,
    });
    for (const [product, quantity, price] of [
      ['HW-1003', 3, 120],
      ['SV-2001', 1.5, 199],
    ] as const) {
      await suite.stack.dataverse.create('opportunityproducts', {
        'opportunityid@odata.bind': `/opportunities(${id})`,
        'productid@odata.bind': `/products(${demoProductId(product)})`,
        'uomid@odata.bind': `/uoms(${DEMO_UNIT_ID})`,
        quantity,
        priceperunit: price,
        ispriceoverridden: true,
      });
    }
    return { accountId, id };
  };
  const win = (id: string) =>
    suite.stack.dataverse.execute('POST', 'WinOpportunity', {
      body: { Status: 3, OpportunityClose: { subject: 'Won', 'opportunityid@odata.bind': `/opportunities(${id})` } },
    });
  const result = (workflowId: string) =>
    suite.env.client.workflow.getHandle(workflowId).result() as Promise<DataverseRecordSyncResult>;

  it('a won opportunity, delivered twice and found by the poll, becomes one customer and one estimate with its products, recorded on it', async () => {
    const { accountId, id } = await opportunityForNewAccount('Harbour Cycles Ltd');
    // The account reaches QuickBooks first, by a poll of its own. A cycle that finds a new account hands off its won
    // opportunities only once the account's run has ended (poll-cycle-orders-after-new-accounts), and that run needs
    // QuickBooks, which the hook below holds until the poll has told the opportunity's run: with the account new, the
    // two waited on each other until the hook gave up, and the fresh-clone CI of 2e0c960 saw the run record its
    // estimate before the poll read the opportunity.
    await suite.stack.cycle('east');
    await suite.stack.settle();
    assert.ok(customerNamed('east', 'Harbour Cycles Ltd'), 'the account became a customer before the win');
    await win(id);
    // Two deliveries of the same Win (Dataverse retries, a duplicate), then the poll: one run, one estimate.
    const workflowId = await deliver(id);
    assert.equal(await deliver(id), workflowId);
    // The poll finds only a won opportunity with no estimate recorded yet, so QuickBooks takes the run's EstimateAdd
    // only once the poll has told the run (a third change signal after the two deliveries; the company file's answers
    // come by signals of another name). The sessions of the poll's own reads drive the run too, and fresh-clone CI runs
    // saw the run record its estimate first, leaving the poll nothing to find.
    const changeSignalsOfRun = async (): Promise<number> => {
      const { events } = await suite.env.client.workflow.getHandle(workflowId).fetchHistory();
      return (events ?? []).filter(
        (e) => e.workflowExecutionSignaledEventAttributes?.signalName === dataverseChangedSignal.name,
      ).length;
    };
    suite.stack.hooks.beforeProcess = async (connection, xml) => {
      if (connection !== 'east' || !xml.includes('<EstimateAddRq')) return;
      for (let i = 0; i < 300 && (await changeSignalsOfRun()) < 3; i++) await new Promise((r) => setTimeout(r, 200));
    };
    let polled;
    try {
      polled = await suite.stack.cycle('east');
    } finally {
      delete suite.stack.hooks.beforeProcess;
    }
    assert.ok(polled.dynamicsIds.includes(workflowId), 'the poll found the won opportunity too');
    await suite.stack.settle();
    const first = await result(workflowId);
    assert.equal(first.connection, 'east');

    const customer = customerNamed('east', 'Harbour Cycles Ltd');
    assert.ok(customer, 'the account became a customer in the receiving company file');
    const account = await suite.stack.dataverse.retrieve('accounts', accountId, { select: ['qbsync_qblistid'] });
    assert.equal(account?.qbsync_qblistid, customer.listId);

    const refNumber = estimateNumber(id);
    const estimates = estimatesNumbered('east', refNumber);
    assert.equal(estimates.length, 1, 'exactly one estimate');
    const estimate = estimates[0]!;
    assert.equal(estimate.customerRef?.listId, customer.listId);
    assert.equal(estimate.externalGuid, `{${id.toUpperCase()}}`);
    assert.deepEqual(
      estimate.lines?.map((l) => [l.quantity, l.rate, l.amount]),
      [
        ['3', '120.00', '360.00'],
        ['1.5', '199.00', '298.50'],
      ],
    );
    assert.equal(estimate.totalAmount, '658.50');
    const opportunity = await suite.stack.dataverse.retrieve('opportunities', id, {
      select: ['qbsync_estimatetxnid', 'qbsync_estimatenumber', 'qbsync_companyfile', 'statecode'],
    });
    assert.equal(opportunity?.qbsync_estimatetxnid, estimate.txnId);
    assert.equal(opportunity?.qbsync_estimatenumber, refNumber);
    assert.equal(opportunity?.qbsync_companyfile, 'east');
    assert.equal(first.targetId, estimate.txnId);

    // Delivered once more after its run ended: a new run finds the estimate recorded and adds nothing.
    const again = await deliver(id);
    await suite.stack.settle();
    const second = await result(again);
    assert.equal(second.outcome, 'unchanged');
    assert.equal(estimatesNumbered('east', refNumber).length, 1);
  });

  it('an opportunity that is not won sends nothing to QuickBooks: no customer, no estimate', async () => {
    const { accountId, id } = await opportunityForNewAccount('Lantern Row Bakery');
    const workflowId = await deliver(id);
    await suite.stack.settle();
    const run = await result(workflowId);
    assert.equal(run.outcome, 'unchanged');
    assert.match(run.note ?? '', /not won/);
    assert.equal(customerNamed('east', 'Lantern Row Bakery'), undefined);
    assert.deepEqual(estimatesNumbered('east', estimateNumber(id)), []);
    const account = await suite.stack.dataverse.retrieve('accounts', accountId, { select: ['qbsync_qblistid'] });
    assert.equal(account?.qbsync_qblistid ?? null, null);
  });

  it('a connection that makes no estimates gets the customer only', async () => {
    const east = suite.stack.settings.get('east')!;
    east.opportunities.estimates = false;
    try {
      const { id } = await opportunityForNewAccount('Quayside Joinery');
      await win(id);
      const workflowId = await deliver(id);
      await suite.stack.settle();
      const run = await result(workflowId);
      const customer = customerNamed('east', 'Quayside Joinery');
      assert.ok(customer, 'the account became a customer');
      assert.equal(run.outcome, 'created');
      assert.equal(run.targetId, customer.listId);
      assert.deepEqual(estimatesNumbered('east', estimateNumber(id)), []);
      const opportunity = await suite.stack.dataverse.retrieve('opportunities', id, {
        select: ['qbsync_estimatetxnid'],
      });
      assert.equal(opportunity?.qbsync_estimatetxnid ?? null, null);
    } finally {
      east.opportunities.estimates = true;
    }
  });
});
