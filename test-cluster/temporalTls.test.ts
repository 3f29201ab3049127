import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { Client } from '@temporalio/client';
import { parse, stringify } from 'yaml';
import { ensurePayloadKeyFile } from '../src/codec/keyRing';
import { loadDeployment } from '../src/config/deployment';
import { SecretStore } from '../src/config/secrets';
import { ensureCodecAccess } from '../src/gateway/codec/codecAccess';
import {
  connectTemporalClient,
  connectTemporalWorker,
  describeTemporalHandshake,
  TemporalConnectionError,
  type TemporalTarget,
} from '../src/temporal/connect';
import { startTestCluster, type TestCluster } from './support/cluster';

const root = resolve(__dirname, '..');

/**
 * Mutual TLS against the real frontend (Go's TLS stack, `requireClientAuth`): the connector's processes connect with
 * the right certificate through the configuration file, and each wrong one is refused with its cause named — by the
 * builder the worker and gateway use, and by a `qbsync` command run as the operator runs it.
 */
describe('Temporal over mutual TLS on the cluster: the right certificate connects, each wrong one is named', () => {
  let tc: TestCluster;
  const pem = (file: string): string => readFileSync(file, 'utf8');
  const withTls = (tls: Partial<NonNullable<TemporalTarget['tls']>>): TemporalTarget => ({
    ...tc.target,
    tls: { ...tc.target.tls, ...tls },
  });
  /**
   * `qbsync failed` as an operator runs it, pointed at the cluster by the Temporal CLI's own variables. Run without
   * blocking: the cluster's balancer lives in this process.
   */
  const qbsync = (tlsEnv: Record<string, string>) =>
    new Promise<{ status: number | null; stdout: string; stderr: string }>((resolveRun) => {
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', join(root, 'src', 'cli', 'main.ts'), 'failed', '--json'],
        {
          cwd: root,
          env: {
            PATH: process.env.PATH,
            HOME: process.env.HOME,
            LOG_LEVEL: 'warn',
            CONNECTOR_DATA_DIR: join(tc.dir, 'operator'),
            QBSYNC_PAYLOAD_KEYS: `k1:${randomBytes(32).toString('base64')}`,
            TEMPORAL_ADDRESS: tc.cluster.address,
            ...tlsEnv,
          },
        },
      );
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.on('close', (status) => resolveRun({ status, stdout, stderr }));
    });
  const cliTls = (client: { certFile: string; keyFile: string }, caFile = tc.certs.caFile) => ({
    TEMPORAL_TLS_SERVER_CA_CERT_PATH: caFile,
    TEMPORAL_TLS_CLIENT_CERT_PATH: client.certFile,
    TEMPORAL_TLS_CLIENT_KEY_PATH: client.keyFile,
    TEMPORAL_TLS_SERVER_NAME: tc.certs.serverName,
  });

  /** A port nothing listens on, for the gateway. */
  const freePort = (): Promise<number> =>
    new Promise((resolvePort, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const address = server.address();
        const port = typeof address === 'object' && address ? address.port : 0;
        server.close(() => resolvePort(port));
      });
    });
  /**
   * A data dir and configuration file as a deployment has them, pointing at the cluster through `temporal.tls` with
   * `client`'s certificate and key (the key as a secret reference, as the deployment guide advises).
   */
  const deploymentWith = (
    name: string,
    client: { certFile: string; keyFile: string },
    serverCa: string = tc.certs.caFile,
  ) => {
    const dir = join(tc.dir, name);
    const dataDir = join(dir, 'data');
    mkdirSync(dataDir, { recursive: true });
    const secrets = SecretStore.open(dataDir, {});
    secrets.set('qbwc-east-password', 'configured-web-connector-password');
    secrets.set('temporal-client-key', pem(client.keyFile));
    ensurePayloadKeyFile(dataDir);
    const configPath = join(dir, 'qbsync.yaml');
    writeFileSync(
      configPath,
      stringify({
        temporal: {
          address: tc.cluster.address,
          namespace: tc.cluster.namespace,
          taskQueue: `cluster-tls-${name}`,
          tls: {
            serverCa,
            clientCert: client.certFile,
            clientKey: 'secret:temporal-client-key',
            serverName: tc.certs.serverName,
          },
        },
        gateway: { host: '127.0.0.1', port: 1, publicUrl: 'https://qbsync.example.com' },
        dataverse: {
          environmentUrl: 'https://contoso.crm.dynamics.com',
          tenantId: 'contoso.onmicrosoft.com',
          clientId: '11111111-1111-1111-1111-111111111111',
          clientSecret: 'env:QBSYNC_TEST_DATAVERSE_SECRET',
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
    return { dataDir, configPath };
  };
  const started: ChildProcess[] = [];
  /** The worker or the gateway as a deployment starts it: `QBSYNC_CONFIG`, its data dir, nothing of the sandbox. */
  const connectorProcess = (entry: string, deployment: { dataDir: string; configPath: string }, port?: number) => {
    const child = spawn(process.execPath, ['--import', 'tsx', entry], {
      cwd: root,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        QBSYNC_CONFIG: deployment.configPath,
        CONNECTOR_DATA_DIR: deployment.dataDir,
        QBSYNC_TEST_DATAVERSE_SECRET: 'not-used-by-this-test',
        LOG_LEVEL: 'info',
        WORKER_METRICS_PORT: '0',
        WORKER_SDK_METRICS_PORT: '0',
        ...(port === undefined ? {} : { GATEWAY_PORT: String(port) }),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    started.push(child);
    let output = '';
    for (const stream of [child.stdout, child.stderr]) stream?.on('data', (chunk: Buffer) => (output += chunk));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    return { child, exited, output: () => output };
  };
  /** Resolves once `check` is true; fails, with the process's output, if it exits or 3 minutes pass first. */
  const until = async (
    what: string,
    p: { child: ChildProcess; output: () => string },
    check: () => Promise<boolean> | boolean,
  ): Promise<void> => {
    const deadline = Date.now() + 180_000;
    while (Date.now() < deadline) {
      if (p.child.exitCode !== null) assert.fail(`${what}: the process exited (${p.child.exitCode}):\n${p.output()}`);
      if (await Promise.resolve(check()).catch(() => false)) return;
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.fail(`${what}: not within 3 minutes:\n${p.output()}`);
  };

  before(async () => {
    tc = await startTestCluster('tls', 27433);
  });
  after(async () => {
    for (const child of started) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await tc?.close();
  });

  it('worker and client connect with the certificate the configuration file names, and Temporal answers', async () => {
    const example = parse(readFileSync(join(root, 'config', 'qbsync.example.yaml'), 'utf8')) as Record<string, unknown>;
    example.temporal = {
      address: tc.cluster.address,
      namespace: tc.cluster.namespace,
      taskQueue: 'cluster-tls',
      tls: {
        serverCa: tc.certs.caFile,
        clientCert: tc.certs.client.certFile,
        clientKey: tc.certs.client.keyFile,
        serverName: tc.certs.serverName,
      },
    };
    const configPath = join(tc.dir, 'qbsync.yaml');
    writeFileSync(configPath, stringify(example));
    const target = loadDeployment({ dataDir: tc.dir, env: { QBSYNC_CONFIG: configPath } }).temporalTarget();

    const native = await connectTemporalWorker(target);
    await native.close();
    const connection = await connectTemporalClient(target);
    try {
      const client = new Client({ connection, namespace: target.namespace });
      const info = await client.workflowService.describeNamespace({ namespace: target.namespace });
      assert.equal(info.namespaceInfo?.name, tc.cluster.namespace);
    } finally {
      await connection.close();
    }
    const described = await describeTemporalHandshake(target);
    assert.equal(described.ok, true, described.lines.join('\n'));
    assert.match(described.lines.join('\n'), /client identity\s+CN=qbsync-worker/);
  });

  it('a client certificate from a CA the cluster does not trust: refused, and the message says so', async () => {
    const rogue = withTls({
      clientCertPem: pem(tc.certs.rogueClient.certFile),
      clientKeyPem: pem(tc.certs.rogueClient.keyFile),
    });
    await assert.rejects(connectTemporalWorker(rogue), (error: unknown) => {
      assert.ok(error instanceof TemporalConnectionError);
      assert.match(error.message, /wrong client certificate: the server does not trust the CA that signed it/);
      return true;
    });
  });

  it('a cluster certificate from a CA we were not told to trust: unknown CA', async () => {
    await assert.rejects(
      connectTemporalClient(withTls({ serverCaPem: pem(tc.certs.rogueCaFile) }), { connectTimeout: '5 seconds' }),
      /unknown CA: the server's certificate is not signed by the configured server CA/,
    );
  });

  it('an expired client certificate: named before it is sent', async () => {
    const expired = withTls({
      clientCertPem: pem(tc.certs.expiredClient.certFile),
      clientKeyPem: pem(tc.certs.expiredClient.keyFile),
    });
    await assert.rejects(connectTemporalWorker(expired), /the client certificate \(CN=qbsync-expired\) expired on/);
  });

  it('qbsync connects with the right certificate and names the cause with each wrong one', async () => {
    const good = await qbsync(cliTls(tc.certs.client));
    assert.equal(good.status, 0, good.stderr);
    assert.deepEqual(JSON.parse(good.stdout), []);

    const rogue = await qbsync(cliTls(tc.certs.rogueClient));
    assert.equal(rogue.status, 1);
    assert.match(rogue.stderr, /qbsync failed: Temporal at 127\.0\.0\.1:27433: wrong client certificate/);

    const unknownCa = await qbsync(cliTls(tc.certs.client, tc.certs.rogueCaFile));
    assert.equal(unknownCa.status, 1);
    assert.match(unknownCa.stderr, /unknown CA/);

    const expired = await qbsync(cliTls(tc.certs.expiredClient));
    assert.equal(expired.status, 1);
    assert.match(
      expired.stderr,
      /TEMPORAL_TLS_CLIENT_CERT_PATH: the client certificate \(CN=qbsync-expired\) expired on/,
    );

    const plain = await qbsync({});
    assert.equal(plain.status, 1, 'plain text to a TLS frontend is refused');
  });
  it('the gateway and worker processes, started from the configuration file, serve with the right certificate', async () => {
    const deployment = deploymentWith('right', tc.certs.client);
    const port = await freePort();
    ensureCodecAccess(deployment.dataDir, `http://127.0.0.1:${port}`);
    const gateway = connectorProcess('src/gateway/main.ts', deployment, port);
    // Ready means Temporal answered the gateway's own client through the TLS it was configured with.
    await until('the gateway ready', gateway, async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).ok);
    const worker = connectorProcess('src/worker.ts', deployment);
    await until('the worker started', worker, () => worker.output().includes('worker started'));
    const connection = await connectTemporalClient(tc.target);
    try {
      const client = new Client({ connection, namespace: tc.cluster.namespace });
      const description = await client.workflowService.describeTaskQueue({
        namespace: tc.cluster.namespace,
        taskQueue: { name: 'cluster-tls-right' },
      });
      assert.ok(description.pollers && description.pollers.length > 0, 'the worker polls its task queue');
    } finally {
      await connection.close();
    }
  });

  it('the gateway and worker processes stop with a client certificate the cluster does not trust, naming the cause', async () => {
    const deployment = deploymentWith('rogue', tc.certs.rogueClient);
    const port = await freePort();
    ensureCodecAccess(deployment.dataDir, `http://127.0.0.1:${port}`);
    for (const entry of ['src/gateway/main.ts', 'src/worker.ts']) {
      const p = connectorProcess(entry, deployment, port);
      assert.equal(await p.exited, 1, `${entry} exits`);
      assert.match(p.output(), /wrong client certificate: the server does not trust the CA that signed it/, entry);
    }
  });

  it("the gateway and worker processes stop when the cluster's certificate is not from the configured CA: unknown CA", async () => {
    const deployment = deploymentWith('unknown-ca', tc.certs.client, tc.certs.rogueCaFile);
    const port = await freePort();
    ensureCodecAccess(deployment.dataDir, `http://127.0.0.1:${port}`);
    for (const entry of ['src/gateway/main.ts', 'src/worker.ts']) {
      const p = connectorProcess(entry, deployment, port);
      assert.equal(await p.exited, 1, `${entry} exits`);
      assert.match(p.output(), /unknown CA: the server's certificate is not signed by the configured server CA/, entry);
    }
  });

  it('the gateway and worker processes refuse to start with an expired client certificate, naming the field', async () => {
    const deployment = deploymentWith('expired', tc.certs.expiredClient);
    const port = await freePort();
    ensureCodecAccess(deployment.dataDir, `http://127.0.0.1:${port}`);
    for (const entry of ['src/gateway/main.ts', 'src/worker.ts']) {
      const p = connectorProcess(entry, deployment, port);
      assert.equal(await p.exited, 1, `${entry} exits`);
      assert.match(
        p.output(),
        /temporal\.tls\.clientCert: the client certificate \(CN=qbsync-expired\) expired on/,
        entry,
      );
    }
  });
});
