import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { startDataverseSandbox, type DataverseSandbox } from '../../src/sandbox/dataverse/server';
import {
  DataverseClient,
  DataverseNotFoundError,
  DataverseThrottledError,
  DataverseTokenProvider,
  DataverseValidationError,
  RateGovernor,
  provisionDataverse,
  qbListKey,
  type RateGovernorOptions,
} from '../../src/dataverse';

const SERVER_TIME = { perRequestMs: 50, perRowMs: 10 };

describe('bulk messages and the execution-time limit', () => {
  let sandbox: DataverseSandbox;
  let dataDir: string;
  const closers: Array<() => Promise<void> | void> = [];

  const connect = (governor: RateGovernorOptions = {}, maxThrottleRetries?: number): DataverseClient => {
    const tokens = new DataverseTokenProvider({
      connection: 'bulk',
      tenantId: sandbox.tenantId,
      clientId: sandbox.clientId,
      clientSecret: sandbox.clientSecret,
      environmentUrl: sandbox.environmentUrl,
      authority: sandbox.authority,
      caPem: sandbox.caCertPem,
    });
    const client = new DataverseClient({
      connection: 'bulk',
      webApiUrl: sandbox.webApiUrl,
      tokenProvider: tokens,
      caPem: sandbox.caCertPem,
      governor: new RateGovernor(governor),
      ...(maxThrottleRetries !== undefined ? { maxThrottleRetries } : {}),
    });
    closers.push(
      () => tokens.close(),
      () => client.close(),
    );
    return client;
  };
  const names = async (client: DataverseClient, filter: string): Promise<string[]> => {
    const out: string[] = [];
    for await (const row of client.queryRows('accounts', { select: ['name'], filter })) out.push(String(row.name));
    return out.sort();
  };

  before(async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'dataverse-bulk-'));
    sandbox = await startDataverseSandbox({
      port: 0,
      dataDir,
      seed: true,
      keyActivationDelayMs: 50,
      serverTime: SERVER_TIME,
    });
    await provisionDataverse(connect(), { log: pino({ level: 'silent' }), waitForKeys: { pollIntervalMs: 50 } });
  });
  after(async () => {
    for (const close of closers) await close();
    await sandbox.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('CreateMultiple is one request charging server time per row, and one bad row writes nothing', async () => {
    const client = connect();
    await client.createMultiple('accounts', [{ name: 'Warm-up' }]); // reads the table's definition once
    const before = sandbox.stats();
    const ids = await client.createMultiple('accounts', [{ name: 'Bulk A' }, { name: 'Bulk B' }, { name: 'Bulk C' }]);
    const after = sandbox.stats();
    assert.equal(ids.length, 3);
    assert.equal(new Set(ids).size, 3);
    assert.equal(after.requests - before.requests, 1, 'three rows, one request');
    assert.equal(after.serverTimeMs - before.serverTimeMs, SERVER_TIME.perRequestMs + 3 * SERVER_TIME.perRowMs);
    const row = await client.retrieve('accounts', ids[1] ?? '', { select: ['name'] });
    assert.equal(row?.name, 'Bulk B');

    const err = await client
      .createMultiple('accounts', [{ name: 'Rolled 1' }, { name: 'x'.repeat(200) }, { name: 'Rolled 3' }])
      .catch((e: unknown) => e);
    assert.ok(err instanceof DataverseValidationError, String(err));
    assert.equal(err.code, '0x80044331');
    assert.deepEqual(await names(client, "startswith(name,'Rolled')"), []);
  });

  it('UpsertMultiple by alternate key creates then updates the same rows; UpdateMultiple never creates', async () => {
    const client = connect();
    const rows = (suffix: string) =>
      ['80000C01-1700000000', '80000C02-1700000000'].map((listId, i) => ({
        key: qbListKey('east', listId),
        row: { name: `Upserted ${i} ${suffix}` },
      }));
    const created = await client.upsertMultiple('accounts', rows('v1'));
    const updated = await client.upsertMultiple('accounts', rows('v2'));
    assert.deepEqual(updated, created);
    assert.deepEqual(await names(client, "startswith(name,'Upserted')"), ['Upserted 0 v2', 'Upserted 1 v2']);

    await client.updateMultiple('accounts', [
      { id: created[0] ?? '', row: { name: 'Upserted 0 v3' } },
      { id: created[1] ?? '', row: { name: 'Upserted 1 v3' } },
    ]);
    assert.deepEqual(await names(client, "startswith(name,'Upserted')"), ['Upserted 0 v3', 'Upserted 1 v3']);
    const missing = await client
      .updateMultiple('accounts', [
        { id: created[0] ?? '', row: { name: 'Upserted 0 v4' } },
        { id: '00000000-0000-0000-0000-00000000c0de', row: { name: 'Nobody' } },
      ])
      .catch((e: unknown) => e);
    assert.ok(missing instanceof DataverseNotFoundError, String(missing));
    assert.deepEqual(await names(client, "startswith(name,'Upserted')"), ['Upserted 0 v3', 'Upserted 1 v3']);

    const unsupported = await client.createMultiple('uoms', [{ name: 'Box' }]).catch((e: unknown) => e);
    assert.ok(unsupported instanceof DataverseValidationError, String(unsupported));
    assert.match(unsupported.message, /'CreateMultiple' message is not supported for entity 'uom'/);
  });

  it('past the execution-time budget Dataverse answers 429 with its code and Retry-After', async () => {
    const client = connect({}, 0);
    await client.hasOptimisticConcurrency('accounts'); // the definition read, before the limits change
    // A short window first, so the earlier tests' server time has left it.
    sandbox.setLimits({ requestsPerWindow: 6000, windowSeconds: 3, concurrent: 52, executionMsPerWindow: 100 });
    try {
      await new Promise((r) => setTimeout(r, 3_100));
      const heavy = Array.from({ length: 6 }, (_, i) => ({ name: `Heavy ${i}` }));
      assert.equal((await client.createMultiple('accounts', heavy)).length, 6, 'under the limit on arrival');
      const err = await client.createMultiple('accounts', [{ name: 'Refused' }]).catch((e: unknown) => e);
      assert.ok(err instanceof DataverseThrottledError, String(err));
      assert.equal(err.code, '0x80072321');
      assert.match(
        err.serverMessage,
        /^Combined execution time of incoming requests exceeded limit of 100 milliseconds over time window of 3 seconds\./,
      );
      assert.ok(err.retryAfterMs >= 1000 && err.retryAfterMs <= 3_000, `Retry-After ${err.retryAfterMs} ms`);
    } finally {
      sandbox.setLimits({
        requestsPerWindow: 6000,
        windowSeconds: 300,
        concurrent: 52,
        executionMsPerWindow: 1_200_000,
      });
    }
    assert.deepEqual(await names(client, "name eq 'Refused'"), [], 'the refused call wrote nothing');
  });

  it('a governor planning by both budgets keeps a run of bulk calls under the execution-time limit', async () => {
    sandbox.setLimits({ requestsPerWindow: 6000, windowSeconds: 2, concurrent: 52, executionMsPerWindow: 600 });
    try {
      const client = connect({
        windowMs: 2_000,
        executionMsPerWindow: 600,
        estimatedServerTime: SERVER_TIME,
        maxConcurrent: 4,
      });
      await client.hasOptimisticConcurrency('accounts'); // the definition read, before the run
      await new Promise((r) => setTimeout(r, 2_100)); // let that read leave the window
      const throttledBefore = sandbox.stats().throttled;
      const calls = Array.from({ length: 6 }, (_, call) =>
        client.createMultiple(
          'accounts',
          Array.from({ length: 10 }, (_, row) => ({ name: `Paced ${call}-${row}` })),
        ),
      );
      const results = await Promise.all(calls);
      assert.equal(results.flat().length, 60);
      assert.equal(sandbox.stats().throttled - throttledBefore, 0, 'no 429: the governor waited instead');
    } finally {
      sandbox.setLimits({
        requestsPerWindow: 6000,
        windowSeconds: 300,
        concurrent: 52,
        executionMsPerWindow: 1_200_000,
      });
    }
  });
});
