import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApplicationFailure, WorkflowFailedError } from '@temporalio/client';
import { ENTITY_SETS, qbListKey } from '../../src/dataverse/entities';
import type { CustomerRet, QbRecord } from '../../src/qbxml/requests';
import { companyFileWorkflowId, syncCursorsQuery } from '../../src/workflows/companyFile/messages';
import { qbxmlMessage, quickbooksRecords, syncStackSuite } from '../support/syncStackSuite';

/**
 * Issue 11 item 3 in the poll: a customer note holding `&#11;` (a vertical tab pasted from Word) makes QuickBooks'
 * answer to the customer read unreadable, and the company file hands the read back as rejected. The cycle used to fail
 * there, before any cursor moved and before it read Dynamics: every later cycle of the company file failed the same
 * way until a person fixed the note. Now the customer list alone stays where it stood, and the cycle fails at its end,
 * naming the list, once everything else synced (real Temporal, both sandboxes, gateway, Web Connector simulator).
 */
describe('a QuickBooks list whose answer cannot be read does not stop the rest of the poll', () => {
  const suite = syncStackSuite(async ({ stack }) => {
    await stack.cycle('east');
    await stack.settle();
    await stack.cycle('east'); // write-backs of the first cycle come back once as Dynamics changes
    await stack.settle();
  });

  const qb = (body: string): QbRecord[] => quickbooksRecords(suite.stack, 'east', body);
  const cursors = () =>
    suite.env.client.workflow.getHandle(companyFileWorkflowId('east')).query(syncCursorsQuery) as Promise<
      Record<string, string>
    >;
  /** Straight into the company file, as a person types it; the answer is not parsed (its note cannot be). */
  const enterInQuickBooks = (body: string): string => {
    const answer = suite.stack.quickbooks.files.east!.processRequest(qbxmlMessage(body));
    assert.doesNotMatch(answer, /statusSeverity="Error"/, answer);
    return answer;
  };

  it('a note holding &#11;: the item reaches Dynamics, the account QuickBooks, only the customer cursor stays', async () => {
    const before = await cursors();
    assert.ok(before['qb:Customer'] && before['qb:Item'], 'the initial sync moved the customer and item cursors');
    const added = enterInQuickBooks(
      '<CustomerAddRq><CustomerAdd><Name>Pasted From Word Ltd</Name>' +
        '<Notes>first line&#11;second line</Notes></CustomerAdd></CustomerAddRq>',
    );
    const listId = /<ListID>([^<]+)<\/ListID>/.exec(added)![1]!;
    const editSequence = /<EditSequence>([^<]+)<\/EditSequence>/.exec(added)![1]!;
    const [item] = qb(
      '<ItemNonInventoryAddRq><ItemNonInventoryAdd><Name>Cable Tie Pack</Name><SalesOrPurchase><Desc>Cable ties' +
        '</Desc><Price>4.50</Price><AccountRef><FullName>Sales</FullName></AccountRef></SalesOrPurchase>' +
        '</ItemNonInventoryAdd></ItemNonInventoryAddRq>',
    ) as [QbRecord & { listId: string }];
    await suite.stack.dataverse.create(ENTITY_SETS.account, { name: 'Vertical Tab Traders', customertypecode: 3 });

    await assert.rejects(suite.stack.cycle('east'), (error: unknown) => {
      assert.ok(error instanceof WorkflowFailedError, String(error));
      const cause = error.cause;
      assert.ok(cause instanceof ApplicationFailure, `failed with ${cause?.name}: ${cause?.message}`);
      assert.equal(cause.type, 'UnreadableQuickBooksList', cause.message);
      assert.equal(cause.nonRetryable, true);
      assert.match(cause.message, /the Customer list/);
      assert.match(cause.message, /answer could not be read: .*&#11;/);
      assert.match(cause.message, /fixed in QuickBooks/);
      return true;
    });
    await suite.stack.settle();

    const product = await suite.stack.dataverse.retrieve(ENTITY_SETS.product, qbListKey('east', item.listId));
    assert.equal(product?.name, 'Cable Tie Pack', 'the new item reached Dynamics');
    const customers = qb('<CustomerQueryRq><FullName>Vertical Tab Traders</FullName></CustomerQueryRq>');
    assert.equal(customers.length, 1, 'the new Dynamics account reached QuickBooks');
    const stood = await cursors();
    assert.ok(Date.parse(stood['qb:Item']!) > Date.parse(before['qb:Item']!), 'the item cursor advanced');
    assert.notEqual(stood['d365:account'], before['d365:account'], 'the Dynamics account cursor advanced');
    assert.deepEqual(
      [stood['qb:Customer'], stood['qb:Customer:seen'], stood['qb:Customer:from']],
      [before['qb:Customer'], before['qb:Customer:seen'], before['qb:Customer:from']],
      'the customer cursor stayed where it stood',
    );

    // A person takes the vertical tab out of the note: the next cycle reads the customers from where they stood.
    enterInQuickBooks(
      `<CustomerModRq><CustomerMod><ListID>${listId}</ListID><EditSequence>${editSequence}</EditSequence>` +
        '<Notes>first line second line</Notes></CustomerMod></CustomerModRq>',
    );
    const fixed = await suite.stack.cycle('east');
    await suite.stack.settle();
    assert.equal(fixed.unreadable, undefined);
    assert.ok((fixed.handedOff['qb:customer'] ?? 0) >= 1, JSON.stringify(fixed.handedOff));
    const account = await suite.stack.dataverse.retrieve(ENTITY_SETS.account, qbListKey('east', listId));
    assert.equal(account?.name, 'Pasted From Word Ltd', 'the fixed customer reached Dynamics');
    const customer = qb(`<CustomerQueryRq><ListID>${listId}</ListID></CustomerQueryRq>`)[0] as CustomerRet;
    assert.ok(
      Date.parse((await cursors())['qb:Customer']!) >= Date.parse(customer.timeModified!),
      'the customer cursor moved past the fixed customer',
    );
  });
});
