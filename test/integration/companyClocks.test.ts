import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cursorAfter, QUICKBOOKS_OVERLAP_MS, readFrom, unseen } from '../../src/mapping/quickbooksChanges';
import { resolveConflict } from '../../src/mapping/ownership';
import type { CustomerRet, QbRecord } from '../../src/qbxml/requests';
import { parseQbxmlResponse } from '../../src/qbxml/parse';
import { CompanyFileSimulator } from '../../src/sandbox/quickbooks/companyFile';
import { quickbooksListRead } from '../fixtures/workflows';
import { companyFileProcessor, customerAddXml, driveSessions, useQuickBooksStack } from '../support/quickbooksStack';

const taskQueue = 'company-clocks-test';
let seq = 0;
const id = (prefix: string) => `${prefix}-${++seq}-${Date.now()}`;
const KEY = 'qb:Customer';

/**
 * A company file in Los Angeles whose clock the test sets: records are added at chosen instants, as QuickBooks stamps
 * them, and read through the gateway and the Web Connector as a poll reads them (its cursor and overlap window).
 */
function companyFile(name: string, staleOffset: boolean) {
  let nowMs = 0;
  const file = new CompanyFileSimulator({
    name,
    timeZone: 'America/Los_Angeles',
    staleOffset,
    now: () => new Date(nowMs),
  });
  const addAt = (iso: string, customer: string): void => {
    nowMs = Date.parse(iso);
    const [rs] = parseQbxmlResponse(file.processRequest(customerAddXml([customer])));
    assert.equal(rs?.statusCode, 0, rs?.statusMessage);
  };
  const setClock = (iso: string): void => {
    nowMs = Date.parse(iso);
  };
  return { file, addAt, setClock };
}

function byName(records: QbRecord[], name: string): CustomerRet {
  const found = (records as CustomerRet[]).find((r) => r.name === name);
  assert.ok(found, `${name} was read`);
  return found;
}

describe('QuickBooks local times read in the company file’s zone, at both clock changes (issue 14 item 3)', () => {
  const suite = useQuickBooksStack(taskQueue, { callTimeoutMs: 4000 });

  const read = async (connection: string, file: CompanyFileSimulator, fromModifiedDate?: string) => {
    const handle = await suite.env.client.workflow.start(quickbooksListRead, {
      workflowId: id(`read-${connection}`),
      taskQueue,
      args: [{ connection, list: 'Customer', ...(fromModifiedDate ? { fromModifiedDate } : {}) }],
    });
    const processor = companyFileProcessor(file);
    return (await driveSessions(suite.stack.connector(connection, processor), handle.result())).records;
  };

  it('spring, stale offsets: stamps name their true instants, later change wins rightly, the overlap is whole', async () => {
    // 8 March 2026: Los Angeles goes from 02:00 PST to 03:00 PDT; this QuickBooks writes -08:00 all year.
    const west = companyFile('west', true);
    west.addAt('2026-03-08T10:10:00Z', 'Spring Cursor'); // 03:10 PDT, stamped 03:10:00-08:00
    west.setClock('2026-03-08T10:15:00Z');
    const first = await read('west', west.file);
    const cursorRecord = byName(first, 'Spring Cursor');
    assert.equal(cursorRecord.timeModified, '2026-03-08T03:10:00-07:00', 'read in the zone, not at the stale offset');

    // A Dynamics save at 03:40 PDT came after the QuickBooks edit at 03:10 PDT: Dynamics' value wins.
    const decision = resolveConflict(
      'phone',
      '555-0100',
      '555-0199',
      cursorRecord.timeModified!,
      '2026-03-08T10:40:00Z',
    );
    assert.equal(decision.ok && decision.value.winner, 'dynamics');

    const cursors = cursorAfter(KEY, first, {}, QUICKBOOKS_OVERLAP_MS);
    // Committed late, stamped 01:30 PST: 40 minutes before the cursor, inside the overlap window.
    west.addAt('2026-03-08T09:30:00Z', 'Spring Late');
    west.setClock('2026-03-08T10:30:00Z');
    const second = await read('west', west.file, readFrom(cursors, KEY, QUICKBOOKS_OVERLAP_MS));
    const news = unseen(second, cursors, KEY).map((r) => (r as CustomerRet).name);
    assert.deepEqual(news, ['Spring Late'], 'the late record is news; the one handed off is not');
  });

  it('autumn: the hour that repeats is read whole, and its stamps keep their order', async () => {
    // 1 November 2026: Los Angeles goes from 02:00 PDT back to 01:00 PST.
    const east = companyFile('east', false);
    east.addAt('2026-11-01T09:55:00Z', 'Autumn Cursor'); // 01:55 PST, after the change
    east.setClock('2026-11-01T09:56:00Z');
    const first = await read('east', east.file);
    assert.equal(byName(first, 'Autumn Cursor').timeModified, '2026-11-01T01:55:00-08:00');
    const cursors = cursorAfter(KEY, first, {}, QUICKBOOKS_OVERLAP_MS);

    // Two late commits inside the overlap window: 01:50 PDT (first pass) and 01:35 PST (second pass, whose wall time
    // is below the first pass's though it is 45 minutes later).
    east.addAt('2026-11-01T08:50:00Z', 'Autumn First Pass');
    east.addAt('2026-11-01T09:35:00Z', 'Autumn Second Pass');
    east.setClock('2026-11-01T10:00:00Z');
    const second = await read('east', east.file, readFrom(cursors, KEY, QUICKBOOKS_OVERLAP_MS));
    const news = unseen(second, cursors, KEY).map((r) => (r as CustomerRet).name);
    assert.deepEqual(news.sort(), ['Autumn First Pass', 'Autumn Second Pass']);
    const firstPass = byName(second, 'Autumn First Pass').timeModified!;
    const secondPass = byName(second, 'Autumn Second Pass').timeModified!;
    assert.equal(firstPass, '2026-11-01T01:50:00-07:00');
    assert.equal(secondPass, '2026-11-01T01:35:00-08:00');
    assert.ok(Date.parse(secondPass) > Date.parse(firstPass), 'compared as instants, the later edit is later');
  });
});
