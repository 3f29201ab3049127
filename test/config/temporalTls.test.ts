import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import { ConfigFileError } from '../../src/config/configFile';
import { loadDeployment, temporalTargetFromEnvironment } from '../../src/config/deployment';
import { SecretStore } from '../../src/config/secrets';
import { mutualTlsFixture } from '../support/certificates';

type Json = Record<string, unknown>;

const examplePath = resolve(__dirname, '../../config/qbsync.example.yaml');
const dir = mkdtempSync(join(tmpdir(), 'qbsync-temporal-tls-'));
const certs = mutualTlsFixture(join(dir, 'certs'));
const STORE_KEY = randomBytes(32).toString('base64');
let counter = 0;

/** The shipped example with `temporal` replaced: a file written next to the certificates, as an operator would. */
function configWith(temporal: Json): string {
  const data = parse(readFileSync(examplePath, 'utf8')) as Json;
  data.temporal = { address: 'temporal.qbsync.test:7233', namespace: 'default', ...temporal };
  const path = join(dir, `qbsync-${++counter}.yaml`);
  writeFileSync(path, stringify(data));
  return path;
}

function deploymentFor(path: string, env: NodeJS.ProcessEnv = {}) {
  return loadDeployment({ dataDir: dir, env: { QBSYNC_CONFIG: path, QBSYNC_SECRETS_KEY: STORE_KEY, ...env } });
}

/** The problems of loading the file and resolving its Temporal settings. */
function problemsOf(path: string, env: NodeJS.ProcessEnv = {}): string[] {
  try {
    deploymentFor(path, env).temporalTarget();
  } catch (error) {
    assert.ok(error instanceof ConfigFileError, `expected a ConfigFileError, got ${String(error)}`);
    return [...error.problems];
  }
  assert.fail('no problem reported');
}

after(() => rmSync(dir, { recursive: true, force: true }));

describe('temporal.tls and temporal.apiKey in the configuration file', () => {
  it('without them, Temporal is reached in plain text, as `npm start` does', () => {
    const target = deploymentFor(configWith({})).temporalTarget();
    assert.deepEqual(target, { address: 'temporal.qbsync.test:7233', namespace: 'default' });
  });

  it('reads the CA and client pair from files relative to the configuration file', () => {
    const target = deploymentFor(
      configWith({
        tls: {
          serverCa: 'certs/ca.pem',
          clientCert: 'certs/client.pem',
          clientKey: 'certs/client-key.pem',
          serverName: 'temporal.qbsync.test',
        },
      }),
    ).temporalTarget();
    assert.equal(target.tls?.serverCaPem, readFileSync(certs.caFile, 'utf8'));
    assert.equal(target.tls?.clientCertPem, readFileSync(certs.client.certFile, 'utf8'));
    assert.equal(target.tls?.clientKeyPem, readFileSync(certs.client.keyFile, 'utf8'));
    assert.equal(target.tls?.serverName, 'temporal.qbsync.test');
  });

  it('takes the key and the API key from secret references', () => {
    const store = SecretStore.open(dir, { QBSYNC_SECRETS_KEY: STORE_KEY });
    store.set('temporal-client-key', readFileSync(certs.client.keyFile, 'utf8'));
    const target = deploymentFor(
      configWith({
        tls: { clientCert: certs.client.certFile, clientKey: 'secret:temporal-client-key' },
        apiKey: 'env:CLOUD_API_KEY',
      }),
      { CLOUD_API_KEY: 'cloud-api-key-value' },
    ).temporalTarget();
    assert.equal(target.tls?.clientKeyPem, readFileSync(certs.client.keyFile, 'utf8'));
    assert.equal(target.tls?.serverCaPem, undefined, 'no CA: the system trusted CAs, as for Temporal Cloud');
    assert.equal(target.apiKey, 'cloud-api-key-value');
  });

  it('refuses a key written into the file, without quoting it', () => {
    const keyPem = readFileSync(certs.client.keyFile, 'utf8');
    const problems = problemsOf(configWith({ tls: { clientCert: certs.client.certFile, clientKey: keyPem } }));
    assert.equal(problems.length, 1);
    assert.match(problems[0]!, /^temporal\.tls\.clientKey: give a file path or a secret reference/);
    assert.ok(!problems.join('\n').includes('PRIVATE KEY'), 'the message must not quote the key');
  });

  it('names each field that is wrong, all in one pass', () => {
    const problems = problemsOf(
      configWith({
        tls: { clientCert: certs.client.certFile, serverName: 'not a host name', serverCa: 'secret:Bad Name' },
        apiKey: 'literal-api-key',
      }),
    );
    assert.deepEqual(
      problems.map((p) => p.split(':')[0]),
      ['temporal.tls.serverCa', 'temporal.tls.serverName', 'temporal.tls.clientKey', 'temporal.apiKey'],
    );
    assert.ok(!problems.join('\n').includes('literal-api-key'));
  });

  it('an expired client certificate, a key of another certificate, a missing file: each named with its field', () => {
    assert.deepEqual(
      problemsOf(
        configWith({ tls: { clientCert: certs.expiredClient.certFile, clientKey: certs.expiredClient.keyFile } }),
      ).map((p) => p.replace(/\d{4}-\d\d-\d\dT[\d:.]+Z/, '<date>')),
      ['temporal.tls.clientCert: the client certificate (CN=qbsync-expired) expired on <date>; renew it'],
    );
    assert.deepEqual(
      problemsOf(configWith({ tls: { clientCert: certs.client.certFile, clientKey: certs.rogueClient.keyFile } })),
      ['temporal.tls.clientCert: the client key does not belong to the client certificate'],
    );
    const missing = join(dir, 'certs', 'missing-ca.pem');
    assert.deepEqual(problemsOf(configWith({ tls: { serverCa: missing } })), [
      `temporal.tls.serverCa: ${missing} cannot be read (ENOENT)`,
    ]);
    assert.deepEqual(problemsOf(configWith({ tls: { serverCa: certs.client.keyFile } })), [
      'temporal.tls.serverCa: is not a PEM certificate',
    ]);
  });

  it("without a configuration file, the Temporal CLI's TLS variables point every process at a secured cluster", () => {
    const target = temporalTargetFromEnvironment(dir, {
      TEMPORAL_ADDRESS: '127.0.0.1:17233',
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: certs.caFile,
      TEMPORAL_TLS_CLIENT_CERT_PATH: certs.client.certFile,
      TEMPORAL_TLS_CLIENT_KEY_PATH: certs.client.keyFile,
      TEMPORAL_TLS_SERVER_NAME: 'temporal.qbsync.test',
    });
    assert.equal(target.address, '127.0.0.1:17233');
    assert.equal(target.tls?.clientCertPem, readFileSync(certs.client.certFile, 'utf8'));
    assert.equal(target.tls?.serverName, 'temporal.qbsync.test');
    assert.throws(
      () =>
        temporalTargetFromEnvironment(dir, {
          TEMPORAL_TLS_CLIENT_CERT_PATH: certs.expiredClient.certFile,
          TEMPORAL_TLS_CLIENT_KEY_PATH: certs.expiredClient.keyFile,
        }),
      /TEMPORAL_TLS_CLIENT_CERT_PATH: the client certificate \(CN=qbsync-expired\) expired on/,
    );
    assert.equal(temporalTargetFromEnvironment(dir, {}).tls, undefined);
  });
});
