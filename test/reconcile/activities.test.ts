import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import pino from 'pino';
import {
  createReconcileActivities,
  type DataverseRowsPage,
  type ReconcileActivities,
} from '../../src/activities/reconcile';
import type { DataverseClient } from '../../src/dataverse/client';
import type { DataverseConnection } from '../../src/dataverse/connect';
import { connectToSandbox } from '../support/dataverseSandbox';
import { provisionDataverse } from '../../src/dataverse/provisioning';
import { startDataverseSandbox, type DataverseSandbox } from '../../src/sandbox/dataverse/server';

describe('reconcile activities against the Dataverse sandbox', () => {
  let dir: string;
  let sandbox: DataverseSandbox;
  let connection: DataverseConnection;
  let dataverse: DataverseClient;
  let activities: ReconcileActivities;
  const env = new MockActivityEnvironment();
  const orders: string[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'qbsync-reconcile-activities-'));
    sandbox = await startDataverseSandbox({ port: 0, dataDir: dir, seed: false });
    connection = connectToSandbox(sandbox);
    dataverse = connection.client;
    await provisionDataverse(dataverse, { log: pino({ level: 'silent' }) });
    activities = createReconcileActivities({ dataverse });
    for (let i = 0; i < 5; i++) {
      await dataverse.create('accounts', {
        name: `East ${i}`,
        qbsync_companyfile: 'east',
        qbsync_qblistid: `L${i}`,
        creditlimit: 5000.5 + i,
        telephone1: '555-0100',
      });
    }
    const west = await dataverse.create('accounts', { name: 'West 0', qbsync_companyfile: 'west' });
    for (const name of ['With a line', 'Without lines']) {
      const created = await dataverse.create('salesorders', {
        name,
        'customerid_account@odata.bind': `/accounts(${west.id!})`,
      });
      orders.push(created.id!);
    }
    await dataverse.create('salesorderdetails', {
      'salesorderid@odata.bind': `/salesorders(${orders[0]!})`,
      isproductoverridden: true,
      productdescription: 'Write-in',
      quantity: 2,
      priceperunit: 10,
    });
  });

  after(async () => {
    await connection.close();
    await sandbox.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('pages through a query with the next-page token, returning only the selected columns, money as decimal text', async () => {
    const request = {
      entitySet: 'accounts',
      select: ['accountid', 'name', 'creditlimit', 'qbsync_qblistid'],
      filter: "qbsync_companyfile eq 'east'",
      pageSize: 2,
      decimalColumns: ['creditlimit'],
    };
    const sizes: number[] = [];
    const rows: Record<string, unknown>[] = [];
    let pageToken: string | undefined;
    do {
      const page: DataverseRowsPage = await env.run(activities.readDataverseRowsPage, {
        ...request,
        ...(pageToken ? { pageToken } : {}),
      });
      sizes.push(page.rows.length);
      rows.push(...page.rows);
      pageToken = page.nextPageToken;
    } while (pageToken);
    assert.deepEqual(sizes, [2, 2, 1]);
    assert.deepEqual(new Set(rows.map((r) => r.qbsync_qblistid)), new Set(['L0', 'L1', 'L2', 'L3', 'L4']));
    for (const row of rows) assert.deepEqual(Object.keys(row).sort(), [...request.select].sort());
    assert.equal(rows.find((r) => r.qbsync_qblistid === 'L0')?.creditlimit, '5000.5');
  });

  it('fails without retrying when Dataverse refuses the query', async () => {
    await assert.rejects(
      env.run(activities.readDataverseRowsPage, { entitySet: 'accounts', select: ['nosuchcolumn'] }),
      (error: unknown) => error instanceof ApplicationFailure && error.nonRetryable,
    );
  });

  it('tells which orders have lines', async () => {
    assert.deepEqual(await env.run(activities.salesOrdersWithLines, { orderIds: orders }), [orders[0]]);
    await assert.rejects(
      env.run(activities.salesOrdersWithLines, { orderIds: Array.from({ length: 501 }, () => orders[0]!) }),
      /at most 500/,
    );
  });
});
