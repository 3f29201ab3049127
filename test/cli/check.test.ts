import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { checkCommand, findingsDocument, formatFindings } from '../../src/cli/checkCommand';
import { runConnectionCheck, type CheckFinding, type ConnectionCheckDeps } from '../../src/cli/connectionCheck';
import { ensurePayloadKeyFile } from '../../src/codec/keyRing';
import { hashPassword } from '../../src/config/qbwcPassword';
import { SecretStore } from '../../src/config/secrets';
import { sandboxSyncSettings } from '../../src/config/syncSettings';
import type { DeploymentConnection } from '../../src/config/deployment';
import type { DataverseConnection } from '../../src/dataverse/connect';
import { connectorWebhookTables } from '../../src/dataverse/connectorWebhook';
import { provisionDataverse } from '../../src/dataverse/provisioning';
import { startDataverseSandbox, type DataverseSandbox } from '../../src/sandbox/dataverse/server';
import { companyFileWorkflowId, enqueueQbxmlSignal } from '../../src/workflows/companyFile/messages';
import { companyFile } from '../../src/workflows/companyFile/workflow';
import { connectToSandbox } from '../support/dataverseSandbox';
import { useQuickBooksStack } from '../support/quickbooksStack';

const taskQueue = 'qbsync-check-test';
const WEBHOOK_KEY = 'check-test-webhook-key-0123456789';
const offices = ['east', 'west'] as const;

/**
 * `qbsync check` on a whole sandbox stack (Temporal dev server, worker, gateway, Web Connector simulators, the
 * Dataverse sandbox provisioned with webhooks to the gateway), broken one thing at a time.
 */
describe('qbsync check', () => {
  const suite = useQuickBooksStack(taskQueue, { callTimeoutMs: 15_000 });
  let dataverse: DataverseSandbox;
  let connection: DataverseConnection;
  let dataDir: string;
  let sandboxDir: string;
  let env: NodeJS.ProcessEnv;
  const webhookIds: Record<string, string[]> = {};

  /** The connector's steps (`connectorWebhook.ts`) for `tables`, registered as an administrator would, at `url`. */
  const registerWebhooks = (office: string, tables?: readonly string[], url?: string): void => {
    for (const { table, messages } of connectorWebhookTables()) {
      if (tables && !tables.includes(table)) continue;
      const id = dataverse.registerWebhook({
        url: url ?? `${suite.stack.gateway.url}/webhooks/dataverse/${office}`,
        entity: table,
        messages,
        authType: 'WebhookKey',
        key: WEBHOOK_KEY,
      });
      (webhookIds[`${office}:${table}`] ??= []).push(id);
    }
  };
  const unregisterWebhooks = (office: string, table: string): void => {
    for (const id of webhookIds[`${office}:${table}`]?.splice(0) ?? []) dataverse.unregisterWebhook(id);
  };

  before(async () => {
    sandboxDir = mkdtempSync(join(tmpdir(), 'qbsync-check-dv-'));
    dataverse = await startDataverseSandbox({ port: 0, dataDir: sandboxDir, keyActivationDelayMs: 50 });
    connection = connectToSandbox(dataverse, 'check-test');
    await provisionDataverse(connection.client, { log: pino({ level: 'silent' }) });
    for (const office of offices) registerWebhooks(office);

    // A data dir as `npm start` leaves it: connections, endpoints with a secret reference, the store, payload keys.
    dataDir = mkdtempSync(join(tmpdir(), 'qbsync-check-data-'));
    env = {
      ...process.env,
      QBSYNC_CONFIG: '',
      QBSYNC_SECRETS_KEY: '',
      QBSYNC_PAYLOAD_KEYS: '',
      DATAVERSE_URL: '',
      TEMPORAL_ADDRESS: suite.env.address,
      TEMPORAL_NAMESPACE: 'default',
      GATEWAY_PUBLIC_BASE_URL: suite.stack.gateway.url,
    };
    ensurePayloadKeyFile(dataDir);
    SecretStore.open(dataDir, env).set('dataverse-client-secret', dataverse.clientSecret);
    const connections = [];
    for (const office of offices) {
      connections.push({
        name: office,
        companyFileLabel: `${office} office`,
        qbwc: {
          userName: `qb-${office}`,
          passwordHash: await hashPassword(`${office}-password`),
          companyFilePath: `C:\\QuickBooks\\${office}.qbw`,
        },
        webhook: { kind: 'WebhookKey', key: WEBHOOK_KEY },
      });
    }
    writeFileSync(join(dataDir, 'connections.json'), JSON.stringify({ connections }), { mode: 0o600 });
    mkdirSync(join(dataDir, 'sandbox'));
    writeFileSync(
      join(dataDir, 'sandbox', 'endpoints.json'),
      JSON.stringify({
        dataverse: {
          webApiUrl: dataverse.webApiUrl,
          environmentUrl: dataverse.environmentUrl,
          authority: dataverse.authority,
          tenantId: dataverse.tenantId,
          clientId: dataverse.clientId,
          clientSecretRef: 'secret:dataverse-client-secret',
          caCertPath: dataverse.caCertPath,
        },
      }),
      { mode: 0o600 },
    );
  });

  after(async () => {
    await connection?.close();
    await dataverse?.close();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(sandboxDir, { recursive: true, force: true });
  });

  /** The real command, in process: what it printed and the exit code it left. */
  const qbsyncCheck = async (args: string[] = []): Promise<{ code: number; out: string; err: string }> => {
    let out = '';
    let err = '';
    const command = checkCommand(() => dataDir, {
      out: (text) => (out += text),
      err: (line) => (err += `${line}\n`),
      env,
    });
    const before = process.exitCode;
    await command.parseAsync(args, { from: 'user' });
    const code = Number(process.exitCode ?? 0);
    process.exitCode = before;
    return { code, out, err };
  };
  const failing = (findings: readonly CheckFinding[]) => findings.filter((f) => !f.ok);
  const findingsOf = async (): Promise<CheckFinding[]> => {
    const run = await qbsyncCheck(['--json']);
    const document = JSON.parse(run.out) as { ok: boolean; findings: CheckFinding[] };
    assert.equal(run.code, document.ok ? 0 : 1);
    return document.findings;
  };

  it('names a company file with no QBWC contact yet, and nothing else', async () => {
    const run = await qbsyncCheck();
    assert.equal(run.code, 1, run.out + run.err);
    assert.match(run.out, /FAIL {2}east: last Web Connector contact: no QBWC contact yet/);
    assert.match(run.out, /what to do: Add the connection's \.QWC to the QuickBooks Web Connector/);
    const findings = await findingsOf();
    assert.deepEqual(
      failing(findings).map((f) => f.check),
      ['east: last Web Connector contact', 'west: last Web Connector contact'],
      formatFindings(findings),
    );
  });

  it('passes every check once each Web Connector has run, and exits 0', async () => {
    for (const office of offices) {
      // Work in the queue, so the session reaches QuickBooks and the Web Connector reports what it runs against.
      await suite.env.client.workflow.signalWithStart(companyFile, {
        workflowId: companyFileWorkflowId(office),
        taskQueue,
        args: [{ connection: office }],
        signal: enqueueQbxmlSignal,
        signalArgs: [
          { requester: 'check-test', batchId: 'look', requests: [{ type: 'CustomerQuery', requestId: 'look-1' }] },
        ],
      });
      const session = await suite.stack.connector(office).runSession();
      assert.equal(session.outcome, 'completed', session.lastError);
    }
    const run = await qbsyncCheck();
    assert.equal(run.code, 0, run.out + run.err);
    assert.match(run.out, /All \d+ checks passed\./);
    assert.match(
      run.out,
      /ok {4}east: QuickBooks and qbXML versions: QuickBooks Enterprise Solutions 23\.0 \(version 33\.0\), qbXML 16\.0 .*; the connector writes qbXML 16\.0/,
    );
    assert.match(run.out, /ok {4}west: company file path: C:\\QuickBooks\\west\.qbw, as configured/);
    assert.match(run.out, /ok {4}transport: Temporal .*: plain text/);
    assert.match(
      run.out,
      /ok {4}webhooks \(east\): Create of salesorder, Update of salesorder, Create of account, Update of account, Create of product, Update of product, Win of opportunity reach this gateway at http:\/\/127\.0\.0\.1:\d+\/webhooks\/dataverse\/east/,
    );
  });

  it('--json is one document: ok, then each finding with area, check, ok, detail and, on failure, what to do', async () => {
    const run = await qbsyncCheck(['--json']);
    const document = JSON.parse(run.out) as Record<string, unknown>;
    assert.deepEqual(Object.keys(document), ['ok', 'findings']);
    assert.equal(document.ok, true);
    const findings = document.findings as Array<Record<string, unknown>>;
    assert.deepEqual([...new Set(findings.map((f) => f.area))], ['temporal', 'dataverse', 'company-file']);
    for (const finding of findings) {
      assert.equal(typeof finding.check, 'string');
      assert.equal(finding.ok, true);
      assert.equal(typeof finding.detail, 'string');
    }
    assert.ok(findings.some((f) => f.check === 'east: company file path' && f.connection === 'east'));
  });

  it('--probe-writes tries what the connector assumes of Dataverse on the organisation, and leaves no row behind', async () => {
    const probeRows = async (entitySet: string): Promise<Array<Record<string, unknown>>> => {
      const rows: Array<Record<string, unknown>> = [];
      for await (const row of connection.client.queryRows(entitySet, {
        select: ['name', 'statecode'],
        filter: "startswith(name,'qbsync probe')",
      })) {
        rows.push(row);
      }
      return rows;
    };
    // What products need, as an organisation has it: a unit group with its base unit, and a price list.
    const group = await connection.client.create('uomschedules', { name: 'Default Unit', baseuomname: 'Primary Unit' });
    await connection.client.create('uoms', {
      name: 'Primary Unit',
      quantity: 1,
      'uomscheduleid@odata.bind': `/uomschedules(${group.id})`,
    });
    await connection.client.create('pricelevels', { name: 'Default Price List' });
    const run = await qbsyncCheck(['--probe-writes']);
    assert.equal(run.code, 0, run.out + run.err);
    assert.match(run.out, /Dataverse write probes/);
    assert.match(
      run.out,
      /ok {4}upsert by alternate key: first write created the account, the second updated it; 1 row/,
    );
    assert.match(run.out, /ok {4}money precision \(account credit limit\): wrote 12\.345, Dataverse stored /);
    assert.match(run.out, /ok {4}default price list refused on product create: refused as expected: 400 0x80040203/);
    assert.match(run.out, /ok {4}\$batch answers with the failed operation: the batch failed with the operation's 404/);
    assert.deepEqual(await probeRows('accounts'), []);
    assert.deepEqual(await probeRows('products'), []);

    // A role without delete (least privilege): the probe's account is deactivated instead, and said so by id.
    dataverse.withholdPrivilege('prvDeleteAccount');
    try {
      const findings = (
        JSON.parse((await qbsyncCheck(['--json', '--probe-writes'])).out) as { findings: CheckFinding[] }
      ).findings;
      const cleanUp = findings.find((f) => f.area === 'dataverse-probes' && f.check === 'clean-up');
      assert.ok(cleanUp, formatFindings(findings));
      assert.match(
        cleanUp.detail,
        /could not delete accounts\([0-9a-f-]{36}\) .*; it is deactivated, named "qbsync probe /,
      );
      const left = await probeRows('accounts');
      assert.equal(left.length, 1);
      assert.equal(left[0]!.statecode, 1);
    } finally {
      dataverse.restorePrivileges();
    }
  });

  it('names a wrong client secret, with what to do, and never prints it', async () => {
    const wrong = 'wrong-secret-for-the-check-test-0123';
    const store = SecretStore.open(dataDir, env);
    store.set('dataverse-client-secret', wrong);
    try {
      const run = await qbsyncCheck();
      assert.equal(run.code, 1);
      assert.match(run.out, /FAIL {2}token: no token \(tenant .*, app .*, client secret/);
      assert.match(run.out, /what to do: The client secret is wrong or expired/);
      assert.equal(run.out.includes(wrong), false);
      assert.equal(run.out.includes(dataverse.clientSecret), false);
    } finally {
      store.set('dataverse-client-secret', dataverse.clientSecret);
    }
  });

  it('names a missing alternate key and says to provision', async () => {
    await connection.client.execute(
      'DELETE',
      "EntityDefinitions(LogicalName='account')/Keys(LogicalName='qbsync_sourcekey')",
    );
    try {
      const findings = await findingsOf();
      const failed = failing(findings);
      assert.equal(failed.length, 1, formatFindings(findings));
      assert.equal(failed[0]!.check, 'provisioning');
      assert.match(failed[0]!.detail, /alternate key account\.key\.qbsync_sourcekey is Missing/);
      assert.match(failed[0]!.fix ?? '', /Run `qbsync provision`/);
    } finally {
      await provisionDataverse(connection.client, { log: pino({ level: 'silent' }) });
    }
  });

  it('names a missing webhook step by connection, message and table, with what to register, and exits 1', async () => {
    unregisterWebhooks('west', 'salesorder');
    unregisterWebhooks('west', 'opportunity');
    try {
      const run = await qbsyncCheck();
      assert.equal(run.code, 1, run.out);
      assert.match(
        run.out,
        /FAIL {2}webhooks \(west\): no step for Create of salesorder, Update of salesorder, Win of opportunity points at this gateway \(http:\/\/127\.0\.0\.1:\d+\/webhooks\/dataverse\/west\)\. Until then a new order becomes a QuickBooks invoice, .* only at the next poll/,
      );
      const findings = await findingsOf();
      const failed = failing(findings);
      assert.deepEqual(
        failed.map((f) => f.check),
        ['webhooks (west)'],
        formatFindings(findings),
      );
      assert.match(
        failed[0]!.fix ?? '',
        /select the webhook at http:\/\/127\.0\.0\.1:\d+\/webhooks\/dataverse\/west .*register a step for each of Create of salesorder \(PostOperation, asynchronous\), Update of salesorder \(PostOperation, asynchronous\), Win of opportunity \(PostOperation, asynchronous\)/,
      );
    } finally {
      registerWebhooks('west', ['salesorder', 'opportunity']);
    }
  });

  it('names webhook steps that point at another gateway, where they point, and what URL to give them', async () => {
    const oldGateway = 'https://old-gateway.invalid/webhooks/dataverse/west';
    unregisterWebhooks('west', 'account');
    registerWebhooks('west', ['account'], oldGateway);
    try {
      const run = await qbsyncCheck(['--json']);
      assert.equal(run.code, 1, run.out);
      const document = JSON.parse(run.out) as { ok: boolean; findings: CheckFinding[] };
      assert.equal(document.ok, false);
      const failed = failing(document.findings);
      assert.deepEqual(
        failed.map((f) => f.check),
        ['webhooks (west)'],
        formatFindings(document.findings),
      );
      assert.match(
        failed[0]!.detail,
        /^Create of account points at https:\/\/old-gateway\.invalid\/webhooks\/dataverse\/west instead of this gateway \(http:\/\/127\.0\.0\.1:\d+\/webhooks\/dataverse\/west\); Update of account points at https:\/\/old-gateway\.invalid\/webhooks\/dataverse\/west instead of this gateway/,
      );
      assert.match(
        failed[0]!.fix ?? '',
        /change the endpoint URL of the webhook at https:\/\/old-gateway\.invalid\/webhooks\/dataverse\/west to http:\/\/127\.0\.0\.1:\d+\/webhooks\/dataverse\/west/,
      );
      // East's own registrations on this gateway are east's, not "another gateway" for west.
      assert.doesNotMatch(failed[0]!.detail, /dataverse\/east/);
    } finally {
      unregisterWebhooks('west', 'account');
      registerWebhooks('west', ['account']);
    }
  });

  it("names a privilege the connector's role lacks by its Dataverse name, the tables it governs and how to grant it", async () => {
    // Dataverse names a sales order's privileges after Order; the order lines have none of their own.
    dataverse.withholdPrivilege('prvReadOrder');
    dataverse.withholdPrivilege('prvWriteOrder');
    try {
      const run = await qbsyncCheck();
      assert.equal(run.code, 1, run.out);
      assert.match(
        run.out,
        /FAIL {2}privileges \(Order\): the application user lacks prvReadOrder \(Read on salesorder, salesorderdetail\), prvWriteOrder \(Write on salesorder\): salesorder: orders become invoices.*; salesorderdetail: order lines/,
      );
      assert.match(
        run.out,
        /what to do: Power Platform admin center → the environment → Settings → Users \+ permissions → Security roles → "QuickBooks connector" .*on the row Order, give Read, Write at Organization level/,
      );
      const findings = await findingsOf();
      const failed = failing(findings);
      assert.deepEqual(
        failed.map((f) => f.check),
        ['privileges (Order)'],
        formatFindings(findings),
      );
    } finally {
      dataverse.restorePrivileges();
    }
  });

  it('names each role editor row that lacks a privilege in its own finding', async () => {
    dataverse.withholdPrivilege('prvAppendToProduct');
    dataverse.withholdPrivilege('prvCreateInvoice');
    try {
      const findings = await findingsOf();
      const failed = failing(findings);
      assert.deepEqual(
        failed.map((f) => [f.check, f.area]),
        [
          ['privileges (Product)', 'dataverse'],
          ['privileges (Invoice)', 'dataverse'],
        ],
        formatFindings(findings),
      );
      assert.match(
        failed[0]!.detail,
        /lacks prvAppendToProduct \(Append To on product, productpricelevel, pricelevel, uom, uomschedule\)/,
      );
      assert.match(failed[0]!.fix ?? '', /on the row Product, give Append To at Organization level/);
      assert.match(failed[1]!.detail, /lacks prvCreateInvoice \(Create on invoice, invoicedetail\)/);
    } finally {
      dataverse.restorePrivileges();
    }
  });

  it('names a privilege held below Organization level, which would hide rows from the sync without an error', async () => {
    dataverse.limitPrivilegeDepth('prvReadAccount', 'Basic');
    try {
      const run = await qbsyncCheck(['--json']);
      assert.equal(run.code, 1, run.out);
      const findings = (JSON.parse(run.out) as { findings: CheckFinding[] }).findings;
      const failed = failing(findings);
      assert.deepEqual(
        failed.map((f) => f.check),
        ['privileges (Account)'],
        formatFindings(findings),
      );
      assert.match(
        failed[0]!.detail,
        /^the application user holds prvReadAccount \(Read on account\) only at User level, so the sync sees and changes only the rows of its own user: account: /,
      );
      assert.match(failed[0]!.fix ?? '', /on the row Account, give Read at Organization level/);
    } finally {
      dataverse.restorePrivileges();
    }
  });

  it('names a company file that reports another file than the configured one', async () => {
    const elsewhere = suite.stack.connector('east');
    // The Web Connector's `.QWC` user now opens the file at another path (a copy, a restored backup).
    (elsewhere as unknown as { opts: { companyFilePath: string } }).opts.companyFilePath = 'C:\\Backups\\east copy.qbw';
    await suite.env.client.workflow.signalWithStart(companyFile, {
      workflowId: companyFileWorkflowId('east'),
      taskQueue,
      args: [{ connection: 'east' }],
      signal: enqueueQbxmlSignal,
      signalArgs: [
        { requester: 'check-test', batchId: 'look-2', requests: [{ type: 'CustomerQuery', requestId: 'look-2' }] },
      ],
    });
    const session = await elsewhere.runSession();
    assert.equal(session.outcome, 'completed', session.lastError);
    const findings = await findingsOf();
    const failed = failing(findings);
    assert.equal(failed.length, 1, formatFindings(findings));
    assert.equal(failed[0]!.check, 'east: company file path');
    assert.match(
      failed[0]!.detail,
      /opened C:\\Backups\\east copy\.qbw, but the configuration says C:\\QuickBooks\\east\.qbw/,
    );
  });

  /** A connection of this deployment with no QBWC path configured. */
  const office = (name: string): DeploymentConnection => ({
    name,
    companyFileLabel: `${name} office`,
    qbwc: { userName: `qb-${name}`, companyFilePath: '' },
    hasWebhook: false,
    schedule: { every: '1h', paused: false },
    sync: sandboxSyncSettings(name),
  });
  /** The checks of Temporal and of `connection`'s company file, on this suite's dev server (Dataverse not under test). */
  const companyFileChecks = (connection: DeploymentConnection): ConnectionCheckDeps => ({
    temporal: { address: suite.env.address, namespace: 'default' },
    withTemporal: (work) => work(suite.env.client),
    dataverseTarget: () => {
      throw new Error('not under test');
    },
    gateway: { publicUrl: suite.stack.gateway.url },
    connections: [connection],
  });

  it('names the last poll cycle when it failed, with its failure, and says it once a later one completed', async () => {
    const deps = companyFileChecks(office('north'));
    const lastPoll = async (): Promise<CheckFinding | undefined> =>
      (await runConnectionCheck(deps)).find((f) => f.check === 'north: last poll');
    assert.equal((await lastPoll())?.detail, 'no poll cycle has ended yet');
    // A scheduled run (its id carries the time it was due) that skipped an unreadable list, as pollCycle fails then;
    // and another workflow whose id merely starts alike, which is not the connection's poll.
    await suite.env.client.workflow
      .execute('failedPollCycle', {
        workflowId: 'poll/north-2026-12-07T01:00:00Z',
        taskQueue,
        args: ['The poll skipped the Customer list: the answer could not be read'],
      })
      .catch(() => undefined);
    await suite.env.client.workflow
      .execute('failedPollCycle', { workflowId: 'poll/northern', taskQueue, args: ['another connection'] })
      .catch(() => undefined);
    // Visibility follows the runs' ends a moment later.
    const untilLastPoll = async (done: (f: CheckFinding | undefined) => boolean): Promise<CheckFinding | undefined> => {
      let finding = await lastPoll();
      for (let i = 0; i < 50 && !done(finding); i++) {
        await new Promise((r) => setTimeout(r, 200));
        finding = await lastPoll();
      }
      return finding;
    };
    const failed = await untilLastPoll((f) => f?.ok === false);
    assert.ok(failed, 'no last-poll finding');
    assert.equal(failed.ok, false);
    assert.match(failed.detail, /^poll\/north-2026-12-07T01:00:00Z failed .*: The poll skipped the Customer list/);
    assert.match(failed.fix ?? '', /\(UnreadableQuickBooksList\) names the record to fix in QuickBooks/);

    await suite.env.client.workflow.execute('completedPollCycle', {
      workflowId: 'poll/north-2026-12-07T02:00:00Z',
      taskQueue,
    });
    const completed = await untilLastPoll((f) => f?.ok === true);
    assert.match(completed?.detail ?? '', /^poll\/north-2026-12-07T02:00:00Z completed/);
  });

  it('names a company file whose workflow tasks keep failing', async () => {
    // A run the worker cannot execute (here: a type it does not know) fails every workflow task, as a bricked run does.
    await suite.env.client.workflow.start('noSuchCompanyFileWorkflow', {
      workflowId: companyFileWorkflowId('south'),
      taskQueue,
      args: [],
    });
    const deps = companyFileChecks(office('south'));
    const handle = suite.env.client.workflow.getHandle(companyFileWorkflowId('south'));
    for (let i = 0; i < 100; i++) {
      const described = await handle.describe();
      if ((described.raw.pendingWorkflowTask?.attempt ?? 0) > 1) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const findings = await runConnectionCheck(deps);
    const finding = findings.find((f) => f.check === 'south: workflow');
    assert.ok(finding, formatFindings(findings));
    assert.equal(finding.ok, false);
    assert.match(
      finding.detail,
      /qbfile\/south is not making progress: its workflow task has failed \d+ time\(s\) in a row/,
    );
    assert.match(finding.fix ?? '', /docs\/versioning\.md/);
    assert.equal(findingsDocument(findings).ok, false);
    await handle.terminate('test over');
  });
});
