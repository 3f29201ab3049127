import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { secretsCommand } from '../../src/cli/secretsCommand';
import { startDataverseSandbox, type DataverseSandbox } from '../../src/sandbox/dataverse/server';

const cliMain = join(__dirname, '..', '..', 'src', 'cli', 'main.ts');
const clientSecret = `dv-${randomBytes(18).toString('base64url')}`;
const wrongSecret = `wrong-${randomBytes(18).toString('base64url')}`;
let dataDir: string;
let sandboxDir: string;
let sandbox: DataverseSandbox;

interface CliRun {
  code: number | null;
  output: string;
}

/** The real command in a child process: stdin, exit code, and everything it printed or logged. */
function qbsync(args: string[], stdin = ''): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', cliMain, '--data-dir', dataDir, ...args], {
      env: { ...process.env, LOG_LEVEL: 'trace', QBSYNC_SECRETS_KEY: '', DATAVERSE_URL: '' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
    child.stdin.end(stdin);
  });
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesUnder(join(dir, entry.name)) : [join(dir, entry.name)],
  );
}

function assertNowhereInClear(secret: string): void {
  for (const file of filesUnder(dataDir)) {
    assert.equal(readFileSync(file).includes(Buffer.from(secret)), false, `${file} holds the secret in clear`);
  }
}

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'qbsync-secrets-cli-'));
  sandboxDir = mkdtempSync(join(tmpdir(), 'qbsync-secrets-dv-'));
  sandbox = await startDataverseSandbox({ port: 0, dataDir: sandboxDir, clientSecret });
  mkdirSync(join(dataDir, 'sandbox'));
  writeFileSync(
    join(dataDir, 'sandbox', 'endpoints.json'),
    JSON.stringify({
      dataverse: {
        webApiUrl: sandbox.webApiUrl,
        environmentUrl: sandbox.environmentUrl,
        authority: sandbox.authority,
        tenantId: sandbox.tenantId,
        clientId: sandbox.clientId,
        clientSecretRef: 'secret:dataverse-client-secret',
        caCertPath: sandbox.caCertPath,
      },
    }),
  );
});

after(async () => {
  await sandbox?.close();
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(sandboxDir, { recursive: true, force: true });
});

describe('qbsync secrets', () => {
  it('set reads the value from stdin and keeps it out of every file under the data dir', async () => {
    const run = await qbsync(['secrets', 'set', 'dataverse-client-secret'], `${clientSecret}\n`);
    assert.equal(run.code, 0, run.output);
    assert.match(run.output, /Stored secret "dataverse-client-secret"/);
    assert.equal(run.output.includes(clientSecret), false);
    assertNowhereInClear(clientSecret);
    assert.equal(statSync(join(dataDir, 'secrets.json')).mode & 0o777, 0o600);
  });

  it('list shows names and change times only', async () => {
    const run = await qbsync(['secrets', 'list']);
    assert.equal(run.code, 0, run.output);
    assert.match(run.output, /^dataverse-client-secret\t\d{4}-\d\d-\d\dT/m);
    assert.equal(run.output.includes(clientSecret), false);
  });

  it('get prints the value alone on a pipe, so a script or an outside client can use it', async () => {
    const run = await qbsync(['secrets', 'get', 'dataverse-client-secret']);
    assert.equal(run.code, 0, run.output);
    assert.equal(run.output, `${clientSecret}\n`);
  });

  it('get warns on standard error when standard output is a terminal', async () => {
    const lines: { out: string[]; err: string[] } = { out: [], err: [] };
    const command = secretsCommand(() => dataDir, {
      stdin: process.stdin,
      stdoutIsTerminal: () => true,
      out: (line) => lines.out.push(line),
      err: (line) => lines.err.push(line),
    });
    await command.parseAsync(['get', 'dataverse-client-secret'], { from: 'user' });
    assert.deepEqual(lines.out, [clientSecret]);
    assert.equal(lines.err.length, 1);
    assert.match(lines.err[0]!, /Warning: the value of "dataverse-client-secret" is shown below in clear/);
    assert.equal(lines.err[0]!.includes(clientSecret), false);
  });

  it('get of an unknown name fails, naming the secrets there are and no value', async () => {
    const run = await qbsync(['secrets', 'get', 'qbwc-password-north']);
    assert.equal(run.code, 1, run.output);
    assert.match(run.output, /No secret named "qbwc-password-north".*Known: dataverse-client-secret\./);
    assert.equal(run.output.includes(clientSecret), false);
  });

  it('provisioning resolves the reference; nothing it prints or logs contains the secret', async () => {
    const run = await qbsync(['provision']);
    assert.equal(run.code, 0, run.output);
    assert.match(run.output, /created: /);
    assert.equal(run.output.includes(clientSecret), false);
  });

  it('rotate-key re-encrypts under a new key; the secret still works and is still nowhere in clear', async () => {
    const keyBefore = readFileSync(join(dataDir, 'keys', 'secrets.key'), 'utf8');
    const run = await qbsync(['secrets', 'rotate-key']);
    assert.equal(run.code, 0, run.output);
    assert.match(run.output, /Re-encrypted 1 secret under a new key/);
    assert.notEqual(readFileSync(join(dataDir, 'keys', 'secrets.key'), 'utf8'), keyBefore);
    assertNowhereInClear(clientSecret);
    const provisioned = await qbsync(['provision']);
    assert.equal(provisioned.code, 0, provisioned.output);
  });

  it('a wrong secret fails provisioning without either secret in the output or the logs', async () => {
    const set = await qbsync(['secrets', 'set', 'dataverse-client-secret'], wrongSecret);
    assert.equal(set.code, 0, set.output);
    assert.match(set.output, /Updated secret/);
    const run = await qbsync(['provision']);
    assert.notEqual(run.code, 0);
    assert.match(run.output, /qbsync: .*token/i);
    assert.equal(run.output.includes(wrongSecret), false, run.output);
    assert.equal(run.output.includes(clientSecret), false, run.output);
    assertNowhereInClear(wrongSecret);
  });

  it('a missing secret is named by its reference', async () => {
    const endpoints = JSON.parse(readFileSync(join(dataDir, 'sandbox', 'endpoints.json'), 'utf8'));
    endpoints.dataverse.clientSecretRef = 'secret:not-set-yet';
    writeFileSync(join(dataDir, 'sandbox', 'endpoints.json'), JSON.stringify(endpoints));
    const run = await qbsync(['provision']);
    assert.notEqual(run.code, 0);
    assert.match(run.output, /"secret:not-set-yet".*qbsync secrets set not-set-yet/);
  });

  it('each sub-command has --help, and set takes no value on the command line', async () => {
    for (const sub of ['set', 'get', 'list', 'rotate-key']) {
      const run = await qbsync(['secrets', sub, '--help']);
      assert.equal(run.code, 0, run.output);
      assert.match(run.output, new RegExp(`Usage: qbsync secrets ${sub}`));
    }
    const extra = await qbsync(['secrets', 'set', 'x', 'value-on-argv']);
    assert.notEqual(extra.code, 0);
    assert.match(extra.output, /too many arguments/);
  });
});
