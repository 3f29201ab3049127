import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import pino from 'pino';
import { createActivities } from '../../src/activities';
import { runReconcile, ReconcileExit } from '../../src/cli/reconcileCommand';
import { sandboxSyncSettings } from '../../src/config/syncSettings';
import type { DataverseClient } from '../../src/dataverse/client';
import type { DataverseConnection } from '../../src/dataverse/connect';
import { connectToSandbox } from '../support/dataverseSandbox';
import { moneyToWire, qbListKey } from '../../src/dataverse/entities';
import { provisionDataverse } from '../../src/dataverse/provisioning';
import { customerToAccount } from '../../src/mapping';
import { parseQbxmlResponse } from '../../src/qbxml/parse';
import type { CustomerRet } from '../../src/qbxml/requests';
import type { ReconcileReport } from '../../src/reconcile/report';
import { startDataverseSandbox, type DataverseSandbox } from '../../src/sandbox/dataverse/server';
import { reconcile } from '../../src/workflows/reconcile';
import { driveSessions, startQuickBooksStack, type QuickBooksStack } from '../support/quickbooksStack';
import { startTestTemporal } from '../support/temporal';

const taskQueue = 'reconcile-test';

function qbxml(body: string): string {
  return `<?xml version="1.0" encoding="utf-8"?><?qbxml version="13.0"?><QBXML><QBXMLMsgsRq onError="stopOnError">${body}</QBXMLMsgsRq></QBXML>`;
}

describe('reconcile (real Temporal, Web Connector simulator, QuickBooks and Dataverse sandboxes)', () => {
  let env: TestWorkflowEnvironment;
  let worker: Worker;
  let running: Promise<void>;
  let stack: QuickBooksStack;
  let sandbox: DataverseSandbox;
  let connection: DataverseConnection;
  let dataverse: DataverseClient;
  let dir: string;
  const customers: Record<string, CustomerRet> = {};
  let orderId = '';

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'qbsync-reconcile-'));
    sandbox = await startDataverseSandbox({ port: 0, dataDir: join(dir, 'dataverse'), seed: false });
    connection = connectToSandbox(sandbox);
    dataverse = connection.client;
    await provisionDataverse(dataverse, { log: pino({ level: 'silent' }) });
    // Upserts by key need the alternate key's index, which the sandbox builds shortly after provisioning.
    await new Promise((r) => setTimeout(r, 300));

    env = await startTestTemporal();
    worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowsPath: require.resolve('../fixtures/workflows'),
      activities: createActivities({
        client: env.client,
        taskQueue,
        dataverse,
        settings: new Map([['east', sandboxSyncSettings('east')]]),
      }),
    });
    running = worker.run();
    stack = await startQuickBooksStack(env, taskQueue);

    // Terms reach Dataverse through the choice labels ("Net 30" → 1, "Net 60" → 4): the sandbox configures no pairs.
    const adds = [
      ['Agreeing Customer', '555-0101', 'agree@example.com', 'Net 30'],
      ['Missing Customer', '555-0102', 'missing@example.com', 'Net 60'],
      ['Edited Customer', '555-0103', 'edited@example.com', 'Net 60'],
    ]
      .map(
        ([name, phone, email, terms], i) =>
          `<CustomerAddRq requestID="a${i}"><CustomerAdd><Name>${name}</Name><Phone>${phone}</Phone><Email>${email}</Email><TermsRef><FullName>${terms}</FullName></TermsRef></CustomerAdd></CustomerAddRq>`,
      )
      .join('');
    const added = parseQbxmlResponse(stack.files.east!.processRequest(qbxml(adds)));
    for (const rs of added) {
      assert.equal(rs.statusCode, 0, rs.statusMessage);
      const record = rs.records[0] as CustomerRet;
      customers[record.name] = record;
    }

    // The sync's outcome, written the way the sync writes it: the mapped account, upserted by the connector's key.
    const configured = sandboxSyncSettings('east').choices;
    const ctx = { companyFile: 'east', choices: { ...configured, terms: { 'Net 30': 1, 'Net 60': 4 } } };
    const accountIds: Record<string, string> = {};
    for (const name of ['Agreeing Customer', 'Edited Customer']) {
      const customer = customers[name]!;
      const mapped = customerToAccount(customer, ctx);
      assert.ok(mapped.ok, JSON.stringify(mapped));
      const body: Record<string, unknown> = { ...mapped.value };
      if (typeof body.creditlimit === 'string') body.creditlimit = moneyToWire(body.creditlimit);
      const written = await dataverse.upsertByKey('accounts', qbListKey('east', customer.listId), body);
      accountIds[name] = written.id!;
    }
    // Someone edits one account in Dynamics afterwards.
    await dataverse.update('accounts', accountIds['Edited Customer']!, { telephone1: '555-9999' });

    // An order with a line that never became an invoice.
    const created = await dataverse.create('salesorders', {
      name: 'Setup for Agreeing Customer',
      ordernumber: 'ORD-01001-AB12CD',
      'customerid_account@odata.bind': `/accounts(${accountIds['Agreeing Customer']!})`,
    });
    orderId = created.id!;
    await dataverse.create('salesorderdetails', {
      'salesorderid@odata.bind': `/salesorders(${orderId})`,
      isproductoverridden: true,
      productdescription: 'On-site setup',
      quantity: 1,
      priceperunit: 250,
    });
  });

  after(async () => {
    await stack?.gateway.close();
    worker?.shutdown();
    await running;
    await env?.teardown();
    await connection?.close();
    await sandbox?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reports the missing customer, the changed field and the order without invoice, and nothing else', async () => {
    const handle = await env.client.workflow.start(reconcile, {
      workflowId: `reconcile/east/${new Date().toISOString()}`,
      taskQueue,
      args: [{ connection: 'east' }],
    });
    const report: ReconcileReport = await driveSessions(stack.connector('east'), handle.result());

    const c = report.entities.customers;
    assert.deepEqual(
      { quickbooks: c.quickbooks, dynamics: c.dynamics, matched: c.matched },
      { quickbooks: 3, dynamics: 2, matched: 2 },
    );
    assert.deepEqual(c.onlyInQuickBooks, [{ key: customers['Missing Customer']!.listId, name: 'Missing Customer' }]);
    assert.deepEqual(c.onlyInDynamics, []);
    assert.deepEqual(c.unmappable, []);
    assert.equal(c.fieldDifferences.length, 1);
    assert.equal(c.fieldDifferences[0]?.key, customers['Edited Customer']!.listId);
    assert.deepEqual(c.fieldDifferences[0]?.columns, { telephone1: { quickbooks: '555-0103', dynamics: '555-9999' } });

    for (const entity of ['vendors', 'items'] as const) {
      assert.deepEqual(report.entities[entity].totals, {
        onlyInQuickBooks: 0,
        onlyInDynamics: 0,
        fieldDifferences: 0,
        unmappable: 0,
      });
    }
    assert.deepEqual(
      report.ordersWithoutInvoice.map((o) => ({ id: o.id, customer: o.customerListId })),
      [{ id: orderId, customer: customers['Agreeing Customer']!.listId }],
    );
    assert.deepEqual(report.amountDifferences, []);
    assert.equal(report.inAgreement, false);
  });

  it('qbsync reconcile writes the JSON report to --out and exits 1 when out of agreement', async () => {
    const out = join(dir, 'report.json');
    const errors: string[] = [];
    const run = runReconcile(
      { connection: 'east', json: true, out, timeoutMs: 120_000 },
      { client: env.client, taskQueue, out: () => undefined, err: (line) => errors.push(line) },
    );
    const code = await driveSessions(stack.connector('east'), run);
    assert.equal(code, ReconcileExit.OutOfAgreement, errors.join('\n') + readFileSync(out, 'utf8'));
    const written = JSON.parse(readFileSync(out, 'utf8')) as ReconcileReport;
    assert.equal(written.connection, 'east');
    assert.equal(written.entities.customers.totals.onlyInQuickBooks, 1);
  });
});
