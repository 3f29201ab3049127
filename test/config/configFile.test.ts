import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import {
  ConfigFileError,
  configFilePath,
  fieldPath,
  loadConfigFile,
  parseSecretReference,
} from '../../src/config/configFile';

const examplePath = resolve(__dirname, '../../config/qbsync.example.yaml');
const scratch = mkdtempSync(join(tmpdir(), 'qbsync-config-'));
let fileCounter = 0;

type Json = Record<string, unknown>;

function exampleData(): Json {
  return parse(readFileSync(examplePath, 'utf8')) as Json;
}

function connectionsOf(data: Json): Json[] {
  return data.connections as Json[];
}

function writeConfig(data: unknown, extension = 'yaml'): string {
  const path = join(scratch, `config-${++fileCounter}.${extension}`);
  writeFileSync(path, extension === 'json' ? JSON.stringify(data) : stringify(data));
  return path;
}

/** The problems a file produces, or a failure when it loads. */
function problemsOf(data: unknown): string[] {
  const path = writeConfig(data);
  try {
    loadConfigFile(path);
  } catch (error) {
    assert.ok(error instanceof ConfigFileError, `expected a ConfigFileError, got ${String(error)}`);
    assert.equal(error.path, path);
    for (const problem of error.problems) assert.ok(error.message.includes(problem));
    return [...error.problems];
  }
  assert.fail('the file loaded without a problem');
}

describe('configuration file', () => {
  it('loads the shipped example with its values and the defaults filled in', () => {
    const config = loadConfigFile(examplePath);
    assert.equal(config.temporal.address, 'temporal:7233');
    assert.equal(config.gateway.publicUrl, 'https://qbsync.example.com');
    assert.equal(config.dataverse.clientSecret, 'env:DATAVERSE_CLIENT_SECRET');
    assert.deepEqual(
      config.connections.map((c) => [c.name, c.schedule.every, c.schedule.paused, c.sync.receivesNewAccounts]),
      [
        ['east', '1h', false, true],
        ['west', '15m', false, false],
      ],
    );
    const west = config.connections[1]!;
    assert.equal(west.qbwc.password, 'secret:qbwc-west-password');
    assert.equal(west.sync.items.newItemKind, 'ItemNonInventory');
    assert.deepEqual(west.sync.invoices.refNumber, { kind: 'orderNumberSegment', separator: '-', index: 1 });
  });

  it('applies the documented defaults to optional sections', () => {
    const data = exampleData();
    delete data.temporal;
    delete data.governor;
    delete data.batching;
    delete (data.gateway as Json).port;
    delete connectionsOf(data)[1]!.schedule;
    const config = loadConfigFile(writeConfig(data));
    assert.deepEqual(config.temporal, { address: '127.0.0.1:7233', namespace: 'default', taskQueue: 'qb-d365-sync' });
    assert.deepEqual(config.governor, { maxConcurrent: 16, requestsPerWindow: 6000, windowSeconds: 300 });
    assert.deepEqual(config.batching, {
      maxRequestsPerRoundTrip: 100,
      maxRecordsPerRoundTrip: 500,
      quickbooksWaitHours: 72,
    });
    assert.equal(config.gateway.port, 8080);
    assert.equal(config.dataverse.choiceOptionsMaxAgeSeconds, 60);
    assert.deepEqual(config.worker, { maxCachedWorkflows: 2000 });
    assert.deepEqual(config.connections[1]!.schedule, { every: '1h', paused: false });
  });

  it("takes the worker's workflow cache size, a whole number of at least 2, and names the field when it is not", () => {
    const data = exampleData();
    data.worker = { maxCachedWorkflows: 400 };
    assert.equal(loadConfigFile(writeConfig(data)).worker.maxCachedWorkflows, 400);
    data.worker = { maxCachedWorkflows: 2 };
    assert.equal(loadConfigFile(writeConfig(data)).worker.maxCachedWorkflows, 2);

    data.worker = { maxCachedWorkflows: 12.5 };
    assert.deepEqual(problemsOf(data), ['worker.maxCachedWorkflows: must be a whole number of workflows']);
    const tooFew =
      "worker.maxCachedWorkflows: must be at least 2, the SDK's smallest cache (none at all would replay each " +
      "workflow's whole history at every task)";
    for (const maxCachedWorkflows of [-250, 0, 1]) {
      data.worker = { maxCachedWorkflows };
      assert.deepEqual(problemsOf(data), [tooFew], String(maxCachedWorkflows));
    }
    data.worker = { maxCachedWorkflows: '250' };
    assert.equal(problemsOf(data).length, 1);
    assert.match(problemsOf(data)[0]!, /^worker\.maxCachedWorkflows: /);
    data.worker = { maxCachedWorkflow: 250 };
    assert.deepEqual(problemsOf(data), ['worker.maxCachedWorkflow: is not a known setting (misspelt?)']);
  });

  it('reads the same settings written as JSON', () => {
    const config = loadConfigFile(writeConfig(exampleData(), 'json'));
    assert.deepEqual(config, loadConfigFile(examplePath));
  });

  it('takes a relative CA path from the folder of the file', () => {
    const data = exampleData();
    (data.dataverse as Json).caCertPath = 'certs/ca.pem';
    const config = loadConfigFile(writeConfig(data));
    assert.equal(config.dataverse.caCertPath, join(scratch, 'certs/ca.pem'));
  });

  it('rejects a literal secret, names the field, says how to store it and never repeats the value', () => {
    const data = exampleData();
    const literal = 'Sup3r-S3cret-Passw0rd!';
    connectionsOf(data)[1]!.qbwc = { ...(connectionsOf(data)[1]!.qbwc as Json), password: literal };
    (data.dataverse as Json).clientSecret = 'abc~8Q~notARealClientSecretValue';
    const path = writeConfig(data);
    let caught: unknown;
    try {
      loadConfigFile(path);
    } catch (error) {
      caught = error;
    }
    assert.ok(caught instanceof ConfigFileError);
    assert.ok(
      caught.problems.includes(
        'connections[1].qbwc.password: a secret reference (secret:<name> or env:<VAR>) is required, not a literal value: ' +
          'store the value with `qbsync secrets set <name>` and write secret:<name>, or put it in an environment variable ' +
          'of the worker and gateway and write env:<VAR>',
      ),
      caught.message,
    );
    assert.ok(caught.problems.some((p) => p.startsWith('dataverse.clientSecret: a secret reference')));
    const everything = `${caught.message}\n${caught.stack ?? ''}\n${JSON.stringify(caught)}`;
    assert.ok(!everything.includes(literal), 'the QBWC password leaked into the error');
    assert.ok(!everything.includes('notARealClientSecretValue'), 'the client secret leaked into the error');
  });

  it('takes a certificate credential instead of a client secret, and exactly one of them', () => {
    const data = exampleData();
    const dataverse = data.dataverse as Json;
    delete dataverse.clientSecret;
    dataverse.clientCertificate = { certificate: 'certs/app.crt', privateKey: 'secret:dataverse-app-key' };
    const config = loadConfigFile(writeConfig(data));
    assert.deepEqual(config.dataverse.clientCertificate, {
      certificate: join(scratch, 'certs/app.crt'),
      privateKey: 'secret:dataverse-app-key',
      sendX5c: false,
    });

    dataverse.clientSecret = 'env:DATAVERSE_CLIENT_SECRET';
    assert.deepEqual(problemsOf(data), [
      'dataverse.clientCertificate: give one of clientSecret, clientCertificate and clientAssertionFile, not clientSecret and clientCertificate: the app signs in with exactly one credential',
    ]);
    delete dataverse.clientSecret;
    delete dataverse.clientCertificate;
    assert.deepEqual(problemsOf(data), [
      'dataverse.clientSecret: is required (or clientCertificate or clientAssertionFile, where the tenant forbids client secrets)',
    ]);
    // A client assertion written by someone else (workload identity, an HSM signer): a file, taken from the file's folder.
    dataverse.clientAssertionFile = 'tokens/assertion.jwt';
    assert.equal(
      loadConfigFile(writeConfig(data)).dataverse.clientAssertionFile,
      join(scratch, 'tokens/assertion.jwt'),
    );
    delete dataverse.clientAssertionFile;
    // A key pasted into the file is a secret in clear: refused, and not repeated.
    dataverse.clientCertificate = {
      certificate: 'certs/app.crt',
      privateKey: '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----',
    };
    const problems = problemsOf(data);
    assert.equal(problems.length, 1);
    assert.match(problems[0]!, /^dataverse\.clientCertificate\.privateKey: give a file path or a secret reference/);
    assert.ok(!problems[0]!.includes('MIIEvQ'));
  });

  it('rejects a webhook key written in clear and malformed references without echoing them', () => {
    const data = exampleData();
    connectionsOf(data)[0]!.webhook = { kind: 'WebhookKey', key: 'k3y-in-clear-0123456789' };
    connectionsOf(data)[1]!.qbwc = { ...(connectionsOf(data)[1]!.qbwc as Json), password: 'env:1-not-a-variable' };
    (data.dataverse as Json).clientSecret = 'secret:';
    const problems = problemsOf(data);
    assert.ok(problems.some((p) => p.startsWith('connections[0].webhook.key: a secret reference')));
    assert.ok(
      problems.includes(
        'connections[1].qbwc.password: env:<VAR> needs an environment variable name: letters, digits and "_", not starting with a digit',
      ),
    );
    assert.ok(problems.some((p) => p.startsWith('dataverse.clientSecret: secret:<name> needs a name')));
    assert.ok(!problems.join('\n').includes('k3y-in-clear'));
    assert.ok(!problems.join('\n').includes('1-not-a-variable'));
  });

  it('refuses two connections with the same name', () => {
    const data = exampleData();
    connectionsOf(data)[1]!.name = 'east';
    assert.deepEqual(problemsOf(data), [
      'connections[1].name: "east" is already the name of connections[0]; names must be unique',
    ]);
  });

  it('refuses a second connection receiving new accounts', () => {
    const data = exampleData();
    (connectionsOf(data)[1]!.sync as Json).receivesNewAccounts = true;
    const problems = problemsOf(data);
    assert.equal(problems.length, 1);
    assert.match(
      problems[0]!,
      /^connections\[1\]\.sync\.receivesNewAccounts: connections\[0\] already receives new accounts; at most one connection may/,
    );
  });

  it('refuses two connections sharing a Web Connector user name, since the gateway tells them apart by it', () => {
    const data = exampleData();
    (connectionsOf(data)[1]!.qbwc as Json).userName = 'qbsync-east';
    assert.deepEqual(problemsOf(data), [
      'connections[1].qbwc.userName: already used by connections[0]; each connection needs its own Web Connector user name',
    ]);
  });

  it("reads each company file's time zone, refusing a name that is no IANA zone", () => {
    const data = exampleData();
    const [east, west] = connectionsOf(data) as [Json, Json];
    (east.qbwc as Json).timeZone = 'America/New_York';
    delete (west.qbwc as Json).timeZone;
    const config = loadConfigFile(writeConfig(data));
    assert.equal(config.connections[0]?.qbwc.timeZone, 'America/New_York');
    assert.equal(config.connections[1]?.qbwc.timeZone, undefined, 'the host zone applies');
    (west.qbwc as Json).timeZone = 'Pacific Time';
    (east.qbwc as Json).timeZone = 'America/Nowhere';
    assert.deepEqual(problemsOf(data), [
      'connections[0].qbwc.timeZone: must be an IANA time zone name such as America/Los_Angeles or Europe/London',
      'connections[1].qbwc.timeZone: must be an IANA time zone name such as America/Los_Angeles or Europe/London',
    ]);
  });

  it('reports every problem of the file at once, each with its field path', () => {
    const data = exampleData();
    const [east, west] = connectionsOf(data) as [Json, Json];
    east.name = 'East Office';
    delete east.companyFileLabel;
    west.schedule = { every: '90s', paused: 'no' };
    (west.sync as Json).receivesNewAccounts = true;
    (data.gateway as Json).publicUrl = 'http://qbsync.example.com';
    (data.gateway as Json).port = 70000;
    (data.dataverse as Json).environmentUrl = 'http://contoso.crm.dynamics.com';
    (data.dataverse as Json).clientId = 'my-app';
    (data.governor as Json).maxConcurrent = 100;
    (data.temporal as Json).adress = 'temporal:7233';
    const problems = problemsOf(data);
    const byPath = new Map(problems.map((p) => [p.slice(0, p.indexOf(': ')), p.slice(p.indexOf(': ') + 2)]));
    assert.deepEqual([...byPath.keys()].sort(), [
      'connections[0].companyFileLabel',
      'connections[0].name',
      'connections[1].schedule.every',
      'connections[1].schedule.paused',
      'connections[1].sync.receivesNewAccounts',
      'dataverse.clientId',
      'dataverse.environmentUrl',
      'gateway.port',
      'gateway.publicUrl',
      'governor.maxConcurrent',
      'temporal.adress',
    ]);
    assert.equal(byPath.get('connections[0].companyFileLabel'), 'is required');
    assert.match(byPath.get('connections[0].name')!, /lower-case letters/);
    assert.match(byPath.get('connections[1].schedule.every')!, /15m, 1h or 24h/);
    assert.match(
      byPath.get('gateway.publicUrl')!,
      /https:\/\/ \(the Web Connector refuses plain http except on localhost\)/,
    );
    assert.match(byPath.get('gateway.port')!, /1-65535/);
    assert.equal(byPath.get('dataverse.environmentUrl'), 'environmentUrl must use https://');
    assert.match(byPath.get('dataverse.clientId')!, /GUID/);
    assert.match(byPath.get('governor.maxConcurrent')!, /52/);
    assert.match(byPath.get('temporal.adress')!, /not a known setting/);
  });

  it('allows plain http for a gateway on localhost only', () => {
    const data = exampleData();
    (data.gateway as Json).publicUrl = 'http://localhost:8080/';
    assert.equal(loadConfigFile(writeConfig(data)).gateway.publicUrl, 'http://localhost:8080');
  });

  it('names the sync settings fields that come from the shared schema', () => {
    const data = exampleData();
    delete (connectionsOf(data)[0]!.sync as Json).items;
    assert.deepEqual(problemsOf(data), ['connections[0].sync.items: is required']);
  });

  it('takes where the invoice cursor starts as days back or a date, and names a bad one', () => {
    const data = exampleData();
    const invoices = (connectionsOf(data)[0]!.sync as Json).invoices as Json;
    assert.deepEqual(loadConfigFile(writeConfig(data)).connections[0]!.sync.invoices.cursorStart, { daysBack: 90 });
    invoices.cursorStart = { date: '2024-01-01' };
    assert.deepEqual(loadConfigFile(writeConfig(data)).connections[0]!.sync.invoices.cursorStart, {
      date: '2024-01-01',
    });
    invoices.cursorStart = { date: '2024-02-30' };
    assert.equal(problemsOf(data).length, 1);
    assert.match(problemsOf(data)[0]!, /^connections\[0\]\.sync\.invoices\.cursorStart/);
  });

  it('asks for the header name of an HttpHeader webhook', () => {
    const data = exampleData();
    connectionsOf(data)[0]!.webhook = { kind: 'HttpHeader', key: 'env:HOOK_KEY' };
    assert.deepEqual(problemsOf(data), ['connections[0].webhook.headerName: is required when kind is HttpHeader']);
    connectionsOf(data)[0]!.webhook = { kind: 'HttpHeader', key: 'in-clear-key-value' };
    assert.deepEqual(problemsOf(data).length, 2);
  });

  it('requires at least one connection', () => {
    const data = exampleData();
    data.connections = [];
    assert.deepEqual(problemsOf(data), ['connections: list at least one connection (one per company file)']);
  });

  it('reports a missing file and YAML syntax errors as ConfigFileError', () => {
    assert.throws(
      () => loadConfigFile(join(scratch, 'absent.yaml')),
      (error: unknown) => {
        assert.ok(error instanceof ConfigFileError);
        assert.match(error.message, /no such file; copy config\/qbsync\.example\.yaml/);
        return true;
      },
    );
    const broken = join(scratch, 'broken.yaml');
    writeFileSync(broken, 'gateway:\n  port: 1\n  port: 2\n');
    assert.throws(
      () => loadConfigFile(broken),
      (error: unknown) => {
        assert.ok(error instanceof ConfigFileError);
        assert.match(error.problems[0]!, /^line 3: .*unique/i);
        return true;
      },
    );
  });
});

describe('secret references', () => {
  it('splits well-formed references and refuses anything else', () => {
    assert.deepEqual(parseSecretReference('secret:qbwc-east.password'), { kind: 'secret', name: 'qbwc-east.password' });
    assert.deepEqual(parseSecretReference('env:QBWC_EAST_PASSWORD'), { kind: 'env', variable: 'QBWC_EAST_PASSWORD' });
    for (const text of [
      'hunter2',
      'secret:',
      'env:',
      'env:9LIVES',
      'secret:../etc/passwd',
      'secret:Upper',
      'ENV:X',
      ' env:X',
    ]) {
      assert.equal(parseSecretReference(text), undefined, text);
    }
  });
});

describe('where the file is', () => {
  it('is QBSYNC_CONFIG when set, else qbsync.yaml in the data folder', () => {
    assert.equal(configFilePath('/srv/qbsync', {}), join('/srv/qbsync', 'qbsync.yaml'));
    assert.equal(configFilePath('/srv/qbsync', { QBSYNC_CONFIG: '/etc/qbsync.yaml' }), '/etc/qbsync.yaml');
  });

  it('writes field paths the way the YAML reads', () => {
    assert.equal(fieldPath(['connections', 1, 'qbwc', 'password']), 'connections[1].qbwc.password');
    assert.equal(
      fieldPath(['connections', 0, 'sync', 'ownership', 'owners', 'billto.city']),
      'connections[0].sync.ownership.owners["billto.city"]',
    );
    assert.equal(fieldPath([]), '(top level)');
  });
});
