import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { MockActivityEnvironment } from '@temporalio/testing';
import pino from 'pino';
import { createActivities } from '../../src/activities';
import type { ReconcileActivities } from '../../src/activities/reconcile';
import type { DataverseConnection } from '../../src/dataverse/connect';
import { provisionDataverse } from '../../src/dataverse/provisioning';
import { startDataverseSandbox, type DataverseSandbox } from '../../src/sandbox/dataverse/server';
import { connectToSandbox } from '../support/dataverseSandbox';

// The worker's activities follow their attempt through the one shared Dataverse client (issue 11 item 11): their
// requests heartbeat, so a worker killed mid-request is noticed within the heartbeat timeout, and a cancelled or
// timed-out attempt sends nothing more, so it cannot write after its retry has begun.
describe('Dataverse activities follow their activity attempt', () => {
  let dir: string;
  let sandbox: DataverseSandbox;
  let connection: DataverseConnection;
  let read: ReconcileActivities['readDataverseRowsPage'];
  const page = { entitySet: 'accounts', select: ['accountid', 'name'] };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'qbsync-dataverse-attempt-'));
    sandbox = await startDataverseSandbox({ port: 0, dataDir: dir, seed: false });
    connection = connectToSandbox(sandbox);
    await provisionDataverse(connection.client, { log: pino({ level: 'silent' }) });
    // Never dialled: these activities reach only Dataverse.
    const temporal = new Client({ connection: Connection.lazy({ address: '127.0.0.1:7233' }) });
    const activities = createActivities({ client: temporal, taskQueue: 'attempt-test', dataverse: connection.client });
    assert.ok('readDataverseRowsPage' in activities);
    read = activities.readDataverseRowsPage as ReconcileActivities['readDataverseRowsPage'];
  });

  after(async () => {
    await connection.close();
    await sandbox.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('heartbeats while its Dataverse request runs', async () => {
    const env = new MockActivityEnvironment();
    let heartbeats = 0;
    env.on('heartbeat', () => (heartbeats += 1));
    await env.run(read, page);
    assert.ok(heartbeats >= 1, 'the activity never heartbeat');
  });

  it('sends no request once its attempt is cancelled', async () => {
    const env = new MockActivityEnvironment();
    const before = sandbox.stats().requests;
    env.cancel();
    await assert.rejects(env.run(read, page));
    assert.equal(sandbox.stats().requests, before, 'a cancelled attempt still reached Dataverse');
  });
});
