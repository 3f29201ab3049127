import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { workerConnectionOptions, type TemporalTarget } from '../../src/temporal/connect';
import { mutualTlsFixture } from '../../test/support/certificates';
import { temporalCliPath } from '../../test/support/temporal';
import type { TemporalCluster } from '../../scripts/temporal-cluster.mjs';

/**
 * A real Temporal cluster on the local PostgreSQL for one test file: fresh databases of its own, two frontends and two
 * history services behind one address, mutual TLS on the frontend with certificates made for the run, and a test
 * environment whose connections go through the connector's own connection builder with the right client certificate.
 */
export interface TestCluster {
  cluster: TemporalCluster;
  env: TestWorkflowEnvironment;
  /** How the connector reaches the cluster: address, CA, client certificate, server name. */
  target: TemporalTarget;
  certs: ReturnType<typeof mutualTlsFixture>;
  dir: string;
  close(): Promise<void>;
}

let runtimeInstalled = false;

export async function startTestCluster(name: string, basePort: number): Promise<TestCluster> {
  if (!runtimeInstalled) {
    Runtime.install({ logger: new DefaultLogger('WARN') });
    runtimeInstalled = true;
  }
  const clusterModule = await import('../../scripts/temporal-cluster.mjs');
  const dir = mkdtempSync(join(tmpdir(), `qbsync-cluster-${name}-`));
  const certs = mutualTlsFixture(join(dir, 'certs'));
  const database = {
    ...clusterModule.DEFAULT_DATABASE,
    name: `temporal_qbsync_test_${name}`,
    visibilityName: `temporal_qbsync_test_${name}_visibility`,
  };
  clusterModule.dropDatabases({ database });
  const cluster = await clusterModule.startTemporalCluster({
    dataDir: dir,
    database,
    basePort,
    cli: temporalCliPath(),
    tls: {
      caFile: certs.caFile,
      serverCertFile: certs.server.certFile,
      serverKeyFile: certs.server.keyFile,
      serverName: certs.serverName,
      clientCertFile: certs.client.certFile,
      clientKeyFile: certs.client.keyFile,
    },
    log: () => undefined,
  });
  const target: TemporalTarget = {
    address: cluster.address,
    namespace: cluster.namespace,
    tls: {
      serverCaPem: readFileSync(certs.caFile, 'utf8'),
      clientCertPem: readFileSync(certs.client.certFile, 'utf8'),
      clientKeyPem: readFileSync(certs.client.keyFile, 'utf8'),
      serverName: certs.serverName,
    },
  };
  let env: TestWorkflowEnvironment;
  try {
    env = await TestWorkflowEnvironment.createFromExistingServer({
      address: cluster.address,
      namespace: cluster.namespace,
      connectionOptions: workerConnectionOptions(target),
    });
  } catch (error) {
    await cluster.stop();
    throw error;
  }
  return {
    cluster,
    env,
    target,
    certs,
    dir,
    async close() {
      await env.teardown();
      await cluster.stop();
      clusterModule.dropDatabases({ database });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Restarts the machine's PostgreSQL (the one at port 5432) as its service manager would, and waits until it is back. */
export function restartPostgres(): void {
  const line = execFileSync('pg_lsclusters', ['--no-header'], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .find((fields) => fields[2] === '5432');
  if (!line) throw new Error('no PostgreSQL cluster on port 5432 in pg_lsclusters');
  const [version, clusterName] = line;
  execFileSync('pg_ctlcluster', ['--skip-systemctl-redirect', version!, clusterName!, 'restart'], {
    stdio: 'ignore',
  });
}
