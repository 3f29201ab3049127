import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@temporalio/client';
import { type TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { audit, exportAudit, type AuditRun } from '../../src/cli/auditCommand';
import { listFailed } from '../../src/cli/failedCommand';
import type { FailedRecord } from '../../src/cli/recordRuns';
import { replay } from '../../src/cli/replayCommand';
import type { OperatorDeps } from '../../src/cli/temporalSession';
import { connectorDataConverter } from '../../src/codec/dataConverter';
import { PayloadKeyRing } from '../../src/codec/keyRing';
import { syncConnection, syncEntity, syncSourceId } from '../../src/workflows/searchAttributes';
import type { fixtureRecordSync } from '../fixtures/recordFixtures';
import { startTestTemporal } from '../support/temporal';

const dataConverter = connectorDataConverter(new PayloadKeyRing('records-key', [['records-key', randomBytes(32)]]));
const taskQueue = `records-${randomUUID()}`;
/** What the fake activity answers; a test "fixes the cause" by adding the target. */
const targets = new Map<string, string>();

let env: TestWorkflowEnvironment;
let client: Client;
let worker: Worker;
let workerRun: Promise<void>;

before(async () => {
  env = await startTestTemporal();
  client = new Client({ connection: env.connection, dataConverter });
  worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowsPath: require.resolve('../fixtures/workflows'),
    dataConverter,
    activities: { lookUpTarget: async (sourceId: string) => targets.get(sourceId) ?? null },
  });
  workerRun = worker.run();
});

after(async () => {
  worker?.shutdown();
  await workerRun;
  await env?.teardown();
});

interface Captured {
  deps: OperatorDeps;
  out: () => string;
  err: () => string;
}

function capture(overrides: Partial<OperatorDeps> = {}): Captured {
  const out: string[] = [];
  const err: string[] = [];
  return {
    deps: {
      client,
      dataConverter,
      knownConnections: ['east', 'west'],
      out: (text) => out.push(text),
      err: (line) => err.push(line),
      ...overrides,
    },
    out: () => out.join(''),
    err: () => err.join('\n'),
  };
}

async function runRecord(connection: string, sourceId: string): Promise<string> {
  const workflowId = `qb/${connection}/customer/${sourceId}`;
  const handle = await client.workflow.start<typeof fixtureRecordSync>('fixtureRecordSync', {
    workflowId,
    taskQueue,
    args: [{ connection, entity: 'customer', sourceId }],
    typedSearchAttributes: [
      { key: syncConnection, value: connection },
      { key: syncEntity, value: 'customer' },
      { key: syncSourceId, value: sourceId },
    ],
  });
  await handle.result().catch(() => undefined);
  return workflowId;
}

/** Visibility trails the histories by a moment. */
async function eventually<T>(read: () => Promise<T>, ok: (value: T) => boolean, what: string): Promise<T> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > deadline) assert.fail(`${what}: last seen ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function failedNow(connection?: string): Promise<FailedRecord[]> {
  const c = capture();
  const code = await listFailed(
    { ...(connection ? { connection } : {}), sinceMs: 3_600_000, json: true, limit: 50 },
    c.deps,
  );
  assert.equal(code, 0, c.err());
  return JSON.parse(c.out()) as FailedRecord[];
}

describe('qbsync failed, replay and audit on a real Temporal dev server', () => {
  const broken = `80000001-${Date.now()}`;
  const alsoBroken = `80000003-${Date.now()}`;
  const fine = `80000002-${Date.now()}`;
  let brokenId: string;
  let alsoBrokenId: string;
  let fineId: string;
  let firstRunId: string;
  let newRunId: string;

  it('lists the record whose latest run failed, with its ids and the reason in plain words', async () => {
    targets.set(fine, 'account-fine');
    [brokenId, alsoBrokenId, fineId] = await Promise.all([
      runRecord('east', broken),
      runRecord('east', alsoBroken),
      runRecord('west', fine),
    ]);
    const failed = await eventually(
      () => failedNow(),
      (list) => list.filter((r) => r.workflowId === brokenId || r.workflowId === alsoBrokenId).length === 2,
      'both broken records listed',
    );
    const record = failed.find((r) => r.workflowId === brokenId)!;
    firstRunId = record.runId;
    assert.equal(record.entity, 'customer');
    assert.equal(record.sourceId, broken);
    assert.equal(record.connection, 'east');
    assert.equal(record.workflowType, 'fixtureRecordSync');
    assert.match(record.failure ?? '', /cannot be synced: its price level is missing in Dynamics/);
    assert.equal(record.waitsForFix, true, 'bad data is not retried by the poll');
    assert.ok(record.closeTime && Date.parse(record.closeTime) > Date.now() - 60_000);
    assert.ok(!failed.some((r) => r.workflowId === fineId), 'a completed record is not listed');
    assert.deepEqual(await failedNow('west'), [], 'the connection filter holds');

    const text = capture();
    await listFailed({ connection: 'east', sinceMs: 3_600_000, json: false, limit: 50 }, text.deps);
    assert.match(text.out(), new RegExp(`${brokenId}\\n  customer ${broken} → \\(no target yet\\)`));
    assert.match(
      text.out(),
      /waits for a fix: a change to the record runs it again, or replay it after a fix made elsewhere/,
    );
    assert.match(
      text.err(),
      /equivalent: temporal workflow list --query "\(SyncConnection = 'east' OR SyncConnection IS NULL\) AND ExecutionStatus = 'Failed' AND CloseTime > '[^']+'"$/,
    );
  });

  it('replays the failed record after the cause is fixed: same workflow id, a new run that completes', async () => {
    targets.set(broken, 'account-1');
    const c = capture();
    assert.equal(
      await replay({ workflowId: brokenId, allFailed: false, reason: 'price level added' }, c.deps),
      0,
      c.err(),
    );
    const match = /new run (\S+) \(was failed, run (\S+)\)/.exec(c.out());
    assert.ok(match, c.out());
    newRunId = match[1]!;
    assert.equal(match[2], firstRunId);
    assert.notEqual(newRunId, firstRunId);
    assert.match(
      c.err(),
      new RegExp(
        `temporal workflow reset --workflow-id ${brokenId} --run-id ${firstRunId} --type FirstWorkflowTask --reason 'price level added'`,
      ),
    );

    const handle = client.workflow.getHandle<typeof fixtureRecordSync>(brokenId);
    assert.deepEqual(await handle.result(), { targetId: 'account-1' });
    const latest = await handle.describe();
    assert.equal(latest.runId, newRunId);
    assert.equal(latest.status.name, 'COMPLETED');

    const failed = await eventually(
      () => failedNow('east'),
      (list) => !list.some((r) => r.workflowId === brokenId),
      'replayed record no longer listed',
    );
    assert.deepEqual(
      failed.map((r) => r.workflowId),
      [alsoBrokenId],
    );
  });

  it('replays every failed record of a connection with --all-failed', async () => {
    targets.set(alsoBroken, 'account-3');
    const c = capture();
    assert.equal(await replay({ allFailed: true, connection: 'east' }, c.deps), 0, c.err());
    assert.match(c.out(), new RegExp(`Replayed ${alsoBrokenId}: new run`));
    assert.deepEqual(await client.workflow.getHandle(alsoBrokenId).result(), { targetId: 'account-3' });
    await eventually(
      () => failedNow(),
      (list) => list.length === 0,
      'nothing failed any more',
    );
  });

  it('refuses to replay what it cannot: no such workflow, not a record, both forms at once, unknown connection', async () => {
    for (const [options, message] of [
      [{ workflowId: 'qb/east/customer/nope', allFailed: false }, /there is no workflow qb\/east\/customer\/nope/],
      [{ workflowId: 'poll/east', allFailed: false }, /not a record workflow id/],
      [{ workflowId: brokenId, allFailed: true }, /either a workflow id or --all-failed/],
      [{ allFailed: true, connection: 'north' }, /no connection named "north"\. Known connections: east, west/],
    ] as const) {
      const c = capture();
      assert.equal(await replay(options, c.deps), 1);
      assert.match(c.err(), message);
    }
  });

  it("shows one record's trail: both runs oldest first, the replay's reason, outcomes and activities", async () => {
    const c = capture();
    assert.equal(await audit({ workflowId: brokenId, json: true }, c.deps), 0, c.err());
    const runs = JSON.parse(c.out()) as AuditRun[];
    assert.deepEqual(
      runs.map((r) => [r.runId, r.status, r.outcome, r.targetId]),
      [
        [firstRunId, 'FAILED', 'failed', undefined],
        [newRunId, 'COMPLETED', 'created', 'account-1'],
      ],
    );
    const [first, second] = runs as [AuditRun, AuditRun];
    assert.deepEqual(first.input, [{ connection: 'east', entity: 'customer', sourceId: broken }]);
    assert.deepEqual(first.activities, [
      { activityType: 'lookUpTarget', status: 'completed', attempt: 1, result: null },
    ]);
    assert.match(first.failure ?? '', /price level is missing/);
    assert.deepEqual(second.resetFrom, { runId: firstRunId, reason: 'price level added' });
    assert.deepEqual(second.activities, [
      { activityType: 'lookUpTarget', status: 'completed', attempt: 1, result: 'account-1' },
    ]);
    assert.deepEqual(second.result, { targetId: 'account-1' });

    const bySource = capture();
    assert.equal(await audit({ sourceId: broken, json: false }, bySource.deps), 0, bySource.err());
    const text = bySource.out();
    assert.match(text, /run 1 .* FAILED {2}outcome failed {2}target -/);
    assert.match(text, /run 2 .* COMPLETED {2}outcome created {2}target account-1/);
    assert.match(text, new RegExp(`replay of run ${firstRunId}: price level added`));
    assert.match(text, /activity lookUpTarget {2}completed {2}"account-1"/);
    assert.ok(text.indexOf('run 1') < text.indexOf('run 2'));

    const none = capture();
    assert.equal(await audit({ sourceId: 'no-such-record', json: false }, none.deps), 1);
    assert.match(none.err(), /no record run matches source id no-such-record/);
  });

  it('exports every closed run as one decoded JSON line, owner-only, and prints the count', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'qbsync-audit-'));
    const out = join(dir, 'east.jsonl');
    const c = capture();
    assert.equal(await exportAudit({ connection: 'east', sinceMs: 3_600_000, out }, c.deps), 0, c.err());
    const lines = readFileSync(out, 'utf8').trimEnd().split('\n');
    const runs = lines.map((line) => JSON.parse(line) as AuditRun);
    // broken: failed + replayed; alsoBroken: failed + replayed. The west record is another connection's.
    assert.equal(runs.length, 4);
    assert.match(c.out(), new RegExp(`Exported 4 closed record runs of the last 1h to ${out.replace(/\//g, '\\/')}`));
    assert.deepEqual(
      runs.filter((r) => r.workflowId === brokenId).map((r) => r.input),
      [
        [{ connection: 'east', entity: 'customer', sourceId: broken }],
        [{ connection: 'east', entity: 'customer', sourceId: broken }],
      ],
    );
    for (const run of runs) {
      assert.ok(run.closeTime && run.startTime && run.runId, JSON.stringify(run));
      assert.equal(run.connection, 'east');
    }
    assert.equal(statSync(out).mode & 0o777, 0o600);

    const all = join(dir, 'all.jsonl');
    assert.equal(await exportAudit({ sinceMs: 3_600_000, out: all }, capture().deps), 0);
    assert.equal(readFileSync(all, 'utf8').trimEnd().split('\n').length, 5);
  });

  it('says clearly when Temporal is unreachable', async () => {
    const c = capture({ client: undefined, address: '127.0.0.1:1' });
    delete c.deps.client;
    assert.equal(await listFailed({ sinceMs: 60_000, json: false, limit: 10 }, c.deps), 1);
    assert.match(c.err(), /qbsync failed: Temporal is not reachable at 127\.0\.0\.1:1.*npm start/);
  });
});
