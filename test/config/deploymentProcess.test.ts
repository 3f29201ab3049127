import type { TestWorkflowEnvironment } from '@temporalio/testing';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { ensurePayloadKeyFile } from '../../src/codec/keyRing';
import { SecretStore } from '../../src/config/secrets';
import { ensureCodecAccess } from '../../src/gateway/codec/codecAccess';
import { companyFileWorkflowId } from '../../src/workflows/companyFile/messages';
import { postSoap, qbwcEnvelope } from '../support/gateway';
import { startTestTemporal } from '../support/temporal';

/**
 * The gateway as a process, started the way a deployment starts it: `QBSYNC_CONFIG` and nothing else from the sandbox.
 * No worker runs, so an accepted authenticate is seen where it ends: the company file's workflow started in Temporal,
 * on the configured task queue.
 */

const root = resolve(__dirname, '../..');
const PASSWORD = 'configured-web-connector-password';
const TASK_QUEUE = 'configured-queue';

async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const found = await check().catch(() => undefined);
    if (found !== undefined) return found;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('the gateway process run from a configuration file', () => {
  let env: TestWorkflowEnvironment;
  let gateway: ChildProcess;
  let url: string;
  let output = '';

  before(async () => {
    env = await startTestTemporal();
    const dir = mkdtempSync(join(tmpdir(), 'qbsync-configured-gateway-'));
    const dataDir = join(dir, 'data');
    SecretStore.open(dataDir, {}).set('qbwc-east-password', PASSWORD);
    ensurePayloadKeyFile(dataDir);
    const port = await freePort();
    ensureCodecAccess(dataDir, `http://127.0.0.1:${port}`);
    const configPath = join(dir, 'qbsync.yaml');
    writeFileSync(
      configPath,
      stringify({
        temporal: { address: env.address, namespace: env.namespace ?? 'default', taskQueue: TASK_QUEUE },
        // Port 1 would fail to bind: the process must take GATEWAY_PORT over the file.
        gateway: { host: '127.0.0.1', port: 1, publicUrl: 'https://qbsync.example.com' },
        dataverse: {
          environmentUrl: 'https://contoso.crm.dynamics.com',
          tenantId: 'contoso.onmicrosoft.com',
          clientId: '11111111-1111-1111-1111-111111111111',
          // The gateway never reads Dataverse's secret: leaving it unset proves each process resolves only its own.
          clientSecret: 'env:QBSYNC_TEST_UNSET_DATAVERSE_SECRET',
        },
        connections: [
          {
            name: 'east',
            companyFileLabel: 'East office',
            qbwc: { userName: 'qbsync-east', password: 'secret:qbwc-east-password' },
            sync: {
              items: {
                accounts: { income: { fullName: 'Sales' } },
                writeInItem: { fullName: 'Write-in' },
                discountItem: { fullName: 'Discount' },
                freightItem: { fullName: 'Freight' },
              },
              invoices: { refNumber: { kind: 'orderNumber' } },
            },
          },
        ],
      }),
    );
    // Only what a deployment sets: nothing that would point the process at the sandbox or another Temporal.
    const childEnv: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME };
    Object.assign(childEnv, {
      QBSYNC_CONFIG: configPath,
      CONNECTOR_DATA_DIR: dataDir,
      GATEWAY_PORT: String(port),
      LOG_LEVEL: 'info',
    });
    gateway = spawn(process.execPath, ['--import', 'tsx', 'src/gateway/main.ts'], {
      cwd: root,
      env: childEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    for (const stream of [gateway.stdout, gateway.stderr]) stream?.on('data', (chunk: Buffer) => (output += chunk));
    url = `http://127.0.0.1:${port}`;
  });

  after(async () => {
    if (gateway.exitCode === null && gateway.signalCode === null) {
      const exited = new Promise((r) => gateway.once('exit', r));
      gateway.kill('SIGTERM');
      await exited;
    }
    await env.teardown();
  });

  it('serves /healthz on GATEWAY_PORT', async () => {
    const health = await waitFor('the gateway', async () => {
      if (gateway.exitCode !== null) throw new Error(`gateway exited: ${output}`);
      const res = await fetch(`${url}/healthz`);
      return res.ok ? res : undefined;
    }).catch((error: unknown) => {
      throw new Error(`${String(error)}\n${output}`);
    });
    assert.equal(health.status, 200);
  });

  it('refuses a wrong password, and takes the configured one through to the company file workflow', async () => {
    const refused = await postSoap(
      `${url}/qbwc`,
      'authenticate',
      qbwcEnvelope('authenticate', { strUserName: 'qbsync-east', strPassword: 'not-the-password' }),
    );
    assert.match(refused.text, /<string>nvu<\/string>/);

    // No worker runs, so the answer waits on the Update; the start it makes is what shows the password was accepted.
    const accepted = postSoap(
      `${url}/qbwc`,
      'authenticate',
      qbwcEnvelope('authenticate', { strUserName: 'qbsync-east', strPassword: PASSWORD }),
    ).catch(() => undefined);
    const description = await waitFor('the company file workflow', async () =>
      env.client.workflow.getHandle(companyFileWorkflowId('east')).describe(),
    );
    assert.equal(description.taskQueue, TASK_QUEUE);
    assert.ok(!output.includes(PASSWORD), 'the password reached the log');
    await accepted;
  });
});
