// Makes sure a headless Chromium exists for the Web UI test (test/ui/): Debian's `chromium` package, driven by
// playwright-core through its executable path. Playwright's own browser download is not used: `npm test` may reach
// only the Debian mirror and the npm registry.
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const DEFAULT_CHROMIUM_PATH = '/usr/bin/chromium';

const isExecutable = (path) => {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

function onPath(command) {
  return spawnSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' }).status === 0;
}

function aptGet(args, log) {
  log(`apt-get ${args.join(' ')}`);
  // The dpkg lock timeout lets a parallel apt run (another engineer, unattended upgrades) finish instead of failing us.
  const result = spawnSync('apt-get', ['-o', 'DPkg::Lock::Timeout=600', ...args], {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  return result.status === 0;
}

/** The Chromium executable for the UI test (CHROMIUM_PATH or /usr/bin/chromium), installing Debian's package if needed. */
export function ensureChromium(log = (m) => console.error(m)) {
  const configured = process.env.CHROMIUM_PATH;
  const path = configured || DEFAULT_CHROMIUM_PATH;
  if (isExecutable(path)) return path;
  if (configured) {
    // Installing the package would put Chromium at /usr/bin/chromium, not where the caller asked for it.
    throw new Error(
      `CHROMIUM_PATH=${configured} is not an executable file. Fix the path, or unset it to use ${DEFAULT_CHROMIUM_PATH}.`,
    );
  }
  const manualHint =
    'Install it yourself (Debian/Ubuntu: `apt-get install chromium`), or set CHROMIUM_PATH to a Chromium executable.';
  if (!onPath('apt-get')) throw new Error(`${path} is missing and apt-get is not available. ${manualHint}`);
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw new Error(`${path} is missing and installing it needs root. ${manualHint}`);
  }
  log(`${path} is missing: installing Debian's chromium package (once)...`);
  const install = ['install', '-y', 'chromium'];
  if (!aptGet(install, log)) {
    // A fresh machine or container often has no package lists yet.
    log('the install failed; refreshing the package lists and trying again...');
    if (!aptGet(['update'], log) || !aptGet(install, log)) {
      throw new Error(`apt-get could not install chromium (see the output above). ${manualHint}`);
    }
  }
  if (!isExecutable(path))
    throw new Error(`the chromium package was installed, but ${path} is not there. ${manualHint}`);
  const version = spawnSync(path, ['--version'], { encoding: 'utf8' });
  log(`Chromium installed: ${path} (${(version.stdout || version.stderr).trim()})`);
  return path;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    console.log(ensureChromium((m) => console.error(`[ensure-browser] ${m}`)));
  } catch (error) {
    console.error(`[ensure-browser] ${error.message}`);
    process.exit(1);
  }
}
