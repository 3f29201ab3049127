// The Web UI that `npm start` serves shows a record's payloads decoded through the gateway's codec endpoint, while
// the history Temporal stores holds them only encrypted. Runs the real `npm start` stack (dev server, worker, gateway,
// sandboxes, Web Connector simulators) in a temporary data dir on free ports, so a developer's own `npm start` keeps
// running, and drives Debian's Chromium (scripts/ensure-browser.mjs installs it) with playwright-core.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { chromium, type Browser, type Page } from 'playwright-core';

const root = resolve(__dirname, '..', '..');
const artifactsDir = join(root, 'test-results', 'ui');
const screenshotPath = join(artifactsDir, 'record-workflow.png');
const chromiumPath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

// Generous on purpose: the stack compiles the project first, and the first Web Connector run comes on its 20 s timer.
const STACK_START_MS = 6 * 60_000;
const FIRST_RECORD_MS = 4 * 60_000;
const UI_MS = 90_000;
const STOP_MS = 30_000;

// QuickBooks customers carry the whole record, name included, in their workflow input.
const recordQuery = "SyncEntity='customer' AND SyncConnection='east'";
const ENCRYPTED = 'binary/encrypted';

interface JsonPayload {
  metadata?: Record<string, string>;
  data?: string;
}

interface Stack {
  process: ChildProcess;
  dataDir: string;
  temporalAddress: string;
  uiUrl: string;
  gatewayUrl: string;
  output: () => string;
}

interface RecordWorkflow {
  workflowId: string;
  runId: string;
  listId: string;
  customerName: string;
}

/** The stack this file started, until it is stopped. */
let running: Stack | undefined;

const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

async function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => done(port));
    });
  });
}

function lastLines(text: string, count = 40): string {
  return text.trimEnd().split('\n').slice(-count).join('\n');
}

async function startStack(): Promise<Stack> {
  const dataDir = mkdtempSync(join(tmpdir(), 'qbsync-ui-test-'));
  const [temporalPort, uiPort, gatewayPort] = [await freePort(), await freePort(), await freePort()];
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    CONNECTOR_DATA_DIR: dataDir,
    TEMPORAL_PORT: String(temporalPort),
    TEMPORAL_UI_PORT: String(uiPort),
    GATEWAY_PORT: String(gatewayPort),
    // 0: a free port, or (worker metrics) none, so nothing here collides with a developer's running stack.
    SANDBOX_QB_PORT: '0',
    SANDBOX_DATAVERSE_PORT: '0',
    WORKER_METRICS_PORT: '0',
    WORKER_SDK_METRICS_PORT: '0',
  };
  // The stack must use its own sandbox, keys and tokens (all in the temporary data dir), whatever the shell exports.
  for (const name of [
    'CONNECTOR_CONFIG',
    'QBSYNC_CONFIG',
    'TEMPORAL_ADDRESS',
    'QBSYNC_UI_ORIGIN',
    'QBSYNC_PAYLOAD_KEYS',
    'QBSYNC_CODEC_TOKEN',
    'QBSYNC_CODEC_UI_TOKEN',
    'QBSYNC_SECRETS_KEY',
    'SANDBOX_QBWC',
  ]) {
    delete env[name];
  }
  // Its own process group, so whatever `npm start` leaves behind can be stopped as a whole.
  const child = spawn(process.execPath, [join(root, 'scripts', 'start.mjs')], {
    cwd: root,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const stack: Stack = {
    process: child,
    dataDir,
    temporalAddress: `127.0.0.1:${temporalPort}`,
    uiUrl: `http://localhost:${uiPort}`,
    gatewayUrl: `http://127.0.0.1:${gatewayPort}`,
    output: () => output,
  };
  running = stack;

  const until = Date.now() + STACK_START_MS;
  while (!output.includes('is running')) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `\`npm start\` exited (${child.signalCode ?? child.exitCode}) before it was running:\n${lastLines(output)}`,
      );
    }
    if (Date.now() > until) {
      throw new Error(
        `\`npm start\` did not print "is running" within ${STACK_START_MS / 1000} s:\n${lastLines(output)}`,
      );
    }
    await sleep(500);
  }
  return stack;
}

const groupAlive = (pid: number): boolean => {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Ctrl-C as an operator would; whatever is still alive afterwards (its process group) is killed. */
async function stopStack(stack: Stack): Promise<void> {
  const pid = stack.process.pid;
  if (pid !== undefined) {
    if (stack.process.exitCode === null && stack.process.signalCode === null) {
      let timer: NodeJS.Timeout | undefined;
      const exited = new Promise<void>((done) => {
        timer = setTimeout(done, STOP_MS);
        stack.process.once('exit', () => done());
      });
      stack.process.kill('SIGINT');
      await exited;
      // A pending timer would keep the test process alive for the rest of STOP_MS.
      clearTimeout(timer);
    }
    for (let waited = 0; groupAlive(pid) && waited < 5_000; waited += 250) await sleep(250);
    if (groupAlive(pid)) process.kill(-pid, 'SIGKILL');
  }
  // The stack's logs outlive its data dir, for whoever has to find out why a run failed.
  const logs = join(stack.dataDir, 'logs');
  rmSync(join(artifactsDir, 'stack-logs'), { recursive: true, force: true });
  mkdirSync(artifactsDir, { recursive: true });
  writeFileSync(join(artifactsDir, 'stack-output.txt'), stack.output());
  try {
    cpSync(logs, join(artifactsDir, 'stack-logs'), { recursive: true });
  } catch {
    // No logs: the stack never got as far as starting a process.
  }
  rmSync(stack.dataDir, { recursive: true, force: true });
}

// A test runner killed by its own timeout skips `after`; the stack must not outlive it.
process.on('exit', () => {
  const pid = running?.process.pid;
  if (pid !== undefined && groupAlive(pid)) process.kill(-pid, 'SIGKILL');
});

async function decodeWithCodecEndpoint(stack: Stack, payloads: JsonPayload[]): Promise<JsonPayload[]> {
  const token = readFileSync(join(stack.dataDir, 'keys', 'codec-token'), 'utf8').trim();
  const response = await fetch(`${stack.gatewayUrl}/codec/decode`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ payloads }),
  });
  assert.equal(response.status, 200, `the codec endpoint refused to decode: ${await response.clone().text()}`);
  return ((await response.json()) as { payloads: JsonPayload[] }).payloads;
}

const toJsonPayload = (payload: { metadata?: Record<string, Uint8Array> | null; data?: Uint8Array | null }) => ({
  metadata: Object.fromEntries(
    Object.entries(payload.metadata ?? {}).map(([key, value]) => [key, Buffer.from(value).toString('base64')]),
  ),
  data: Buffer.from(payload.data ?? new Uint8Array()).toString('base64'),
});

interface FoundPayload {
  path: string;
  encoding: string;
  data: Buffer;
}

/** Every payload in a raw history, except search attributes (the server indexes those, so they are never encoded). */
function payloadsOf(value: unknown, path: string, found: FoundPayload[] = []): FoundPayload[] {
  if (value === null || typeof value !== 'object' || value instanceof Uint8Array) return found;
  if (Array.isArray(value)) {
    value.forEach((item, index) => payloadsOf(item, `${path}[${index}]`, found));
    return found;
  }
  const object = value as Record<string, unknown>;
  const metadata = object.metadata as Record<string, unknown> | undefined;
  if (metadata && metadata.encoding instanceof Uint8Array) {
    const data = object.data instanceof Uint8Array ? Buffer.from(object.data) : Buffer.alloc(0);
    found.push({ path, encoding: Buffer.from(metadata.encoding).toString('utf8'), data });
    return found;
  }
  for (const [key, child] of Object.entries(object)) {
    if (key === 'searchAttributes') continue;
    payloadsOf(child, `${path}.${key}`, found);
  }
  return found;
}

describe('Temporal Web UI of `npm start`', { timeout: STACK_START_MS + FIRST_RECORD_MS + 4 * UI_MS }, () => {
  let stack: Stack;
  let connection: Connection | undefined;
  let client: Client;
  let record: RecordWorkflow;
  let browser: Browser | undefined;

  before(
    async () => {
      try {
        accessSync(chromiumPath, constants.X_OK);
      } catch {
        throw new Error(
          `No Chromium at ${chromiumPath}. \`npm test\` installs Debian's package through scripts/ensure-browser.mjs; ` +
            'run `node scripts/ensure-browser.mjs` (as root), or set CHROMIUM_PATH.',
        );
      }
      stack = await startStack();
      // No data converter: this client sees the history exactly as Temporal stores it.
      connection = await Connection.connect({ address: stack.temporalAddress });
      client = new Client({ connection, namespace: 'default' });

      const until = Date.now() + FIRST_RECORD_MS;
      let found: { workflowId: string; runId: string } | undefined;
      while (!found) {
        for await (const execution of client.workflow.list({ query: recordQuery, pageSize: 1 })) {
          found = { workflowId: execution.workflowId, runId: execution.runId };
          break;
        }
        if (found) break;
        if (Date.now() > until) {
          throw new Error(
            `No workflow matched ${recordQuery} within ${FIRST_RECORD_MS / 1000} s of the stack running; the first poll cycle ` +
              `should have synced the seeded customers. Stack output:\n${lastLines(stack.output())}`,
          );
        }
        await sleep(2_000);
      }

      const history = await client.workflow.getHandle(found.workflowId, found.runId).fetchHistory();
      const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
      const input = started?.input?.payloads?.[0];
      assert.ok(input, `${found.workflowId} has no input payload`);
      const [decoded] = await decodeWithCodecEndpoint(stack, [toJsonPayload(input)]);
      const { listId, record: quickbooksRecord } = JSON.parse(
        Buffer.from(decoded?.data ?? '', 'base64').toString(),
      ) as {
        listId?: string;
        record?: { name?: string };
      };
      assert.ok(
        listId && quickbooksRecord?.name,
        `the decoded input of ${found.workflowId} carries no ListID and customer name`,
      );
      record = { ...found, listId, customerName: quickbooksRecord.name };
    },
    { timeout: STACK_START_MS + FIRST_RECORD_MS + UI_MS },
  );

  after(
    async () => {
      await browser?.close().catch(() => undefined);
      await connection?.close().catch(() => undefined);
      if (running) await stopStack(running);
      running = undefined;
    },
    { timeout: STOP_MS + 30_000 },
  );

  test('the stored history holds the record only encrypted', async () => {
    const history = await client.workflow.getHandle(record.workflowId, record.runId).fetchHistory();
    const payloads = payloadsOf(history.events ?? [], 'events');
    assert.ok(payloads.length > 0, `no payloads in the history of ${record.workflowId}`);
    const inClear = payloads.filter((payload) => payload.encoding !== ENCRYPTED);
    assert.deepEqual(
      inClear.map(({ path, encoding }) => `${path}: ${encoding}`),
      [],
      `payloads of ${record.workflowId} stored without encryption`,
    );
    const named = payloads.filter((payload) => payload.data.includes(record.customerName));
    assert.deepEqual(
      named.map(({ path }) => path),
      [],
      `"${record.customerName}" is readable in the stored history`,
    );
  });

  test(
    'the Web UI finds the record by its search attributes and shows its input decoded',
    { timeout: 4 * UI_MS },
    async () => {
      browser = await chromium.launch({
        executablePath: chromiumPath,
        headless: true,
        // Root (CI, containers) has no user namespaces for Chromium's sandbox; a small /dev/shm crashes tabs.
        args: ['--no-sandbox', '--disable-dev-shm-usage'],
      });
      const page: Page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      const codecCalls: string[] = [];
      page.on('response', (response) => {
        const url = new URL(response.url());
        if (url.origin === stack.gatewayUrl && url.pathname.endsWith('/decode'))
          codecCalls.push(String(response.status()));
      });
      try {
        const query = `${recordQuery} AND SyncSourceId='${record.listId}'`;
        await page.goto(`${stack.uiUrl}/namespaces/default/workflows?query=${encodeURIComponent(query)}`);
        const link = page.locator(`a[href*="/workflows/${encodeURIComponent(record.workflowId)}/"]`).first();
        try {
          await link.waitFor({ timeout: UI_MS });
        } catch {
          assert.fail(
            `The Web UI's workflow list for ${query} shows no link to ${record.workflowId}. Page text:\n` +
              lastLines(await page.locator('body').innerText(), 30),
          );
        }
        await link.click();

        // The UI renders payloads as indented JSON once the codec endpoint has decoded them.
        const expected = `"name": ${JSON.stringify(record.customerName)}`;
        const until = Date.now() + UI_MS;
        let text = '';
        while (!text.includes(expected)) {
          if (Date.now() > until) {
            assert.fail(
              `The Web UI page of ${record.workflowId} never showed ${expected} (codec decode calls: ` +
                `${codecCalls.join(', ') || 'none'}). Page text:\n${lastLines(text, 60)}`,
            );
          }
          await sleep(500);
          text = await page.locator('body').innerText();
        }
        const inputHeading = text.indexOf('Input\n');
        assert.ok(
          inputHeading >= 0 && text.indexOf(expected, inputHeading) > inputHeading,
          'the decoded name is not under the Input heading',
        );
        assert.ok(
          codecCalls.includes('200'),
          `the page showed the name without a successful codec call (${codecCalls.join(', ') || 'none'})`,
        );
      } finally {
        mkdirSync(artifactsDir, { recursive: true });
        await page.screenshot({ path: screenshotPath }).catch(() => undefined);
      }
    },
  );
});
