import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';

/**
 * The runner of `npm test` and of the cluster tier (scripts/test-runner.mjs) and the CI's closing line
 * (scripts/ci-totals.mjs). A test file that crashes or hangs must neither hang CI nor leave a server behind holding
 * its ports for the next run (the cluster tier's Temporal services are children of the test file), and CI must see
 * one line adding both tiers up, failing when either failed.
 */
const root = resolve(__dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'qbsync-test-runner-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A test file that starts a long-lived server process (as a cluster test starts Temporal) and then misbehaves. */
function fixture(name: string, misbehaviour: string): { file: string; pidFile: string } {
  const pidFile = join(dir, `${name}.pid`);
  const file = join(dir, `${name}.test.mjs`);
  writeFileSync(
    file,
    [
      "import { test } from 'node:test';",
      "import { spawn } from 'node:child_process';",
      "import { writeFileSync } from 'node:fs';",
      `test('${name}', async () => {`,
      "  const server = spawn('sleep', ['600'], { stdio: 'ignore' });",
      `  writeFileSync(${JSON.stringify(pidFile)}, String(server.pid));`,
      // A Temporal worker takes SIGTERM as a graceful shutdown that may never end.
      "  process.on('SIGTERM', () => undefined);",
      `  ${misbehaviour}`,
      '  await new Promise(() => undefined);',
      '});',
    ].join('\n'),
  );
  return { file, pidFile };
}

/** True while the process runs (a zombie waiting for its reaper has been killed). */
function alive(pid: number): boolean {
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

async function run(file: string, options: { timeoutMs: number; boundMs?: number }) {
  const { runTestFiles, specTotals } = await import('../../scripts/test-runner.mjs');
  const logged: string[] = [];
  // Without the outer runner's context, or the inner runner would report to it instead of running the file.
  const { NODE_TEST_CONTEXT: _outer, ...env } = process.env;
  const result = await runTestFiles({
    env,
    cwd: root,
    files: [file],
    tapFile: join(dir, 'out.tap'),
    stragglerMs: 5000,
    echo: false,
    log: (m) => logged.push(m),
    ...options,
  });
  return { ...result, totals: specTotals(result.output), logged };
}

describe('the test runner of npm test and the cluster tier', () => {
  it('a test file that crashes leaves no server behind: its process group is killed once the runner exits', async () => {
    const { file, pidFile } = fixture('crashes', 'setTimeout(() => process.exit(3), 200);');
    const result = await run(file, { timeoutMs: 120_000 });
    const pid = Number(readFileSync(pidFile, 'utf8'));
    await new Promise((r) => setTimeout(r, 500));
    const left = alive(pid);
    if (left) process.kill(pid, 'SIGKILL');
    assert.equal(left, false, 'the server the crashed file started is gone');
    assert.equal(result.totals.failed, 1);
    assert.notEqual(result.code, 0);
  });

  it('a test file that hangs past the bound is killed with everything it started, and counted', async () => {
    const { file, pidFile } = fixture('hangs', '');
    const result = await run(file, { timeoutMs: 600_000, boundMs: 20_000 });
    assert.equal(result.timedOut, true);
    assert.match(result.logged.join('\n'), /outlived their bound/);
    assert.ok(existsSync(pidFile), 'the file had started its server');
    const pid = Number(readFileSync(pidFile, 'utf8'));
    await new Promise((r) => setTimeout(r, 500));
    const left = alive(pid);
    if (left) process.kill(pid, 'SIGKILL');
    assert.equal(left, false, 'the server the hung file started is gone');
  });
});

describe("CI's closing line (scripts/ci-totals.mjs)", () => {
  const totals = (unit: number, cluster: number, summaries: Record<string, unknown>) => {
    const results = join(dir, `results-${unit}-${cluster}-${Object.keys(summaries).length}`);
    mkdirSync(results, { recursive: true });
    for (const [name, summary] of Object.entries(summaries)) {
      writeFileSync(join(results, name), JSON.stringify(summary));
    }
    const out = spawnSync(
      process.execPath,
      [join(root, 'scripts', 'ci-totals.mjs'), String(unit), String(cluster), results],
      {
        encoding: 'utf8',
      },
    );
    const lines = out.stdout.trim().split('\n');
    return { status: out.status, last: lines[lines.length - 1], text: out.stdout };
  };

  it('adds both tiers up in its last line', () => {
    const both = totals(0, 0, {
      'summary.json': { passed: 900, failed: 0, skipped: 2 },
      'cluster-summary.json': { ran: true, passed: 12, failed: 0, skipped: 0 },
    });
    assert.equal(both.last, '912 passed, 0 failed, 2 skipped');
    assert.equal(both.status, 0);
  });

  it('says why the cluster tier did not run, and passes on npm test alone', () => {
    const alone = totals(0, 0, {
      'summary.json': { passed: 900, failed: 0, skipped: 2 },
      'cluster-summary.json': { ran: false, reason: 'PostgreSQL is not reachable at 127.0.0.1:5432' },
    });
    assert.match(alone.text, /cluster tier: did not run: PostgreSQL is not reachable/);
    assert.equal(alone.last, '900 passed, 0 failed, 2 skipped');
    assert.equal(alone.status, 0);
  });

  it('fails when either tier failed, or died before its summary', () => {
    const clusterFailed = totals(0, 1, {
      'summary.json': { passed: 900, failed: 0, skipped: 0 },
      'cluster-summary.json': { ran: true, passed: 10, failed: 2, skipped: 0 },
    });
    assert.equal(clusterFailed.last, '910 passed, 2 failed, 0 skipped');
    assert.equal(clusterFailed.status, 1);
    const unitDied = totals(1, 0, {
      'cluster-summary.json': { ran: true, passed: 12, failed: 0, skipped: 0 },
    });
    assert.equal(unitDied.last, '12 passed, 1 failed, 0 skipped');
    assert.equal(unitDied.status, 1);
    const exitedBadly = totals(0, 1, {
      'summary.json': { passed: 900, failed: 0, skipped: 0 },
      'cluster-summary.json': { ran: true, passed: 12, failed: 0, skipped: 0 },
    });
    assert.equal(exitedBadly.last, '912 passed, 1 failed, 0 skipped');
    assert.equal(exitedBadly.status, 1);
  });
});
