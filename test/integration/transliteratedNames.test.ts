import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ENTITY_SETS } from '../../src/dataverse/entities';
import type { CustomerRet, QbRecord, QbxmlRequest } from '../../src/qbxml/requests';
import { quickbooksRecords, syncStackSuite } from '../support/syncStackSuite';

const GREEK = 'Ελληνικά ΑΕ';
const LATIN = 'Ellinika AE';

/**
 * Issue 14 item 1, last part, on the whole stack: an account named in Greek becomes a QuickBooks customer named in
 * Latin letters (QuickBooks keeps Windows-1252 text only). Reading that customer back on the next polls is the echo
 * of the connector's own write and must not overwrite the Greek name in Dynamics, nor start a ping-pong; a real edit
 * in QuickBooks still reaches Dynamics.
 */
describe('transliterated names keep their Dynamics form (real Temporal, both sandboxes, Web Connector simulator)', () => {
  const qb = (request: QbxmlRequest): QbRecord[] => quickbooksRecords(suite.stack, 'east', request);
  const customer = (listId: string): CustomerRet =>
    qb({ type: 'CustomerQuery', requestId: 'q', listIds: [listId] })[0] as CustomerRet;
  const account = async (id: string): Promise<Record<string, unknown>> => {
    const row = await suite.stack.dataverse.retrieve(ENTITY_SETS.account, id);
    assert.ok(row, `account ${id} exists`);
    return row;
  };
  /** A cycle after a synced change finds nothing to hand off in either direction. */
  const assertQuiet = async (): Promise<void> => {
    const echo = await suite.stack.cycle('east');
    assert.equal(echo.handedOff['d365:account'] ?? 0, 0, JSON.stringify(echo.dynamicsIds));
    assert.equal(echo.handedOff['qb:customer'] ?? 0, 0);
  };

  const suite = syncStackSuite(async ({ stack }) => {
    await stack.cycle('east');
    await stack.settle();
    await stack.cycle('east'); // write-backs of the first cycle come back once as Dynamics changes
    await stack.settle();
  });

  it('a Greek account name survives the QuickBooks echo; a later QuickBooks edit still reaches Dynamics', async () => {
    const created = await suite.stack.dataverse.create(ENTITY_SETS.account, {
      name: GREEK,
      customertypecode: 3,
      telephone1: '210-555-0100',
      address1_city: 'Αθήνα',
    });
    const accountId = String(created.id);
    const first = await suite.stack.cycle('east');
    await suite.stack.settle();
    assert.deepEqual(first.failed, []);

    let row = await account(accountId);
    const listId = String(row.qbsync_qblistid);
    assert.ok(listId, 'the account is paired with a customer');
    const made = customer(listId);
    assert.equal(made.name, LATIN, 'QuickBooks holds the Latin-1 form');
    assert.equal(made.billAddress?.city, 'Athina');
    assert.equal(row.name, GREEK, 'pairing keeps the Greek name in Dynamics');
    assert.equal(row.address1_city, 'Αθήνα');
    const base = JSON.parse(String(row.qbsync_syncbase)) as Record<string, unknown>;
    assert.equal(base.name, GREEK);
    assert.deepEqual(base['@quickbooksForm'], { address1_city: 'Athina', name: LATIN });

    // The next polls read the customer back (the pairing's write-back also shows as a Dynamics change once).
    await suite.stack.cycle('east');
    await suite.stack.settle();
    await assertQuiet();
    row = await account(accountId);
    assert.equal(row.name, GREEK, 'the QuickBooks echo did not overwrite the Greek name');
    assert.equal(row.address1_city, 'Αθήνα');

    // An edit in QuickBooks of another field: it is taken, and the echoed name still stays Greek.
    qb({
      type: 'CustomerMod',
      requestId: 'phone',
      fields: { listId, editSequence: customer(listId).editSequence, phone: '210-555-0199' },
    });
    const phoneCycle = await suite.stack.cycle('east');
    await suite.stack.settle();
    assert.deepEqual(phoneCycle.failed, []);
    row = await account(accountId);
    assert.equal(row.telephone1, '210-555-0199');
    assert.equal(row.name, GREEK);
    assert.equal(customer(listId).name, LATIN, 'QuickBooks was not sent the name again as an edit');
    await assertQuiet();

    // A real rename in QuickBooks wins as any QuickBooks edit does.
    qb({
      type: 'CustomerMod',
      requestId: 'rename',
      fields: { listId, editSequence: customer(listId).editSequence, name: 'Ellinika Trading' },
    });
    const renameCycle = await suite.stack.cycle('east');
    await suite.stack.settle();
    assert.deepEqual(renameCycle.failed, []);
    row = await account(accountId);
    assert.equal(row.name, 'Ellinika Trading');
    assert.equal(row.address1_city, 'Αθήνα', 'the untouched city keeps its Greek form');
    await assertQuiet();
  });
});
