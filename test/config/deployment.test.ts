import assert from 'node:assert/strict';
import { createHash, createPrivateKey, randomUUID, X509Certificate } from 'node:crypto';
import { hostTimeZone } from '../../src/qbxml/localTime';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { selfSignedCertificate } from '../support/certificates';
import { SignJWT } from 'jose';
import { stringify } from 'yaml';
import { dataverseTarget } from '../../src/cli/provisionCommand';
import { ConfigFileError } from '../../src/config/configFile';
import { loadDeployment } from '../../src/config/deployment';
import { SecretStore } from '../../src/config/secrets';
import { connectDataverse, dataverseTokenProvider } from '../../src/dataverse/connect';
import { DataverseAuthError } from '../../src/dataverse/errors';
import { verifyPassword } from '../../src/config/qbwcPassword';
import { startDataverseSandbox, type DataverseSandbox } from '../../src/sandbox/dataverse/server';

type Json = Record<string, unknown>;

const EAST_PASSWORD = 'east-web-connector-password';
const WEST_PASSWORD = 'west-web-connector-password';
const WEBHOOK_KEY = 'webhook-key-of-the-east-office-0123456789';

let sandbox: DataverseSandbox;
let dataDir: string;
let configDir: string;
let fileCounter = 0;

const registeredCertificate = selfSignedCertificate('qbsync-app');

/** Only the variables a test names: the runner's own environment must not decide anything here. */
function envFor(configPath: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { QBSYNC_CONFIG: configPath, ...extra };
}

function sync(receivesNewAccounts: boolean): Json {
  return {
    items: {
      accounts: { income: { fullName: 'Sales' } },
      writeInItem: { fullName: 'Write-in' },
      discountItem: { fullName: 'Discount' },
      freightItem: { fullName: 'Freight' },
    },
    invoices: { refNumber: { kind: 'orderNumber' } },
    receivesNewAccounts,
  };
}

/** A configuration pointing at the Dataverse sandbox, with every secret a reference. */
function configData(): Json {
  return {
    temporal: { address: '127.0.0.1:17233', namespace: 'qbsync-test', taskQueue: 'qbsync-test-queue' },
    gateway: { host: '127.0.0.1', port: 18080, publicUrl: 'https://qbsync.example.com/' },
    dataverse: {
      environmentUrl: sandbox.environmentUrl,
      tenantId: sandbox.tenantId,
      clientId: sandbox.clientId,
      clientSecret: 'secret:dataverse-client-secret',
      authority: sandbox.authority,
      // Relative, as an operator would write it next to the file.
      caCertPath: relative(configDir, sandbox.caCertPath),
    },
    governor: { maxConcurrent: 8, requestsPerWindow: 600, windowSeconds: 30 },
    batching: { maxRequestsPerRoundTrip: 20, maxRecordsPerRoundTrip: 200 },
    connections: [
      {
        name: 'east',
        companyFileLabel: 'East office',
        qbwc: {
          userName: 'qbsync-east',
          password: 'secret:qbwc-east-password',
          companyFilePath: 'C:\\East.qbw',
          timeZone: 'America/New_York',
        },
        webhook: { kind: 'WebhookKey', key: 'env:EAST_WEBHOOK_KEY' },
        schedule: { every: '15m', paused: true },
        sync: sync(true),
      },
      {
        name: 'west',
        companyFileLabel: 'West office',
        qbwc: { userName: 'qbsync-west', password: 'env:WEST_QBWC_PASSWORD' },
        sync: sync(false),
      },
    ],
  };
}

function writeConfig(data: unknown): string {
  const path = join(configDir, `qbsync-${++fileCounter}.yaml`);
  writeFileSync(path, stringify(data));
  return path;
}

const secretEnv = { EAST_WEBHOOK_KEY: WEBHOOK_KEY, WEST_QBWC_PASSWORD: WEST_PASSWORD };

describe('the deployment from a configuration file', () => {
  before(async () => {
    const root = mkdtempSync(join(tmpdir(), 'qbsync-deployment-'));
    dataDir = join(root, 'data');
    configDir = join(root, 'etc');
    mkdirSync(configDir, { recursive: true });
    sandbox = await startDataverseSandbox({
      port: 0,
      dataDir: join(root, 'dataverse'),
      seed: false,
      clientCertificates: [registeredCertificate.certPem],
    });
    const store = SecretStore.open(dataDir, {});
    store.set('dataverse-client-secret', sandbox.clientSecret);
    store.set('qbwc-east-password', EAST_PASSWORD);
  });
  after(async () => {
    await sandbox.close();
  });

  it('reaches Dataverse with the referenced client secret: a token, then WhoAmI', async () => {
    const path = writeConfig(configData());
    const deployment = loadDeployment({ dataDir, env: envFor(path) });
    const target = deployment.dataverseTarget();
    assert.equal(target.clientSecret, sandbox.clientSecret);
    assert.equal(target.webApiUrl, `${sandbox.environmentUrl}/api/data/v9.2/`);
    assert.match(target.caPem ?? '', /BEGIN CERTIFICATE/);
    assert.deepEqual(deployment.governor, { maxConcurrent: 8, requestsPerWindow: 600, windowMs: 30_000 });

    const dataverse = connectDataverse(target, { label: 'deployment-test', governor: deployment.governor });
    try {
      const whoAmI = await dataverse.client.execute('GET', 'WhoAmI');
      assert.equal(whoAmI.status, 200);
      assert.match(String((whoAmI.body as { UserId?: unknown }).UserId), /^[0-9a-f-]{36}$/);
    } finally {
      await dataverse.close();
    }
    // `qbsync provision` reaches the same organisation from the same file.
    assert.equal(dataverseTarget(dataDir, envFor(path)).environmentUrl, sandbox.environmentUrl);
  });

  it('reaches Dataverse with a certificate credential (tenants that forbid secrets), and names a bad certificate', async () => {
    writeFileSync(join(configDir, 'app.crt'), registeredCertificate.certPem);
    const store = SecretStore.open(dataDir, {});
    store.set('dataverse-app-key', registeredCertificate.keyPem);
    const withCertificate = (certificate: string, privateKey: string): string => {
      const data = configData();
      const dataverse = data.dataverse as Json;
      delete dataverse.clientSecret;
      dataverse.clientCertificate = { certificate, privateKey, sendX5c: true };
      return writeConfig(data);
    };
    const target = loadDeployment({
      dataDir,
      env: envFor(withCertificate('app.crt', 'secret:dataverse-app-key')),
    }).dataverseTarget();
    assert.equal(target.clientSecret, undefined);
    assert.equal(target.clientCertificate?.x5cPem, registeredCertificate.certPem);
    const dataverse = connectDataverse(target, { label: 'deployment-certificate' });
    try {
      assert.equal((await dataverse.client.execute('GET', 'WhoAmI')).status, 200);
    } finally {
      await dataverse.close();
    }

    const problemsOf = (path: string): string[] => {
      try {
        loadDeployment({ dataDir, env: envFor(path) }).dataverseTarget();
      } catch (error) {
        assert.ok(error instanceof ConfigFileError, String(error));
        assert.equal(error.message.includes('PRIVATE KEY'), false);
        return [...error.problems];
      }
      return assert.fail('the certificate was accepted');
    };
    // The key of another certificate: Entra would refuse every assertion it signs.
    store.set('other-key', selfSignedCertificate('someone-else').keyPem);
    assert.deepEqual(problemsOf(withCertificate('app.crt', 'secret:other-key')), [
      'dataverse.clientCertificate.certificate: the client key does not belong to the client certificate',
    ]);
    const expired = selfSignedCertificate('qbsync-app-2025', { expired: true });
    writeFileSync(join(configDir, 'expired.crt'), expired.certPem);
    store.set('expired-key', expired.keyPem);
    const [problem, ...more] = problemsOf(withCertificate('expired.crt', 'secret:expired-key'));
    assert.equal(more.length, 0);
    assert.match(
      problem ?? '',
      /^dataverse\.clientCertificate\.certificate: the client certificate \(CN=qbsync-app-2025\) expired on /,
    );
    assert.deepEqual(problemsOf(withCertificate('missing.crt', 'secret:dataverse-app-key')), [
      `dataverse.clientCertificate.certificate: ${join(configDir, 'missing.crt')} cannot be read (ENOENT)`,
    ]);
  });

  it('reaches Dataverse with a client assertion file, read anew at each token request, and names a missing one', async () => {
    /** A JWT-bearer assertion as a signer outside the connector writes it, signed with the registered certificate. */
    const assertion = async (): Promise<string> => {
      const der = new X509Certificate(registeredCertificate.certPem).raw;
      return new SignJWT({})
        .setProtectedHeader({
          alg: 'RS256',
          typ: 'JWT',
          'x5t#S256': createHash('sha256').update(der).digest('base64url'),
        })
        .setIssuer(sandbox.clientId)
        .setSubject(sandbox.clientId)
        .setAudience(`${sandbox.authority}/oauth2/v2.0/token`)
        .setJti(randomUUID())
        .setNotBefore('-1m')
        .setIssuedAt()
        .setExpirationTime('10m')
        .sign(createPrivateKey(registeredCertificate.keyPem));
    };
    const assertionPath = join(configDir, 'assertion.jwt');
    writeFileSync(assertionPath, `${await assertion()}\n`);
    const data = configData();
    const dataverse = data.dataverse as Json;
    delete dataverse.clientSecret;
    dataverse.clientAssertionFile = 'assertion.jwt';
    const target = loadDeployment({ dataDir, env: envFor(writeConfig(data)) }).dataverseTarget();
    assert.equal(target.clientAssertionFile, assertionPath);
    const connection = connectDataverse(target, { label: 'deployment-assertion' });
    try {
      assert.equal((await connection.client.execute('GET', 'WhoAmI')).status, 200);
    } finally {
      await connection.close();
    }

    // The file is what counts at each request: a renewed assertion is used, a stale or missing one fails by name.
    const tokens = dataverseTokenProvider(target, 'deployment-assertion-renewal');
    try {
      writeFileSync(assertionPath, 'not-a-jwt');
      const malformed = await tokens.getToken().catch((e: unknown) => e);
      assert.ok(malformed instanceof DataverseAuthError, String(malformed));
      assert.match(malformed.message, /assertion\.jwt holds no JWT/);
      writeFileSync(assertionPath, await assertion());
      assert.match(await tokens.getToken(), /^ey/);
    } finally {
      await tokens.close();
    }
    const missing = dataverseTokenProvider({ ...target, clientAssertionFile: join(configDir, 'gone.jwt') }, 'gone');
    try {
      const error = await missing.getToken().catch((e: unknown) => e);
      assert.ok(error instanceof DataverseAuthError, String(error));
      assert.match(error.message, /gone\.jwt cannot be read \(ENOENT\)/);
    } finally {
      await missing.close();
    }
  });

  it('keeps only scrypt hashes of the Web Connector passwords, which verify against the referenced values', async () => {
    const deployment = loadDeployment({ dataDir, env: envFor(writeConfig(configData()), secretEnv) });
    const [east, west] = await deployment.qbwcConnections();
    assert.equal(east?.userName, 'qbsync-east');
    assert.equal(east?.companyFilePath, 'C:\\East.qbw');
    assert.equal(east?.timeZone, 'America/New_York');
    assert.equal(west?.timeZone, hostTimeZone());
    assert.ok(east && (await verifyPassword(EAST_PASSWORD, east.passwordHash)));
    assert.ok(east && !(await verifyPassword(WEST_PASSWORD, east.passwordHash)));
    assert.ok(west && (await verifyPassword(WEST_PASSWORD, west.passwordHash)));
    assert.ok(!east.passwordHash.includes(EAST_PASSWORD));
  });

  it('gives the processes the configured addresses, schedules, batching and webhook keys; the environment wins', () => {
    const path = writeConfig(configData());
    const deployment = loadDeployment({ dataDir, env: envFor(path, secretEnv) });
    assert.deepEqual(deployment.source, { kind: 'config-file', path });
    assert.deepEqual(deployment.temporal, {
      address: '127.0.0.1:17233',
      namespace: 'qbsync-test',
      taskQueue: 'qbsync-test-queue',
    });
    assert.deepEqual(deployment.gateway, {
      host: '127.0.0.1',
      port: 18080,
      publicUrl: 'https://qbsync.example.com',
      qbwcUrl: 'https://qbsync.example.com/qbwc',
    });
    assert.deepEqual(deployment.batching, {
      maxRequestsPerRoundTrip: 20,
      maxRecordsPerRoundTrip: 200,
      quickbooksWaitHours: 72,
    });
    assert.equal(deployment.choiceOptionsMaxAgeMs, 60_000, 'the choice options are kept 60 s by default');
    assert.equal(deployment.maxCachedWorkflows, 2000, 'the worker caches 2,000 workflows by default');
    assert.deepEqual(
      deployment.connections.map((c) => [c.name, c.schedule, c.sync.receivesNewAccounts]),
      [
        ['east', { every: '15m', paused: true }, true],
        ['west', { every: '1h', paused: false }, false],
      ],
    );
    assert.deepEqual(deployment.webhookConnections(), [
      { name: 'east', auth: { kind: 'WebhookKey', key: WEBHOOK_KEY } },
    ]);

    const moved = loadDeployment({
      dataDir,
      env: envFor(path, { TEMPORAL_ADDRESS: 'temporal.internal:7233', GATEWAY_PORT: '9090' }),
    });
    assert.equal(moved.temporal.address, 'temporal.internal:7233');
    assert.equal(moved.temporal.taskQueue, 'qbsync-test-queue');
    assert.equal(moved.gateway.port, 9090);
  });

  it('gives the worker the configured workflow cache size, and stops at start on one it cannot use', () => {
    const data = { ...configData(), worker: { maxCachedWorkflows: 600 } };
    assert.equal(loadDeployment({ dataDir, env: envFor(writeConfig(data), secretEnv) }).maxCachedWorkflows, 600);
    const path = writeConfig({ ...data, worker: { maxCachedWorkflows: -1 } });
    assert.throws(
      () => loadDeployment({ dataDir, env: envFor(path, secretEnv) }),
      (error: unknown) =>
        error instanceof ConfigFileError &&
        error.problems.length === 1 &&
        error.problems[0]!.startsWith('worker.maxCachedWorkflows: must be at least 2'),
    );
  });

  it('names a missing secret by its field and reference, and never prints a value', async () => {
    const data = configData();
    const connections = data.connections as Json[];
    (connections[0]!.qbwc as Json).password = 'secret:qbwc-east-typo';
    const deployment = loadDeployment({ dataDir, env: envFor(writeConfig(data), {}) });
    await assert.rejects(deployment.qbwcConnections(), (error: unknown) => {
      assert.ok(error instanceof ConfigFileError);
      assert.match(error.message, /connections\[0\]\.qbwc\.password: Secret reference "secret:qbwc-east-typo"/);
      // The west password's variable is unset too: every missing secret is reported at once.
      assert.match(error.message, /connections\[1\]\.qbwc\.password: .*env:WEST_QBWC_PASSWORD.*not set/);
      for (const value of [EAST_PASSWORD, WEST_PASSWORD, sandbox.clientSecret]) {
        assert.ok(!error.message.includes(value), 'a secret value leaked into the message');
      }
      return true;
    });
    assert.throws(() => deployment.webhookConnections(), /connections\[0\]\.webhook\.key: .*EAST_WEBHOOK_KEY/);
  });

  it('refuses Web Connector passwords and webhook keys under 16 characters, naming the field, never the value', async () => {
    const weak = { EAST_WEBHOOK_KEY: 'short-key-15chr', WEST_QBWC_PASSWORD: 'fifteen-chars!!' };
    const deployment = loadDeployment({ dataDir, env: envFor(writeConfig(configData()), weak) });
    await assert.rejects(deployment.qbwcConnections(), (error: unknown) => {
      assert.ok(error instanceof ConfigFileError);
      assert.deepEqual(error.problems, [
        'connections[1].qbwc.password: the secret behind env:WEST_QBWC_PASSWORD is shorter than 16 characters; set a longer, random one',
      ]);
      assert.ok(!error.message.includes(weak.WEST_QBWC_PASSWORD));
      return true;
    });
    assert.throws(
      () => deployment.webhookConnections(),
      (error: unknown) => {
        assert.ok(error instanceof ConfigFileError);
        assert.match(
          error.message,
          /connections\[0\]\.webhook\.key: the secret behind env:EAST_WEBHOOK_KEY is shorter than 16/,
        );
        assert.ok(!error.message.includes(weak.EAST_WEBHOOK_KEY));
        return true;
      },
    );
    // Sixteen characters are enough.
    const fine = { EAST_WEBHOOK_KEY: 'sixteen-chars-ok', WEST_QBWC_PASSWORD: 'sixteen-chars-ok' };
    const accepted = loadDeployment({ dataDir, env: envFor(writeConfig(configData()), fine) });
    assert.equal((await accepted.qbwcConnections()).length, 2);
    assert.equal(accepted.webhookConnections()[0]?.auth.key, fine.EAST_WEBHOOK_KEY);
  });

  it('hands the gateway the previous webhook key with the end of its rotation window', () => {
    const data = configData();
    const connections = data.connections as Json[];
    connections[0]!.webhook = {
      kind: 'WebhookKey',
      key: 'env:EAST_WEBHOOK_KEY',
      previousKey: 'env:EAST_OLD_WEBHOOK_KEY',
      previousKeyUntil: '2026-12-31T00:00:00Z',
    };
    const env = envFor(writeConfig(data), { ...secretEnv, EAST_OLD_WEBHOOK_KEY: 'the-old-key-being-rotated-away' });
    assert.deepEqual(loadDeployment({ dataDir, env }).webhookConnections(), [
      {
        name: 'east',
        auth: {
          kind: 'WebhookKey',
          key: WEBHOOK_KEY,
          previousKey: { key: 'the-old-key-being-rotated-away', untilMs: Date.parse('2026-12-31T00:00:00Z') },
        },
      },
    ]);
    // A previous key without the end of its window would keep the rotation open for ever.
    delete (connections[0]!.webhook as Json).previousKeyUntil;
    assert.throws(
      () => loadDeployment({ dataDir, env: envFor(writeConfig(data), secretEnv) }),
      /connections\[0\]\.webhook\.previousKeyUntil: is required with previousKey/,
    );
  });

  it('stops on an invalid file, naming each field and not the literal written in a secret place', () => {
    const data = configData();
    (data.governor as Json).maxConcurrent = 99;
    (data.dataverse as Json).clientSecret = 'hunter2-literal-secret';
    const path = writeConfig(data);
    assert.throws(
      () => loadDeployment({ dataDir, env: envFor(path) }),
      (error: unknown) => {
        assert.ok(error instanceof ConfigFileError);
        assert.ok(error.problems.some((p) => p.startsWith('governor.maxConcurrent:')));
        assert.ok(error.problems.some((p) => p.startsWith('dataverse.clientSecret:')));
        assert.ok(!error.message.includes('hunter2'));
        return true;
      },
    );
    // The CLI's `provision` refuses it the same way instead of falling back to anything else.
    assert.throws(() => dataverseTarget(dataDir, envFor(path)), ConfigFileError);
  });

  it('refuses a QBSYNC_CONFIG naming a missing file instead of quietly serving the sandbox', () => {
    assert.throws(
      () => loadDeployment({ dataDir, env: envFor(join(configDir, 'absent.yaml')) }),
      /absent\.yaml: problem:\n {2}no such file/,
    );
  });
});

describe('the deployment without a configuration file', () => {
  it("serves the sandbox's connections.json as it is, with sandbox settings and hourly schedules", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'qbsync-deployment-sandbox-'));
    const hash = 'scrypt$c2FsdA==$aGFzaA==';
    writeFileSync(
      join(dir, 'connections.json'),
      JSON.stringify({
        connections: [
          {
            name: 'east',
            companyFileLabel: 'East',
            qbwc: { userName: 'qb-east', passwordHash: hash },
            webhook: { kind: 'WebhookKey', key: WEBHOOK_KEY },
          },
        ],
      }),
    );
    const deployment = loadDeployment({ dataDir: dir, env: {} });
    assert.equal(deployment.source.kind, 'sandbox');
    assert.deepEqual(deployment.temporal, {
      address: '127.0.0.1:7233',
      namespace: 'default',
      taskQueue: 'qb-d365-sync',
    });
    assert.equal(deployment.gateway.qbwcUrl, 'http://127.0.0.1:8080/qbwc');
    assert.equal(deployment.batching, undefined);
    assert.deepEqual(deployment.governor, {});
    assert.equal(deployment.maxCachedWorkflows, 2000);
    assert.deepEqual(await deployment.qbwcConnections(), [
      // No zone in the file: the company file is read in the host's zone.
      { name: 'east', userName: 'qb-east', passwordHash: hash, companyFilePath: '', timeZone: hostTimeZone() },
    ]);
    assert.deepEqual(deployment.webhookConnections(), [
      { name: 'east', auth: { kind: 'WebhookKey', key: WEBHOOK_KEY } },
    ]);
    assert.deepEqual(deployment.connections[0]?.schedule, { every: '1h', paused: false });
    assert.throws(() => deployment.dataverseTarget(), /No Dataverse configured/);
  });
});
