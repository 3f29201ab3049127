import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { insertChoiceOptions } from '../../src/dataverse/choiceOptions';
import { ENTITY_SETS } from '../../src/dataverse/entities';
import type { CustomerRet, QbRecord } from '../../src/qbxml/requests';
import { quickbooksRecords, syncStackSuite, workflowFailure } from '../support/syncStackSuite';

// Issue 13 item 2: the sync runs under the least-privilege role of docs/deployment.md (the stack's worker signs in as
// the sandbox's connector app), which may not add choice options. A QuickBooks customer type Dynamics has no option
// for fails that customer's run alone, naming the option and the command that adds it; the poll and the other
// records go on. Once an administrator has added it (`qbsync provision --customer-types`), the customer syncs.
describe('the sync under the least-privilege role', () => {
  const suite = syncStackSuite();

  const qb = (body: string): QbRecord[] => quickbooksRecords(suite.stack, 'east', body);
  const accountsNamed = async (name: string): Promise<Array<Record<string, unknown>>> => {
    const rows: Array<Record<string, unknown>> = [];
    for await (const row of suite.stack.dataverse.queryRows(ENTITY_SETS.account, {
      select: ['accountid', 'name', 'accountcategorycode', 'telephone1'],
      filter: `name eq '${name}'`,
    }))
      rows.push(row);
    return rows;
  };
  const failureOf = (workflowId: string): Promise<string> => workflowFailure(suite.env, workflowId);

  it('the initial sync needs no metadata privilege: options were added at provisioning', async () => {
    const east = await suite.stack.cycle('east');
    await suite.stack.settle();
    assert.deepEqual(east.failed, []);
    assert.deepEqual(east.choicesAdded, []);
    assert.deepEqual(await suite.stack.recordRuns("ExecutionStatus = 'Failed'"), []);
  });

  it('a customer type without an option fails that customer alone, naming the option and the command', async () => {
    qb(
      '<CustomerTypeAddRq><CustomerTypeAdd><Name>Government</Name></CustomerTypeAdd></CustomerTypeAddRq>' +
        '<CustomerAddRq><CustomerAdd><Name>City of Springfield</Name><Phone>555-0100</Phone>' +
        '<CustomerTypeRef><FullName>Government</FullName></CustomerTypeRef></CustomerAdd></CustomerAddRq>' +
        '<CustomerAddRq><CustomerAdd><Name>Springfield Bakery</Name>' +
        '<CustomerTypeRef><FullName>Retail</FullName></CustomerTypeRef></CustomerAdd></CustomerAddRq>',
    );
    const city = qb('<CustomerQueryRq><FullName>City of Springfield</FullName></CustomerQueryRq>')[0] as CustomerRet;
    const east = await suite.stack.cycle('east');
    await suite.stack.settle();
    const workflowId = `qb/east/customer/${city.listId}`;
    assert.deepEqual(east.failed, [workflowId], 'the poll completed; only the customer of the new type failed');
    assert.deepEqual(east.choicesAdded, []);
    assert.match(
      await failureOf(workflowId),
      /QuickBooks customerTypes "Government" has no Dataverse option: add it with `qbsync provision --customer-types 'Government'`/,
    );
    assert.equal((await accountsNamed('Springfield Bakery')).length, 1, 'the other new customer is synced');
    assert.deepEqual(await accountsNamed('City of Springfield'), []);
  });

  it('once an administrator has added the option, the customer syncs', async () => {
    // What `qbsync provision --customer-types Government` does, under the administrator's role.
    const { added } = await insertChoiceOptions(suite.stack.dataverse, 'customerTypes', ['Government']);
    assert.deepEqual(added, ['Government']);
    const city = qb('<CustomerQueryRq><FullName>City of Springfield</FullName></CustomerQueryRq>')[0] as CustomerRet;
    qb(
      `<CustomerModRq><CustomerMod><ListID>${city.listId}</ListID><EditSequence>${city.editSequence ?? ''}</EditSequence>` +
        '<Phone>555-0101</Phone></CustomerMod></CustomerModRq>',
    );
    const east = await suite.stack.cycle('east');
    await suite.stack.settle();
    assert.deepEqual(east.failed, []);
    const [row] = await accountsNamed('City of Springfield');
    assert.ok(row, 'the customer is an account now');
    assert.equal(row.telephone1, '555-0101');
    assert.equal(typeof row.accountcategorycode, 'number');
  });
});
