// Runs test files with node's test runner for `npm test` and `npm run test:cluster`, so that no test can hang CI nor
// leave a process behind. The runner and every process it starts (test files, Temporal servers, connector processes)
// form one process group, which is killed as a whole:
// - a minute after the runner has printed its totals but not exited: a file that outlived its timeout got SIGTERM,
//   which a Temporal worker takes as a graceful shutdown that may never end, and the runner waits for it (a fresh-clone
//   CI run sat 10 minutes there);
// - once the whole run outlives `boundMs`, if given;
// - in every case once the runner has exited: a server a killed test file had started outlives it, holding its ports
//   for the next run.
import { spawn } from 'node:child_process';

/**
 * Runs `files` (paths relative to `cwd`) one at a time, each bounded by `timeoutMs`; spec output to this process's
 * stdout (unless `echo` is false), TAP to `tapFile`. Resolves `{ code, output, timedOut }`, `output` being the spec
 * text. `stragglerMs`: how long after its totals the runner may take to exit.
 */
export function runTestFiles({
  cwd,
  files,
  timeoutMs,
  tapFile,
  boundMs,
  stragglerMs = 60_000,
  echo = true,
  env = process.env,
  log = console.log,
}) {
  return new Promise((resolveRun) => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--test',
        '--test-concurrency=1',
        `--test-timeout=${timeoutMs}`,
        '--test-reporter=spec',
        '--test-reporter-destination=stdout',
        '--test-reporter=tap',
        `--test-reporter-destination=${tapFile}`,
        ...files,
      ],
      { cwd, stdio: ['ignore', 'pipe', 'inherit'], env, detached: true },
    );
    const killGroup = () => {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // Nothing left in the group.
      }
    };
    // Stopping this script (Ctrl-C, CI's own timeout) stops the group too: it is not in this script's group.
    const onSignal = (signal) => {
      log(`${signal}: stopping the tests and every process they started`);
      killGroup();
      process.exit(1);
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    let timedOut = false;
    const bound =
      boundMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            log(`the tests outlived their bound of ${Math.round(boundMs / 60_000)} minutes; killing them`);
            killGroup();
          }, boundMs);
    let output = '';
    let straggler;
    child.stdout.on('data', (chunk) => {
      if (echo) process.stdout.write(chunk);
      output += chunk.toString();
      if (!straggler && /^ℹ duration_ms /m.test(output)) {
        straggler = setTimeout(() => {
          log(`the test runner did not exit ${Math.round(stragglerMs / 1000)} s after its totals; killing it`);
          killGroup();
        }, stragglerMs);
      }
    });
    child.on('exit', (code) => {
      if (bound) clearTimeout(bound);
      if (straggler) clearTimeout(straggler);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      killGroup();
      resolveRun({ code, output, timedOut });
    });
  });
}

/** The runner's own totals: the spec reporter ends each run with "ℹ pass N" and the like; the last such line counts. */
export function specTotals(output) {
  const count = (name) => {
    const matches = [...output.matchAll(new RegExp(`^ℹ ${name} (\\d+)`, 'gm'))];
    return matches.length ? Number(matches[matches.length - 1][1]) : 0;
  };
  return {
    passed: count('pass'),
    failed: count('fail') + count('cancelled'),
    skipped: count('skipped') + count('todo'),
  };
}
