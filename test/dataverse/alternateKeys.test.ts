import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { startDataverseSandbox, type DataverseSandbox } from '../../src/sandbox/dataverse/server';
import {
  DataverseClient,
  DataverseKeyNotActiveError,
  DataverseTokenProvider,
  RateGovernor,
  provisionDataverse,
  qbListKey,
} from '../../src/dataverse';

const quiet = pino({ level: 'silent' });

/** A sandbox whose alternate keys take `keyActivationDelayMs` to index, and a connector client for it. */
async function start(
  keyActivationDelayMs: number,
): Promise<{ sandbox: DataverseSandbox; client: DataverseClient; close(): Promise<void> }> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'dataverse-keys-'));
  const sandbox = await startDataverseSandbox({ port: 0, dataDir, seed: false, keyActivationDelayMs });
  const tokens = new DataverseTokenProvider({
    connection: 'keys',
    tenantId: sandbox.tenantId,
    clientId: sandbox.clientId,
    clientSecret: sandbox.clientSecret,
    environmentUrl: sandbox.environmentUrl,
    authority: sandbox.authority,
    caPem: sandbox.caCertPem,
  });
  const client = new DataverseClient({
    connection: 'keys',
    webApiUrl: sandbox.webApiUrl,
    tokenProvider: tokens,
    caPem: sandbox.caCertPem,
    governor: new RateGovernor(),
  });
  return {
    sandbox,
    client,
    async close() {
      await client.close();
      await tokens.close();
      await sandbox.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

// Each test owns its sandbox; they run side by side since each waits several seconds for indexing.
describe('alternate keys are indexed asynchronously', { concurrency: 2 }, () => {
  const closers: Array<() => Promise<void>> = [];
  after(async () => {
    for (const close of closers) await close();
  });

  it('writes by a Pending key fail with a retryable key-not-active error; provisioning waits for Active with progress', async () => {
    // Long enough for provisioning to finish on a loaded machine while the keys are still Pending.
    const stack = await start(8000);
    closers.push(() => stack.close());
    const first = await provisionDataverse(stack.client, { log: quiet, waitForKeys: false });
    assert.deepEqual(first.keysNotActive, {
      'account.key.qbsync_sourcekey': 'Pending',
      'contact.key.qbsync_sourcekey': 'Pending',
      'product.key.qbsync_sourcekey': 'Pending',
    });
    const early = await stack.client
      .upsertByKey('accounts', qbListKey('east', '80000001-1700000000'), { name: 'Too early' })
      .catch((e: unknown) => e);
    assert.ok(early instanceof DataverseKeyNotActiveError, String(early));
    assert.equal(early.code, '0x80060890');

    const progress: Array<Record<string, string>> = [];
    const report = await provisionDataverse(stack.client, {
      log: quiet,
      waitForKeys: { pollIntervalMs: 1000, timeoutMs: 60_000 },
      onKeyProgress: (states) => progress.push(states),
    });
    assert.deepEqual(report.keysNotActive, {});
    assert.deepEqual(report.keysFailed, {});
    assert.ok(progress.length >= 2, `progress reported ${progress.length} times`);
    const seen = new Set(progress.flatMap((p) => Object.values(p)));
    assert.ok(seen.has('InProgress') || seen.has('Pending'), `states seen: ${[...seen].join(', ')}`);
    assert.ok(seen.has('Active'));
    const written = await stack.client.upsertByKey('accounts', qbListKey('east', '80000001-1700000000'), {
      name: 'On time',
    });
    assert.ok(written.id);
  });

  it('reports a key whose index failed (duplicate rows), with what to do, instead of waiting forever', async () => {
    const stack = await start(8000);
    closers.push(() => stack.close());
    await provisionDataverse(stack.client, { log: quiet, waitForKeys: false });
    // Two accounts share the key's values before the index is built: Dataverse cannot make it unique.
    for (const name of ['Twin A', 'Twin B']) {
      await stack.client.create('accounts', { name, qbsync_companyfile: 'east', qbsync_qblistid: '80000002-1' });
    }
    const report = await provisionDataverse(stack.client, {
      log: quiet,
      waitForKeys: { pollIntervalMs: 1000, timeoutMs: 60_000 },
    });
    assert.deepEqual(Object.keys(report.keysFailed), ['account.key.qbsync_sourcekey']);
    assert.match(report.keysFailed['account.key.qbsync_sourcekey'] ?? '', /duplicates.*reactivate the key/i);
    assert.deepEqual(report.keysNotActive, {});
  });
});
