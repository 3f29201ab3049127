import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { insertChoiceOptions } from '../../src/dataverse/choiceOptions';
import { ENTITY_SETS } from '../../src/dataverse/entities';
import { parseQbxmlResponse } from '../../src/qbxml/parse';
import type { CustomerRet, QbRecord } from '../../src/qbxml/requests';
import { startSyncStack, type SyncStack } from '../support/syncStack';
import { startTestTemporal } from '../support/temporal';

function qbxml(body: string): string {
  return `<?xml version="1.0" encoding="utf-8"?><?qbxml version="13.0"?><QBXML><QBXMLMsgsRq onError="stopOnError">${body}</QBXMLMsgsRq></QBXML>`;
}

// Issue 13 item 2: the sync runs under the least-privilege role of docs/deployment.md (the stack's worker signs in as
// the sandbox's connector app), which may not add choice options. A QuickBooks customer type Dynamics has no option
// for fails that customer's run alone, naming the option and the command that adds it; the poll and the other
// records go on. Once an administrator has added it (`qbsync provision --customer-types`), the customer syncs.
describe('the sync under the least-privilege role', () => {
  let env: TestWorkflowEnvironment;
  let stack: SyncStack;

  const qb = (body: string): QbRecord[] => {
    const [response] = parseQbxmlResponse(stack.quickbooks.files.east!.processRequest(qbxml(body)));
    assert.ok(response && response.statusCode <= 1, `QuickBooks refused: ${response?.statusMessage ?? ''}`);
    return response.records;
  };
  const accountsNamed = async (name: string): Promise<Array<Record<string, unknown>>> => {
    const rows: Array<Record<string, unknown>> = [];
    for await (const row of stack.dataverse.queryRows(ENTITY_SETS.account, {
      select: ['accountid', 'name', 'accountcategorycode', 'telephone1'],
      filter: `name eq '${name}'`,
    }))
      rows.push(row);
    return rows;
  };
  const failureOf = async (workflowId: string): Promise<string> => {
    try {
      await env.client.workflow.getHandle(workflowId).result();
      return '';
    } catch (err) {
      const cause = (err as { cause?: Error }).cause;
      return cause?.message ?? String(err);
    }
  };

  before(async () => {
    env = await startTestTemporal();
    stack = await startSyncStack(env);
  });
  after(async () => {
    await stack?.close();
    await env?.teardown();
  });

  it('the initial sync needs no metadata privilege: options were added at provisioning', async () => {
    const east = await stack.cycle('east');
    await stack.settle();
    assert.deepEqual(east.failed, []);
    assert.deepEqual(east.choicesAdded, []);
    assert.deepEqual(await stack.recordRuns("ExecutionStatus = 'Failed'"), []);
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
    const east = await stack.cycle('east');
    await stack.settle();
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
    const { added } = await insertChoiceOptions(stack.dataverse, 'customerTypes', ['Government']);
    assert.deepEqual(added, ['Government']);
    const city = qb('<CustomerQueryRq><FullName>City of Springfield</FullName></CustomerQueryRq>')[0] as CustomerRet;
    qb(
      `<CustomerModRq><CustomerMod><ListID>${city.listId}</ListID><EditSequence>${city.editSequence ?? ''}</EditSequence>` +
        '<Phone>555-0101</Phone></CustomerMod></CustomerModRq>',
    );
    const east = await stack.cycle('east');
    await stack.settle();
    assert.deepEqual(east.failed, []);
    const [row] = await accountsNamed('City of Springfield');
    assert.ok(row, 'the customer is an account now');
    assert.equal(row.telephone1, '555-0101');
    assert.equal(typeof row.accountcategorycode, 'number');
  });
});
