import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  isSecretReference,
  resolveSecret,
  SecretStore,
  secretsKeyPath,
  secretStorePath,
} from '../../src/config/secrets';

const dirs: string[] = [];
const dataDir = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'qbsync-secrets-'));
  dirs.push(dir);
  return dir;
};
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const value = `s3cr3t-${randomBytes(8).toString('hex')}`;

describe('secret store', () => {
  it('keeps values encrypted in private files and reads them back in a new process-like open', () => {
    const dir = dataDir();
    SecretStore.open(dir, {}).set('dataverse-client-secret', value);
    for (const path of [secretStorePath(dir), secretsKeyPath(dir)]) assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.equal(readFileSync(secretStorePath(dir), 'utf8').includes(value), false);
    assert.equal(SecretStore.open(dir, {}).get('dataverse-client-secret'), value);
    assert.deepEqual(
      SecretStore.open(dir, {})
        .list()
        .map((s) => s.name),
      ['dataverse-client-secret'],
    );
  });

  it('uses QBSYNC_SECRETS_KEY instead of a key file when set, and refuses a different key', () => {
    const dir = dataDir();
    const env = { QBSYNC_SECRETS_KEY: randomBytes(32).toString('base64') };
    SecretStore.open(dir, env).set('webhook', value);
    assert.equal(existsSync(secretsKeyPath(dir)), false);
    assert.equal(SecretStore.open(dir, env).get('webhook'), value);
    const wrong = { QBSYNC_SECRETS_KEY: randomBytes(32).toString('base64') };
    assert.throws(
      () => SecretStore.open(dir, wrong),
      (e: Error) => /different key/.test(e.message) && !e.message.includes(value),
    );
    assert.throws(() => SecretStore.open(dir, { QBSYNC_SECRETS_KEY: 'c2hvcnQ=' }), /32 bytes/);
  });

  it('binds each value to its name: an entry copied under another name does not decrypt', () => {
    const dir = dataDir();
    const store = SecretStore.open(dir, {});
    store.set('a', value);
    store.set('b', 'other');
    const file = JSON.parse(readFileSync(secretStorePath(dir), 'utf8'));
    file.secrets.b = file.secrets.a;
    writeFileSync(secretStorePath(dir), JSON.stringify(file), { mode: 0o600 });
    assert.throws(
      () => SecretStore.open(dir, {}).get('b'),
      (e: Error) => /"b".*altered or the key is wrong/.test(e.message) && !e.message.includes(value),
    );
  });

  it('rotates the key: old key no longer opens the store, values survive, nothing in clear', () => {
    const dir = dataDir();
    const store = SecretStore.open(dir, {});
    store.set('one', value);
    store.set('two', `${value}-2`);
    const oldKey = readFileSync(secretsKeyPath(dir), 'utf8');
    const oldKeyCopy = join(dir, 'old.key');
    copyFileSync(secretsKeyPath(dir), oldKeyCopy);
    assert.deepEqual(store.rotateKey(), { rotated: 2 });
    assert.notEqual(readFileSync(secretsKeyPath(dir), 'utf8'), oldKey);
    const reopened = SecretStore.open(dir, {});
    assert.equal(reopened.get('one'), value);
    assert.equal(reopened.get('two'), `${value}-2`);
    assert.equal(readFileSync(secretStorePath(dir), 'utf8').includes(value), false);
    assert.throws(() => SecretStore.open(dir, { QBSYNC_SECRETS_KEY: oldKey.trim() }), /different key/);
  });

  it('finishes a rotation interrupted after the store was rewritten but before the key file was replaced', () => {
    const dir = dataDir();
    SecretStore.open(dir, {}).set('one', value);
    const oldKey = readFileSync(secretsKeyPath(dir));
    SecretStore.open(dir, {}).rotateKey();
    // Put the world back to "new store, new key parked, old key file still in place".
    copyFileSync(secretsKeyPath(dir), `${secretsKeyPath(dir)}.next`);
    writeFileSync(secretsKeyPath(dir), oldKey, { mode: 0o600 });
    assert.equal(SecretStore.open(dir, {}).get('one'), value);
    assert.equal(existsSync(`${secretsKeyPath(dir)}.next`), false);
  });

  it('refuses to rotate a key it does not manage', () => {
    const dir = dataDir();
    const store = SecretStore.open(dir, { QBSYNC_SECRETS_KEY: randomBytes(32).toString('base64') });
    assert.throws(() => store.rotateKey(), /QBSYNC_SECRETS_KEY/);
  });

  it('refuses bad names and empty values', () => {
    const store = SecretStore.open(dataDir(), {});
    assert.throws(() => store.set('Bad Name', 'x'), /Secret name/);
    assert.throws(() => store.set('empty', ''), /empty/);
  });
});

describe('resolveSecret', () => {
  it('resolves secret: from the store and env: from the environment', () => {
    const store = SecretStore.open(dataDir(), {});
    store.set('dataverse-client-secret', value);
    assert.equal(resolveSecret('secret:dataverse-client-secret', store, {}), value);
    assert.equal(resolveSecret('env:DV_SECRET', store, { DV_SECRET: value }), value);
    assert.ok(isSecretReference('secret:x') && isSecretReference('env:X') && !isSecretReference(value));
  });

  it('names the reference in errors, never a value, and opens the store only when needed', () => {
    const store = SecretStore.open(dataDir(), {});
    assert.throws(() => resolveSecret('secret:missing', store, {}), /"secret:missing".*qbsync secrets set missing/);
    assert.throws(() => resolveSecret('env:NOPE', store, {}), /"env:NOPE": environment variable NOPE is not set/);
    assert.throws(
      () => resolveSecret(value, store, {}),
      (e: Error) => /Not a secret reference/.test(e.message) && !e.message.includes(value),
    );
    const unopened = (): SecretStore => assert.fail('the store must not be opened for env: references');
    assert.equal(resolveSecret('env:X', unopened, { X: 'ok' }), 'ok');
  });
});
