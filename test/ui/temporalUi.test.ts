// The Web UI that `npm start` serves shows a record's payloads decoded through the gateway's codec endpoint, while
// the history Temporal stores holds them only encrypted. Runs the real `npm start` stack (dev server, worker, gateway,
// sandboxes, Web Connector simulators) in a temporary data dir on free ports, so a developer's own `npm start` keeps
// running, and drives Debian's Chromium (scripts/ensure-browser.mjs installs it) with playwright-core.
import assert from 'node:assert/strict';
import { accessSync, constants, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { chromium, type Browser, type Page } from 'playwright-core';
import { lastLines, sleep, startNpmStack, stopNpmStack, type NpmStartStack } from '../support/npmStartStack';

const root = resolve(__dirname, '..', '..');
const artifactsDir = join(root, 'test-results', 'ui');
const screenshotPath = join(artifactsDir, 'record-workflow.png');
const chromiumPath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

// Generous on purpose: the stack compiles the project first, and the first Web Connector run comes on its 20 s timer.
const STACK_START_MS = 6 * 60_000;
const FIRST_RECORD_MS = 4 * 60_000;
const UI_MS = 90_000;
const STOP_MS = 30_000;

/** The stack this file started, until it is stopped. */
let running: NpmStartStack | undefined;

// QuickBooks customers carry the whole record, name included, in their workflow input.
const recordQuery = "SyncEntity='customer' AND SyncConnection='east'";
const ENCRYPTED = 'binary/encrypted';

interface JsonPayload {
  metadata?: Record<string, string>;
  data?: string;
}

interface RecordWorkflow {
  workflowId: string;
  runId: string;
  listId: string;
  customerName: string;
}

async function decodeWithCodecEndpoint(stack: NpmStartStack, payloads: JsonPayload[]): Promise<JsonPayload[]> {
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

/**
 * A `patched()` call leaves a marker that Temporal's core SDK writes itself, outside the data converter and so outside
 * the codec: `{"id": <patch name>, "deprecated": <bool>}` as json/plain. It carries the patch name and nothing of the
 * record, so it is the one payload allowed in clear; anything more in it fails the test.
 */
function isPatchMarker({ path, encoding, data }: FoundPayload): boolean {
  if (encoding !== 'json/plain' || !/\.markerRecordedEventAttributes\.details\.patch-data\.payloads\[0\]$/.test(path))
    return false;
  try {
    const marker = JSON.parse(data.toString('utf8')) as Record<string, unknown>;
    const keys = Object.keys(marker).sort();
    return (
      keys.join(',') === 'deprecated,id' &&
      typeof marker.id === 'string' &&
      /^[a-z0-9-]+$/.test(marker.id) &&
      typeof marker.deprecated === 'boolean'
    );
  } catch {
    return false;
  }
}

describe('Temporal Web UI of `npm start`', { timeout: STACK_START_MS + FIRST_RECORD_MS + 4 * UI_MS }, () => {
  let stack: NpmStartStack;
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
      stack = await startNpmStack(STACK_START_MS, artifactsDir);
      running = stack;
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
      if (running) await stopNpmStack(running);
      running = undefined;
    },
    { timeout: STOP_MS + 30_000 },
  );

  test('the stored history holds the record only encrypted', async () => {
    const history = await client.workflow.getHandle(record.workflowId, record.runId).fetchHistory();
    const payloads = payloadsOf(history.events ?? [], 'events');
    assert.ok(payloads.length > 0, `no payloads in the history of ${record.workflowId}`);
    const inClear = payloads.filter((payload) => payload.encoding !== ENCRYPTED && !isPatchMarker(payload));
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
