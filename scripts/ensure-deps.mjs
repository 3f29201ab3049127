// Installs npm packages when node_modules is missing or older than package-lock.json.
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export function ensureNodeModules(log = (m) => console.error(m)) {
  const lock = join(root, 'package-lock.json');
  const installed = join(root, 'node_modules', '.package-lock.json');
  if (existsSync(installed) && statSync(installed).mtimeMs >= statSync(lock).mtimeMs) return;
  // A linked node_modules (a git worktree sharing another checkout's packages) has a lock file newer than its install
  // only because the checkout is new: \`npm ci\` would empty the other checkout's packages through the link.
  const modules = join(root, 'node_modules');
  if (existsSync(modules) && lstatSync(modules).isSymbolicLink()) {
    log('node_modules is a link to another checkout: using its packages as they are (run npm ci there to update).');
    return;
  }
  log('Installing npm packages (npm ci)...');
  const ci = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
  if (ci.status === 0) return;
  // npm records some packages' optional platform binaries (e.g. @swc/core-*) unevenly in the lock file, and `npm ci`
  // then refuses it; `npm install` resolves the same locked versions and tolerates that.
  log('npm ci refused the lock file; installing with npm install instead...');
  const install = spawnSync('npm', ['install', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
  if (install.status !== 0) throw new Error('npm install failed; see the output above.');
}

// `npm run build` itself: src/ to lib/, then the workflow bundle lib/worker.js runs (lib/workflow-bundle.js), written
// here, in a process of its own, so no worker holds the bundling's memory.
export function build(log = (m) => console.error(m)) {
  log('Compiling TypeScript and bundling the workflows (npm run build)...');
  const result = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) throw new Error('The build failed; see the output above.');
}
