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
