import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cursorAfter, QUICKBOOKS_OVERLAP_MS, readFrom, recordId, unseen } from '../../src/mapping/quickbooksChanges';
import { buildQbxmlMessage } from '../../src/qbxml/build';
import { parseQbxmlResponse } from '../../src/qbxml/parse';
import type { CustomerRet, QbRecord, QbxmlRequest } from '../../src/qbxml/requests';
import { CompanyFileSimulator } from '../../src/sandbox/quickbooks/companyFile';

/**
 * Issue 11 item 15: the QuickBooks cursor reads with an overlap window. Successive poll reads of the customer list,
 * as the poll cycle makes them (FromModifiedDate from the cursor, news filtered, cursor advanced), against the
 * QuickBooks simulator, whose clock the test sets: a customer committed late with a TimeModified older than the cursor
 * is read by the next poll, and no version is handed off twice.
 */

const KEY = 'qb:Customer';

describe('the QuickBooks cursor overlaps its reads: nothing missed, nothing handed off twice', () => {
  it('a record committed late with an earlier TimeModified is handed off by the next poll, once', () => {
    let nowMs = Date.parse('2024-03-01T18:00:00Z');
    const file = new CompanyFileSimulator({ name: 'east', now: () => new Date(nowMs) });
    const send = (request: QbxmlRequest): QbRecord[] => {
      const [response] = parseQbxmlResponse(file.processRequest(buildQbxmlMessage([request])));
      assert.ok(response && response.statusCode <= 1, response?.statusMessage);
      return response.records;
    };
    const add = (name: string): CustomerRet =>
      send({ type: 'CustomerAdd', requestId: 'a', fields: { name } })[0] as CustomerRet;

    let cursors: Record<string, string> = {};
    const handedOff: string[] = [];
    /** One poll of the customer list, the way `pollCycle` reads it. */
    const poll = (): string[] => {
      const from = readFrom(cursors, KEY, QUICKBOOKS_OVERLAP_MS);
      const records = send({
        type: 'CustomerQuery',
        requestId: 'q',
        activeStatus: 'All',
        ...(from ? { fromModifiedDate: from } : {}),
      });
      const news = unseen(records, cursors, KEY).map((r) => `${recordId(r)}@${(r as CustomerRet).editSequence}`);
      handedOff.push(...news);
      cursors = { ...cursors, ...cursorAfter(KEY, records, cursors, QUICKBOOKS_OVERLAP_MS) };
      return news.map((n) => n.split('@')[0]!);
    };

    const first = add('Alder Works');
    nowMs += 60_000;
    const second = add('Birch Supply');
    assert.deepEqual(poll(), [first.listId, second.listId]);

    // A write that began before the poll commits after it: its TimeModified is 30 s older than the cursor.
    nowMs -= 30_000;
    const late = add('Cedar Late Commit');
    nowMs += 90_000;
    assert.deepEqual(poll(), [late.listId], 'the late commit was missed');

    // An edit made later is news; what was handed off already is not handed off again.
    const current = send({ type: 'CustomerQuery', requestId: 'r', listIds: [first.listId] })[0] as CustomerRet;
    send({
      type: 'CustomerMod',
      requestId: 'm',
      fields: { listId: first.listId, editSequence: current.editSequence, companyName: 'Alder Works Ltd' },
    });
    assert.deepEqual(poll(), [first.listId]);
    nowMs += 60_000;
    assert.deepEqual(poll(), []);
    assert.equal(new Set(handedOff).size, handedOff.length, `a version was handed off twice: ${handedOff.join(' ')}`);
  });
});
