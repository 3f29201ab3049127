import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Client } from '@temporalio/client';
import { parse, stringify } from 'yaml';
import { loadDeployment } from '../src/config/deployment';
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

  before(async () => {
    tc = await startTestCluster('tls', 27433);
  });
  after(async () => {
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
});
