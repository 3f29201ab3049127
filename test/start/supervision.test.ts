// `npm start` keeps running through crashes (issue 11): a worker or gateway killed with kill -9 (an OOM kill, an
// operator, a deploy) is started again and logged, and the sync goes on; only Ctrl-C stops the stack.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Client, Connection, ScheduleOverlapPolicy } from '@temporalio/client';
import { lastLines, sleep, startNpmStack, stopNpmStack, type NpmStartStack } from '../support/npmStartStack';

const root = resolve(__dirname, '..', '..');
const artifactsDir = join(root, 'test-results', 'supervision');
// Generous on purpose: the stack compiles the project first; a busy 2-core machine is slow, not wrong.
const STACK_START_MS = 6 * 60_000;
const COME_BACK_MS = 3 * 60_000;
const SYNC_MS = 6 * 60_000;

/** The pid of the stack's child running `script`, if one runs now. */
function childPid(stack: NpmStartStack, script: string): number | undefined {
  const table = execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(stack.process.pid)], { encoding: 'utf8' });
  for (const line of table.split('\n')) {
    const [pid, ...args] = line.trim().split(/\s+/);
    if (pid && args.includes(script)) return Number(pid);
  }
  return undefined;
}

async function waitFor<T>(
  what: string,
  stack: NpmStartStack,
  timeoutMs: number,
  check: () => T | undefined | Promise<T | undefined>,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > until) {
      assert.fail(`${what} did not happen within ${timeoutMs / 1000} s. Stack output:\n${lastLines(stack.output())}`);
    }
    await sleep(1_000);
  }
}

/** kill -9 of one child; resolves with the pid of the process that took its place. */
async function killAndSeeItBack(stack: NpmStartStack, name: string, script: string): Promise<number> {
  const pid = await waitFor(`${name} running`, stack, COME_BACK_MS, () => childPid(stack, script));
  process.kill(pid, 'SIGKILL');
  await waitFor(`the restart of the killed ${name} being logged`, stack, COME_BACK_MS, () =>
    stack.output().includes(`${name} (pid ${pid}) exited (SIGKILL)`) ? true : undefined,
  );
  const replacement = await waitFor(`a new ${name} process`, stack, COME_BACK_MS, () => {
    const now = childPid(stack, script);
    return now !== undefined && now !== pid ? now : undefined;
  });
  assert.equal(stack.process.exitCode, null, `npm start stopped after its ${name} was killed`);
  return replacement;
}

describe('`npm start` keeps running through crashes', { timeout: STACK_START_MS + 2 * COME_BACK_MS + SYNC_MS }, () => {
  let stack: NpmStartStack | undefined;
  let connection: Connection | undefined;

  before(
    async () => {
      stack = await startNpmStack(STACK_START_MS, artifactsDir);
    },
    { timeout: STACK_START_MS + 60_000 },
  );

  after(
    async () => {
      await connection?.close().catch(() => undefined);
      if (stack) await stopNpmStack(stack);
    },
    { timeout: 90_000 },
  );

  test('a worker and a gateway killed with kill -9 come back, and a customer added afterwards is synced', async () => {
    assert.ok(stack);
    const started = stack;
    await killAndSeeItBack(started, 'worker', 'lib/worker.js');
    await killAndSeeItBack(started, 'gateway', 'lib/gateway/main.js');
    await waitFor('the restarted gateway answering', started, COME_BACK_MS, async () => {
      try {
        return (await fetch(`${started.gatewayUrl}/healthz`)).ok ? true : undefined;
      } catch {
        return undefined;
      }
    });

    // A QuickBooks user adds a customer after both kills: only a served worker and gateway (the Web Connector
    // simulator reaches QuickBooks through the gateway) carry it to Dynamics.
    const endpoints = JSON.parse(readFileSync(join(started.dataDir, 'sandbox', 'endpoints.json'), 'utf8')) as {
      quickbooks: { url: string };
    };
    const name = `Supervised ${Date.now()}`;
    const added = await fetch(`${endpoints.quickbooks.url}/qbxml?companyFile=east`, {
      method: 'POST',
      body:
        '<?xml version="1.0" encoding="utf-8"?><?qbxml version="13.0"?><QBXML><QBXMLMsgsRq onError="stopOnError">' +
        `<CustomerAddRq><CustomerAdd><Name>${name}</Name></CustomerAdd></CustomerAddRq></QBXMLMsgsRq></QBXML>`,
    });
    const listId = /<ListID>([^<]+)<\/ListID>/.exec(await added.text())?.[1];
    assert.ok(listId, `QuickBooks did not add ${name}`);

    connection = await Connection.connect({ address: started.temporalAddress });
    const client = new Client({ connection, namespace: 'default' });
    const synced = `SyncConnection='east' AND SyncEntity='customer' AND SyncSourceId='${listId}' AND ExecutionStatus='Completed'`;
    await waitFor(`the customer's record sync completing (${synced})`, started, SYNC_MS, async () => {
      if ((await client.workflow.count(synced)).count > 0) return true;
      // The poll is hourly; ask for one now, as `qbsync schedule trigger` does (a cycle still running is left alone).
      await client.schedule.getHandle('poll-east').trigger(ScheduleOverlapPolicy.SKIP);
      await sleep(4_000);
      return undefined;
    });
    assert.match(started.output(), /worker restarted \(pid \d+\)/);
    assert.match(started.output(), /gateway restarted \(pid \d+\)/);
    assert.equal(started.process.exitCode, null, 'npm start stopped');
  });
});
