import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { CustomerRet } from '../../src/qbxml/requests';
import { parseQbxmlResponse } from '../../src/qbxml/parse';
import { renameCustomer } from '../fixtures/workflows';
import { customerAddXml, driveSessions, useQuickBooksStack } from '../support/quickbooksStack';

const taskQueue = 'record-in-use-test';

describe('a record open in QuickBooks (3170/3175/3176/3180) is modified once it is let go', () => {
  const suite = useQuickBooksStack(taskQueue, { callTimeoutMs: 4000 });

  for (const code of [3175, 3180] as const) {
    it(`waits out ${code} and sends the same Mod again`, async () => {
      const file = suite.stack.files.east!;
      const name = `Held Customer ${code}`;
      const [added] = parseQbxmlResponse(file.processRequest(customerAddXml([name])));
      const customer = added?.records[0] as CustomerRet;
      assert.ok(customer);
      file.holdInUse(customer.listId, code);
      const rename = await suite.env.client.workflow.start(renameCustomer, {
        workflowId: `rename-held-${code}-${Date.now()}`,
        taskQueue,
        args: ['east', customer, 'Renamed While Held', { firstWaitMs: 300, maxWaitMs: 300, maxWaits: 50 }],
      });
      const answers: string[] = [];
      const processor = Object.assign(
        async (xml: string) => {
          const answer = file.processRequest(xml);
          answers.push(answer);
          return answer;
        },
        { endSession: () => file.endSession() },
      );
      const connector = suite.stack.connector('east', processor);
      // The Mod reaches QuickBooks while the customer is open there and is refused with the lock status.
      for (let i = 0; i < 40 && !answers.some((a) => a.includes(`statusCode="${code}"`)); i++) {
        await connector.runSession();
        await new Promise((r) => setTimeout(r, 150));
      }
      assert.ok(
        answers.some((a) => a.includes(`statusCode="${code}"`)),
        'QuickBooks refused the Mod as held',
      );
      file.releaseInUse(customer.listId);
      const result = await driveSessions(connector, rename.result());
      assert.equal(result.companyName, 'Renamed While Held');
      assert.equal(result.attempts, 1, 'no re-read: the record did not change, it was only held');
    });
  }
});
