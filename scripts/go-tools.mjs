// Builds Go programs from Go modules into .tools/bin, once, one build at a time across every process of this checkout
// (npm test, npm start, npm run cluster and the cluster tests may all ask at once). Nothing but Go modules is fetched.
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, statSync, unlinkSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const toolsBin = join(root, '.tools', 'bin');

export function onPath(name) {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  }
  return undefined;
}

export function goCommand() {
  return onPath('go') ?? (existsSync('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : undefined);
}

function sleepSync(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * `go install` of `packages` (each `module/path@version`) into `dir` (.tools/bin by default) unless every one of `binaries` is there.
 * Returns false when Go is missing or the build failed (its output went to stderr). `toolchain` pins GOTOOLCHAIN for
 * modules that need a newer Go than the machine's: the go command then fetches that toolchain from the module proxy.
 * Builds run at low priority: the machines are small and shared.
 */
export function installGoTools({ what, packages, binaries, dir = toolsBin, ldflags = '-s -w', toolchain, log }) {
  const targets = binaries.map((b) => join(dir, b));
  const built = () => targets.every((t) => existsSync(t));
  if (built()) return true;
  const go = goCommand();
  if (!go) return false;
  mkdirSync(dir, { recursive: true });
  mkdirSync(toolsBin, { recursive: true });
  const lock = join(toolsBin, '.build.lock');
  let fd;
  for (let waited = 0; ; waited += 2000) {
    try {
      fd = openSync(lock, 'wx');
      break;
    } catch {
      if (waited > 60 * 60 * 1000) throw new Error(`Timed out waiting for another Go build (lock ${lock}).`);
      sleepSync(2000);
      if (built() && !existsSync(lock)) return true;
    }
  }
  try {
    if (built()) return true;
    log(`Building ${what} from Go modules into ${dir} (once; this takes several minutes)...`);
    const nice = onPath('nice');
    const args = ['install', '-trimpath', '-ldflags', ldflags, ...packages];
    const result = spawnSync(nice ?? go, nice ? ['-n', '15', go, ...args] : args, {
      stdio: ['ignore', 'inherit', 'inherit'],
      env: {
        ...process.env,
        CGO_ENABLED: '0',
        GOBIN: dir,
        GOFLAGS: '-buildvcs=false',
        ...(toolchain ? { GOTOOLCHAIN: toolchain } : {}),
      },
    });
    if (result.status !== 0 || !built()) return false;
    log(`${what} built into ${dir}`);
    return true;
  } finally {
    closeSync(fd);
    unlinkSync(lock);
  }
}
