import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import pino from 'pino';
import { createActivities } from '../../src/activities';
import { BulkRowUpdater } from '../../src/activities/bulkUpdates';
import type { DataverseActivities } from '../../src/activities/dataverse';
import type { PartyToDataverseInput } from '../../src/activities/dataverseListRecords';
import type { DataverseConnection } from '../../src/dataverse/connect';
import {
  DataverseConcurrencyError,
  DataverseNotFoundError,
  DataverseValidationError,
} from '../../src/dataverse/errors';
import { provisionDataverse } from '../../src/dataverse/provisioning';
import { customerContact, customerToAccount, DEFAULT_OWNERSHIP } from '../../src/mapping';
import type { CustomerRet } from '../../src/qbxml/requests';
import { DataverseFaults } from '../../src/sandbox/dataverse/faults';
import { startDataverseSandbox, type DataverseSandbox } from '../../src/sandbox/dataverse/server';
import { choices, value } from '../mapping/mappingResults';
import { calls, runAttempt, runWithRetries } from '../support/activityAttempts';
import { connectToSandbox } from '../support/dataverseSandbox';

// Issue 15: updates of existing rows from concurrent record activities travel together — UpdateMultiple when the
// update needs no row version, a continue-on-error $batch when it is conditioned on one — and each activity still
// gets its own row's outcome.
describe('record activities update existing rows in shared calls', () => {
  let dir: string;
  let sandbox: DataverseSandbox;
  let connection: DataverseConnection;
  const faults = new DataverseFaults();
  /** Rows per call: a call leaves when this many have gathered, so grouping is not timing. */
  const ROWS = 5;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'qbsync-bulk-updates-'));
    sandbox = await startDataverseSandbox({ port: 0, dataDir: dir, seed: true, faults, keyActivationDelayMs: 0 });
    connection = connectToSandbox(sandbox);
    await provisionDataverse(connection.client, { log: pino({ level: 'silent' }) });
    // What the table allows is asked once per client; asked here so the counts below hold only the updates.
    await connection.client.hasOptimisticConcurrency('accounts');
  });

  after(async () => {
    await connection.close();
    await sandbox.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const accountRow = (id: string) => sandbox.records.store.get('account', id);

  async function newAccounts(prefix: string, count = ROWS): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      const created = await connection.client.create('accounts', { name: `${prefix} ${i}`, customertypecode: 3 });
      ids.push(created.id!);
    }
    return ids;
  }

  const updater = () =>
    new BulkRowUpdater(connection.client, 'accounts', { updateMultiple: true, maxRows: ROWS, gatherMs: 600_000 });

  it('concurrent updates without a row version go in one UpdateMultiple, each caller gets its own outcome', async () => {
    const ids = await newAccounts('Plain Update');
    const shared = updater();
    const before = sandbox.stats();

    const results = await Promise.all(ids.map((id, i) => shared.update(id, { telephone1: `555-02${i}` })));

    const after = sandbox.stats();
    assert.equal(calls(before, after, 'accounts/UpdateMultiple'), 1, 'the updates did not travel in one call');
    assert.equal(after.requests - before.requests, 1);
    assert.equal(results.length, ROWS);
    ids.forEach((id, i) => assert.equal(accountRow(id)?.telephone1, `555-02${i}`));
  });

  it('concurrent updates on a row version go in one $batch, each PATCH holding its own If-Match', async () => {
    const ids = await newAccounts('Versioned Update');
    const versions = await Promise.all(
      ids.map((id) => connection.client.retrieve('accounts', id, { select: ['name'] })),
    );
    const shared = updater();
    const before = sandbox.stats();

    const results = await Promise.all(
      ids.map((id, i) =>
        shared.update(id, { telephone1: `555-03${i}` }, { etag: String(versions[i]!['@odata.etag']) }),
      ),
    );

    const after = sandbox.stats();
    assert.equal(after.requests - before.requests, 1, 'the updates did not travel in one request');
    assert.equal(calls(before, after, 'accounts/UpdateMultiple'), 0, 'a conditional update lost its condition');
    ids.forEach((id, i) => {
      assert.equal(accountRow(id)?.telephone1, `555-03${i}`);
      assert.notEqual(results[i]!.etag, versions[i]!['@odata.etag'], `update ${i} answered the version it replaced`);
    });
  });

  it('a row Dataverse refuses fails its update alone with its reason; the others are written', async () => {
    const ids = await newAccounts('Refused Update');
    const missing = '0f0e0d0c-0b0a-4909-8807-0605040302aa';
    const bad = 2;
    const shared = updater();
    const before = sandbox.stats();

    const settled = await Promise.allSettled(
      ids.map((id, i) =>
        i === bad
          ? // A relationship type Dynamics does not have: on a standard table the call is all or nothing.
            shared.update(id, { customertypecode: 999_999, telephone1: 'never' })
          : shared.update(i === ROWS - 1 ? missing : id, { telephone1: `555-04${i}` }),
      ),
    );

    settled.forEach((outcome, i) => {
      if (i === bad) {
        assert.equal(outcome.status, 'rejected');
        assert.ok((outcome as PromiseRejectedResult).reason instanceof DataverseValidationError);
        assert.notEqual(accountRow(ids[i]!)?.telephone1, 'never', 'the refused row was written');
      } else if (i === ROWS - 1) {
        // UpdateMultiple never creates: the row that is not there fails alone.
        assert.equal(outcome.status, 'rejected');
        assert.ok((outcome as PromiseRejectedResult).reason instanceof DataverseNotFoundError);
        assert.equal(accountRow(missing), undefined, 'the update created a row');
      } else {
        assert.equal(outcome.status, 'fulfilled', `update ${i} failed with the bad row`);
        assert.equal(accountRow(ids[i]!)?.telephone1, `555-04${i}`);
      }
    });
    assert.ok(calls(before, sandbox.stats(), 'accounts/UpdateMultiple') >= 4, 'the call was not split');
  });

  it('a row changed since its read fails alone with a concurrency error; the other updates of the $batch are written', async () => {
    const ids = await newAccounts('Stale Update');
    const versions = await Promise.all(
      ids.map((id) => connection.client.retrieve('accounts', id, { select: ['name'] })),
    );
    const stale = 1;
    // Someone edits one row in Dynamics after the sync read it.
    await connection.client.update('accounts', ids[stale]!, { telephone1: 'edited in Dynamics' });
    const shared = updater();

    const settled = await Promise.allSettled(
      ids.map((id, i) =>
        shared.update(id, { telephone1: `555-05${i}` }, { etag: String(versions[i]!['@odata.etag']) }),
      ),
    );

    settled.forEach((outcome, i) => {
      if (i === stale) {
        assert.equal(outcome.status, 'rejected');
        assert.ok((outcome as PromiseRejectedResult).reason instanceof DataverseConcurrencyError);
        assert.equal(accountRow(ids[i]!)?.telephone1, 'edited in Dynamics', "the person's edit was overwritten");
      } else {
        assert.equal(outcome.status, 'fulfilled');
        assert.equal(accountRow(ids[i]!)?.telephone1, `555-05${i}`);
      }
    });
  });

  function customerInput(listId: string, name: string, phone: string): PartyToDataverseInput {
    const record: CustomerRet = {
      kind: 'Customer',
      listId,
      editSequence: '1',
      name,
      fullName: name,
      phone,
      timeModified: '2026-12-01T10:00:00Z',
    };
    const ctx = { companyFile: 'east', choices };
    return {
      desired: value(customerToAccount(record, ctx)),
      contact: value(customerContact(record, ctx)),
      qbModifiedAt: record.timeModified!,
      ownership: DEFAULT_OWNERSHIP,
      returnsToQuickBooks: true,
    };
  }

  function activities(bulk: boolean): DataverseActivities {
    // Never dialled: these activities reach only Dataverse.
    const temporal = new Client({ connection: Connection.lazy({ address: '127.0.0.1:7233' }) });
    const all = createActivities({
      client: temporal,
      taskQueue: 'bulk-updates-test',
      dataverse: connection.client,
      bulkWrites: bulk && { maxRows: ROWS, gatherMs: 200 },
      bulkReads: bulk && { maxValues: ROWS, gatherMs: 200 },
      bulkUpdates: bulk ? { maxRows: ROWS, gatherMs: 200 } : false,
    });
    assert.ok('syncPartyToDataverse' in all);
    return all as unknown as DataverseActivities;
  }

  it('a lost answer of a shared update is safe to retry: every record ends updated, once', async () => {
    const listIds = Array.from({ length: ROWS }, (_, i) => `8000U${i}-1700000000`);
    const first = await Promise.all(
      listIds.map((id, i) =>
        runAttempt(activities(false).syncPartyToDataverse, customerInput(id, `Retry Buyer ${i}`, '555-0100')),
      ),
    );
    const { syncPartyToDataverse } = activities(true);
    const lostBefore = faults.injected.answerLostAfterCommit;
    faults.loseAnswersAfterCommit(1);

    // The phone changed in QuickBooks: the accounts are updated on their row versions, in a shared $batch.
    const results = await runWithRetries(
      syncPartyToDataverse,
      listIds.map((id, i) => customerInput(id, `Retry Buyer ${i}`, `555-06${i}`)),
    );

    assert.equal(faults.injected.answerLostAfterCommit - lostBefore, 1, 'no answer was lost');
    faults.clear();
    results.forEach((result, i) => {
      assert.equal(result.rowId, first[i]!.rowId, `record ${i} got another row`);
      const rows = sandbox.records.store
        .all('account')
        .filter((r) => r.qbsync_companyfile === 'east' && r.qbsync_qblistid === listIds[i]);
      assert.equal(rows.length, 1, `record ${i} has ${rows.length} accounts`);
      assert.equal(rows[0]!.telephone1, `555-06${i}`);
    });
  });
});
