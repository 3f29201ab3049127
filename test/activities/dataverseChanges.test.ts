import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import pino from 'pino';
import {
  createDataversePairedRowActivities,
  type DataverseChanges,
  type DataverseChangesInput,
} from '../../src/activities/dataversePairedRows';
import type { DataverseConnection } from '../../src/dataverse/connect';
import { provisionDataverse } from '../../src/dataverse/provisioning';
import { startDataverseSandbox, type DataverseSandbox } from '../../src/sandbox/dataverse/server';
import { connectToSandbox } from '../support/dataverseSandbox';

// Issue 11 item 4: a mass update stamps thousands of rows with one `modifiedon` second. The poll's change read must
// page on a total order (modifiedon, then id) so that every row is handed off, however many share a second; reading
// `modifiedon ge cursor` alone returned the same first 2,000 rows every cycle and the cursor never moved.
describe('the Dynamics change cursor pages on modifiedon, then id', () => {
  let dir: string;
  let sandbox: DataverseSandbox;
  let connection: DataverseConnection;
  let listChanges: (input: DataverseChangesInput) => Promise<DataverseChanges>;
  const ids = new Set<string>();
  const SECOND = '2026-11-02T09:30:00Z';

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'qbsync-dataverse-changes-'));
    sandbox = await startDataverseSandbox({ port: 0, dataDir: dir, seed: false });
    connection = connectToSandbox(sandbox);
    await provisionDataverse(connection.client, { log: pino({ level: 'silent' }) });
    listChanges = createDataversePairedRowActivities({ dataverse: connection.client }).listDataverseChanges;
    // 2,500 new accounts written by one mass update: every one carries the same modifiedon second.
    const accounts = sandbox.records.schema.table('account');
    for (let i = 0; i < 2500; i += 1) {
      const row = sandbox.records.create(accounts, { name: `Mass ${String(i).padStart(4, '0')}` }, { events: [] });
      row.modifiedon = SECOND;
      ids.add(String(row.accountid));
    }
    // One row a second later, so the cursor has somewhere to go after the mass update.
    const later = sandbox.records.create(accounts, { name: 'After the mass update' }, { events: [] });
    later.modifiedon = '2026-11-02T09:30:01Z';
    ids.add(String(later.accountid));
  });

  after(async () => {
    await connection.close();
    await sandbox.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('hands off all 2,501 rows once each over successive cycles, and the cursor moves past the crowded second', async () => {
    const env = new MockActivityEnvironment();
    const handedOff = new Map<string, number>();
    let since: DataverseChangesInput['since'] = {};
    let afterIds: DataverseChangesInput['afterIds'] = {};
    for (let cycle = 1; cycle <= 4; cycle += 1) {
      const changes: DataverseChanges = await env.run(listChanges, {
        connection: 'east',
        receivesNewAccounts: true,
        since,
        afterIds,
      });
      for (const id of changes.accountIds) handedOff.set(id, (handedOff.get(id) ?? 0) + 1);
      // The poll cycle keeps the cursor (and, now, the last id) in the company file and passes them back next time.
      since = changes.cursors;
      afterIds = changes.afterIds ?? {};
      if (changes.accountIds.length === 0) break;
    }
    assert.equal(handedOff.size, ids.size, `${ids.size - handedOff.size} rows were never handed off`);
    assert.ok([...handedOff.keys()].every((id) => ids.has(id)));
    assert.ok(
      [...handedOff.values()].every((n) => n === 1),
      'a row was handed off twice',
    );
    assert.equal(since.account, '2026-11-02T09:30:01Z');
  });
});

// Issue 11, finding (a): the cursor is a position (second, id). A row read at the cursor's second and saved again
// within that same second keeps its modifiedon and lies before the position, so the next read started after it: with
// the save's webhook lost, the save was never synced. The read now re-reads the cursor's second and hands off the
// rows saved since (newer row version), and only those: rows already handed off are not handed off again.
describe('the Dynamics change cursor re-reads its last second', () => {
  let dir: string;
  let sandbox: DataverseSandbox;
  let connection: DataverseConnection;
  let listChanges: (input: DataverseChangesInput) => Promise<DataverseChanges>;
  const SECOND = '2026-11-03T10:15:07Z';

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'qbsync-dataverse-overlap-'));
    sandbox = await startDataverseSandbox({ port: 0, dataDir: dir, seed: false });
    connection = connectToSandbox(sandbox);
    await provisionDataverse(connection.client, { log: pino({ level: 'silent' }) });
    listChanges = createDataversePairedRowActivities({ dataverse: connection.client }).listDataverseChanges;
  });

  after(async () => {
    await connection.close();
    await sandbox.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('hands off a row saved again within the second the last read ended on, and nothing read before', async () => {
    const env = new MockActivityEnvironment();
    const accounts = sandbox.records.schema.table('account');
    const saved = ['Harbour Supplies', 'Inland Freight', 'Northgate Tools'].map((name) => {
      const row = sandbox.records.create(accounts, { name }, { events: [] });
      row.modifiedon = SECOND;
      return String(row.accountid);
    });
    const read = async (since: DataverseChangesInput['since'], afterIds: DataverseChangesInput['afterIds']) =>
      (await env.run(listChanges, {
        connection: 'east',
        receivesNewAccounts: true,
        since,
        afterIds,
      })) as DataverseChanges;

    const first = await read({}, {});
    assert.deepEqual(new Set(first.accountIds), new Set(saved));
    assert.equal(first.cursors.account, SECOND);

    // Saved again within the same second (its webhook lost): modifiedon stays, the row version moves.
    const ordered = [...saved].sort();
    const again = ordered[0] ?? assert.fail('no row saved');
    const existing = sandbox.records.store.get('account', again);
    assert.ok(existing);
    const updated = sandbox.records.update(accounts, existing, { telephone1: '555-0107' }, { events: [] });
    updated.modifiedon = SECOND;

    const second = await read(first.cursors, first.afterIds);
    assert.deepEqual(second.accountIds, [again], 'the row saved again within the second was not handed off');
    assert.equal(second.cursors.account, SECOND);

    // Read again with nothing saved since: nothing is handed off twice.
    const third = await read(second.cursors, second.afterIds);
    assert.deepEqual(third.accountIds, []);
  });
});

// Issue 15's benchmark: after a load the connector's own writes come back first, oldest first. A cycle that counted
// every row read towards its 2,000 read only those and reached a person's new account five cycles later. Rows not
// handed off (echoes, rows of other types) no longer count towards the limit; a larger bound on rows read remains.
describe('the Dynamics change read counts only the rows it hands off towards its limit', () => {
  let dir: string;
  let sandbox: DataverseSandbox;
  let connection: DataverseConnection;
  let listChanges: (input: DataverseChangesInput) => Promise<DataverseChanges>;
  let newAccountId: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'qbsync-dataverse-passed-over-'));
    sandbox = await startDataverseSandbox({ port: 0, dataDir: dir, seed: false });
    connection = connectToSandbox(sandbox);
    await provisionDataverse(connection.client, { log: pino({ level: 'silent' }) });
    listChanges = createDataversePairedRowActivities({ dataverse: connection.client }).listDataverseChanges;
    const accounts = sandbox.records.schema.table('account');
    // 2,500 competitors (customertypecode 1): this connection never hands them off.
    for (let i = 0; i < 2500; i += 1) {
      const row = sandbox.records.create(
        accounts,
        { name: `Rival ${String(i).padStart(4, '0')}`, customertypecode: 1 },
        { events: [] },
      );
      row.modifiedon = '2026-12-07T08:00:00Z';
    }
    const person = sandbox.records.create(accounts, { name: 'Entered By Hand Ltd' }, { events: [] });
    person.modifiedon = '2026-12-07T08:00:01Z';
    newAccountId = String(person.accountid);
  });

  after(async () => {
    await connection.close();
    await sandbox.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reaches the account after 2,500 rows it passes over in one cycle, and the cursor ends on it', async () => {
    const changes: DataverseChanges = await new MockActivityEnvironment().run(listChanges, {
      connection: 'east',
      receivesNewAccounts: true,
      since: {},
      afterIds: {},
    });
    assert.deepEqual(changes.accountIds, [newAccountId]);
    assert.equal(changes.cursors.account, '2026-12-07T08:00:01Z');
  });

  it('stops at readLimit rows read, the cursor on the last of them, and goes on from there next cycle', async () => {
    const env = new MockActivityEnvironment();
    const first: DataverseChanges = await env.run(listChanges, {
      connection: 'east',
      receivesNewAccounts: true,
      since: {},
      afterIds: {},
      readLimit: 1000,
    });
    assert.deepEqual(first.accountIds, []);
    assert.equal(first.cursors.account, '2026-12-07T08:00:00Z');
    let { cursors: since, afterIds = {} } = first;
    const handedOff: { cycle: number; id: string }[] = [];
    for (let cycle = 2; cycle <= 4; cycle += 1) {
      const next: DataverseChanges = await env.run(listChanges, {
        connection: 'east',
        receivesNewAccounts: true,
        since,
        afterIds,
        readLimit: 1000,
      });
      handedOff.push(...next.accountIds.map((id) => ({ cycle, id })));
      ({ cursors: since, afterIds = {} } = next);
    }
    // 1,000 rows read a cycle: the competitors fill two cycles and half the third, which reaches the account.
    assert.deepEqual(handedOff, [{ cycle: 3, id: newAccountId }]);
  });
});
