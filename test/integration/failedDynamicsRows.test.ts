import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { listFailed } from '../../src/cli/failedCommand';
import type { FailedRecord } from '../../src/cli/recordRuns';
import { ENTITY_SETS } from '../../src/dataverse/entities';
import { DEMO_UNIT_ID, demoAccountId, demoProductId } from '../../src/sandbox/dataverse/demoOrganisation';
import { syncStackSuite } from '../support/syncStackSuite';

/** Visibility trails the histories by a moment. */
async function eventually<T>(read: () => Promise<T>, ok: (value: T) => boolean, what: string): Promise<T> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > deadline) assert.fail(`${what}: last seen ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

describe('a Dynamics row that fails before its company file is known (real Temporal, both sandboxes)', () => {
  /** What `qbsync failed [-c connection] --json` prints. */
  const failedNow = async (connection?: string): Promise<FailedRecord[]> => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await listFailed(
      { ...(connection ? { connection } : {}), sinceMs: 3_600_000, json: true, limit: 500 },
      {
        client: suite.env.client,
        knownConnections: ['east', 'west'],
        out: (t) => out.push(t),
        err: (l) => err.push(l),
      },
    );
    assert.equal(code, 0, err.join('\n'));
    return JSON.parse(out.join('')) as FailedRecord[];
  };

  const suite = syncStackSuite(async ({ stack }) => {
    await stack.cycle('east');
    await stack.settle();
  });

  it('an order with no customer account is listed by `qbsync failed -c east` with its reason, and invoiced by the poll once it has one', async () => {
    const orderId = randomUUID();
    // Bought by a person, not an account: the order has no customer account to invoice, and so no company file.
    const person = await suite.stack.dataverse.create(ENTITY_SETS.contact, { firstname: 'Walk', lastname: 'In' });
    await suite.stack.dataverse.create(ENTITY_SETS.salesorder, {
      salesorderid: orderId,
      name: 'Order for a walk-in buyer',
      'customerid_contact@odata.bind': `/contacts(${String(person.id)})`,
    });
    await suite.stack.dataverse.create(ENTITY_SETS.salesorderdetail, {
      'salesorderid@odata.bind': `/salesorders(${orderId})`,
      'productid@odata.bind': `/products(${demoProductId('HW-1003')})`,
      'uomid@odata.bind': `/uoms(${DEMO_UNIT_ID})`,
      quantity: 2,
      priceperunit: 129,
      ispriceoverridden: true,
    });
    const cycle = await suite.stack.cycle('east');
    const workflowId = `d365/salesorder/${orderId}`;
    assert.ok(cycle.dynamicsIds.includes(workflowId), 'the poll handed the order off');
    await suite.stack.settle();
    assert.equal((await suite.env.client.workflow.getHandle(workflowId).describe()).status.name, 'FAILED');

    const mine = (list: FailedRecord[]): FailedRecord | undefined => list.find((r) => r.workflowId === workflowId);
    const listed = mine(
      await eventually(
        () => failedNow('east'),
        (list) => mine(list) !== undefined,
        'listed for east',
      ),
    );
    assert.match(listed?.failure ?? '', /has no customer account/);
    assert.equal(listed?.connection, 'east');
    assert.ok(mine(await failedNow()), 'listed without -c too');

    // The fix is made in Dynamics: the order changes, so the poll hands it off again and it is invoiced.
    await suite.stack.dataverse.update(ENTITY_SETS.salesorder, orderId, {
      'customerid_account@odata.bind': `/accounts(${demoAccountId('Blue Yonder Airlines')})`,
    });
    await suite.stack.cycle('east');
    await suite.stack.settle();
    const order = await suite.stack.dataverse.retrieve(ENTITY_SETS.salesorder, orderId);
    assert.equal(order?.statecode, 4, 'invoiced');
    assert.ok(order?.qbsync_qbtxnid);
    await eventually(
      () => failedNow('east'),
      (list) => mine(list) === undefined,
      'no longer listed once invoiced',
    );
  });
});
