import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ensurePayloadKeyFile,
  loadPayloadKeyRing,
  parsePayloadKeysEnv,
  payloadKeyFilePath,
  rotatePayloadKey,
} from '../../src/codec/keyRing';

const dirs: string[] = [];
const dataDir = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'qbsync-keys-'));
  dirs.push(dir);
  return dir;
};
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('payload key ring', () => {
  it('reads QBSYNC_PAYLOAD_KEYS with the first key active, ahead of any key file', () => {
    const a = randomBytes(32);
    const b = randomBytes(32);
    const dir = dataDir();
    ensurePayloadKeyFile(dir);
    const ring = loadPayloadKeyRing(dir, {
      QBSYNC_PAYLOAD_KEYS: `new:${a.toString('base64')}, old:${b.toString('base64')}`,
    });
    assert.equal(ring.activeKeyId, 'new');
    assert.deepEqual(ring.keyIds, ['new', 'old']);
    assert.deepEqual(ring.key('old'), b);
  });

  it('rejects malformed keys without echoing them', () => {
    const short = randomBytes(16).toString('base64');
    assert.throws(
      () => parsePayloadKeysEnv(`k:${short}`),
      (e: Error) => /must be 32 bytes/.test(e.message) && !e.message.includes(short),
    );
    assert.throws(() => parsePayloadKeysEnv('justakey'), /<key id>:<base64 key>/);
    assert.throws(() => parsePayloadKeysEnv(`k:${'!'.repeat(44)}`), /not base64/);
    const key = randomBytes(32).toString('base64');
    assert.throws(() => parsePayloadKeysEnv(`k:${key},k:${key}`), /appears twice/);
  });

  it('creates a private key file once, and rotation adds an active key while keeping the old ones', () => {
    const dir = dataDir();
    const path = ensurePayloadKeyFile(dir);
    assert.equal(path, payloadKeyFilePath(dir));
    assert.equal(statSync(path).mode & 0o777, 0o600);
    const first = loadPayloadKeyRing(dir, {});
    ensurePayloadKeyFile(dir);
    assert.equal(loadPayloadKeyRing(dir, {}).activeKeyId, first.activeKeyId, 'a second ensure keeps the key');

    const newId = rotatePayloadKey(dir);
    const rotated = loadPayloadKeyRing(dir, {});
    assert.equal(rotated.activeKeyId, newId);
    assert.notEqual(newId, first.activeKeyId);
    assert.deepEqual(rotated.key(first.activeKeyId), first.activeKey);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.equal(Object.keys(JSON.parse(readFileSync(path, 'utf8')).keys).length, 2);
  });

  it('refuses a key file other users can read, and says how to fix it', () => {
    const dir = dataDir();
    const path = ensurePayloadKeyFile(dir);
    chmodSync(path, 0o644);
    assert.throws(() => loadPayloadKeyRing(dir, {}), /chmod 600/);
  });

  it('explains where keys come from when there are none', () => {
    assert.throws(() => loadPayloadKeyRing(dataDir(), {}), /QBSYNC_PAYLOAD_KEYS.*payload-keys\.json/);
  });
});
