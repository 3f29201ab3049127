// The real `npm start` stack (dev server, worker, gateway, sandboxes, Web Connector simulators) in a temporary data dir
// on free ports, so a developer's own `npm start` keeps running; for the tests that need the stack as an operator
// runs it (the Web UI test, the supervision test).
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(__dirname, '..', '..');
const STOP_MS = 30_000;

export interface NpmStartStack {
  process: ChildProcess;
  dataDir: string;
  temporalAddress: string;
  uiUrl: string;
  gatewayUrl: string;
  output: () => string;
  /** Where its output and logs are kept once it is stopped. */
  artifactsDir: string;
}

/** The stacks started and not yet stopped. */
const running = new Set<NpmStartStack>();

export const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

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

export function lastLines(text: string, count = 40): string {
  return text.trimEnd().split('\n').slice(-count).join('\n');
}

const groupAlive = (pid: number): boolean => {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
};

// A test runner killed by its own timeout skips `after`; no stack may outlive it.
process.on('exit', () => {
  for (const stack of running) {
    const pid = stack.process.pid;
    if (pid !== undefined && groupAlive(pid)) process.kill(-pid, 'SIGKILL');
  }
});

/**
 * Runs `scripts/start.mjs` and resolves once it printed "is running"; a stack that does not get there is stopped (its
 * output and logs kept in `artifactsDir`) and the error says why.
 */
export async function startNpmStack(timeoutMs: number, artifactsDir: string): Promise<NpmStartStack> {
  const dataDir = mkdtempSync(join(tmpdir(), 'qbsync-stack-test-'));
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
  const stack: NpmStartStack = {
    process: child,
    dataDir,
    temporalAddress: `127.0.0.1:${temporalPort}`,
    uiUrl: `http://localhost:${uiPort}`,
    gatewayUrl: `http://127.0.0.1:${gatewayPort}`,
    output: () => output,
    artifactsDir,
  };
  running.add(stack);

  const until = Date.now() + timeoutMs;
  while (!output.includes('is running')) {
    const failure =
      child.exitCode !== null || child.signalCode !== null
        ? `\`npm start\` exited (${child.signalCode ?? child.exitCode}) before it was running`
        : Date.now() > until
          ? `\`npm start\` did not print "is running" within ${timeoutMs / 1000} s`
          : undefined;
    if (failure) {
      await stopNpmStack(stack);
      throw new Error(`${failure}:\n${lastLines(output)}`);
    }
    await sleep(500);
  }
  return stack;
}

/**
 * Ctrl-C as an operator would; whatever is still alive afterwards (its process group) is killed. The stack's output
 * and logs are kept in its `artifactsDir` (they outlive its data dir, for whoever has to find out why a run failed).
 */
export async function stopNpmStack(stack: NpmStartStack): Promise<void> {
  const { artifactsDir } = stack;
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
  running.delete(stack);
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
