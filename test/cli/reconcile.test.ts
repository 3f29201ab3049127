import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse, stringify } from 'yaml';
import { parseTimeout, reconcileCommand, ReconcileExit, runReconcile } from '../../src/cli/reconcileCommand';

const dataDir = mkdtempSync(join(tmpdir(), 'qbsync-reconcile-'));
after(() => rmSync(dataDir, { recursive: true, force: true }));

/** Runs `body` with these environment variables set (undefined: unset), then puts the environment back. */
async function withEnvironment<T>(vars: Record<string, string | undefined>, body: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((name) => [name, process.env[name]]));
  const apply = (values: Record<string, string | undefined>) => {
    for (const [name, value] of Object.entries(values)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
  apply(vars);
  try {
    return await body();
  } finally {
    apply(saved);
  }
}

describe('qbsync reconcile', () => {
  for (const [text, ms] of [
    ['90s', 90_000],
    ['10m', 600_000],
    ['2h', 7_200_000],
    ['15', 900_000],
    ['1.5m', 90_000],
  ] as const) {
    it(`reads --timeout ${text} as ${ms} ms`, () => assert.equal(parseTimeout(text), ms));
  }
  for (const bad of ['', 'abc', '0', '-5m', '10d']) {
    it(`refuses --timeout "${bad}"`, () => assert.throws(() => parseTimeout(bad), /duration such as/));
  }

  it('refuses a connection it does not know, before starting anything', async () => {
    const err: string[] = [];
    const code = await runReconcile(
      { connection: 'north', json: false, timeoutMs: 60_000 },
      { address: '127.0.0.1:1', knownConnections: ['east', 'west'], out: () => undefined, err: (l) => err.push(l) },
    );
    assert.equal(code, ReconcileExit.Error);
    assert.match(err.join('\n'), /no connection named "north"\. Known connections: east, west/);
  });

  it('says clearly that Temporal is unreachable and exits 2', async () => {
    const err: string[] = [];
    const code = await runReconcile(
      { connection: 'east', json: false, timeoutMs: 60_000 },
      { address: '127.0.0.1:1', out: () => undefined, err: (l) => err.push(l) },
    );
    assert.equal(code, ReconcileExit.Error);
    assert.match(err.join('\n'), /Temporal is not reachable at 127\.0\.0\.1:1.*npm start/);
  });

  it('reaches the configured Temporal with its TLS and API key, as the other operator commands do', async (t) => {
    // A listener that keeps the first bytes each client sends: TLS opens with a handshake record (0x16), plain-text
    // gRPC with the HTTP/2 preface ("PRI * HTTP/2.0").
    const firstBytes: Buffer[] = [];
    const listener = createServer((socket) => {
      socket.on('error', () => undefined);
      socket.once('data', (data) => {
        firstBytes.push(data);
        socket.destroy();
      });
    });
    await new Promise<void>((done) => listener.listen(0, '127.0.0.1', done));
    t.after(() => listener.close());
    const config = parse(readFileSync(resolve(__dirname, '../../config/qbsync.example.yaml'), 'utf8')) as {
      temporal: Record<string, unknown>;
    };
    config.temporal = {
      ...config.temporal,
      address: `127.0.0.1:${(listener.address() as AddressInfo).port}`,
      apiKey: 'env:RECONCILE_TEST_TEMPORAL_API_KEY',
    };
    const configFile = join(dataDir, 'qbsync.yaml');
    writeFileSync(configFile, stringify(config));
    const errors: string[] = [];
    t.mock.method(console, 'error', (line: unknown) => errors.push(String(line)));

    const exitCode = await withEnvironment(
      {
        QBSYNC_CONFIG: configFile,
        RECONCILE_TEST_TEMPORAL_API_KEY: 'operator-api-key',
        QBSYNC_PAYLOAD_KEYS: `k1:${randomBytes(32).toString('base64')}`,
        TEMPORAL_ADDRESS: undefined,
        TEMPORAL_NAMESPACE: undefined,
        TEMPORAL_API_KEY: undefined,
        TEMPORAL_TLS: undefined,
        TEMPORAL_TLS_SERVER_CA_CERT_PATH: undefined,
        TEMPORAL_TLS_CLIENT_CERT_PATH: undefined,
        TEMPORAL_TLS_CLIENT_KEY_PATH: undefined,
        TEMPORAL_TLS_SERVER_NAME: undefined,
      },
      async () => {
        try {
          await reconcileCommand(() => dataDir).parseAsync(['-c', 'east', '--timeout', '1m'], { from: 'user' });
          return process.exitCode;
        } finally {
          process.exitCode = undefined;
        }
      },
    );

    assert.equal(exitCode, ReconcileExit.Error, errors.join('\n'));
    assert.ok(firstBytes.length > 0, `the command never reached the configured address: ${errors.join('\n')}`);
    assert.equal(
      firstBytes[0]?.[0],
      0x16,
      `not a TLS handshake: ${JSON.stringify(firstBytes[0]?.subarray(0, 16).toString())}`,
    );
    assert.match(errors.join('\n'), /temporal\.tls and temporal\.apiKey/);
  });
});
